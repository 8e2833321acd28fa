"""Deaths and survivors' benefits (遗属待遇).

A death is reported by a family member online (with a commitment or a death certificate's number) or by staff from
a data match. From then on the pension stops: the award is payable up to the month of death only, and a payment
already made for a later month becomes an amount to recover (``PensionPayment.recoverable``; the total is on the
report).

The survivors' claim is computed by the national schedule (``portal.policy.rules.survivor``): the funeral grant,
the survivor benefit (months by contribution years, less years drawn for a retiree, at least 9), and the
personal-account balance to inherit (for a retiree, what the account part of the pension had not yet paid out). It
is a ``survivor_claim`` case decided by two people; approval stores the ``SurvivorAward`` (one per death), so a
second claim for the same death is refused with the first one's reference.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import update
from sqlmodel import Session, select

from portal import audit
from portal.auth.principal import SYSTEM, Actor
from portal.errors import N_, Conflict, Msg, ValidationFailed
from portal.identifiers import InvalidIdentifier, parse_resident_id
from portal.models import DeathReport, PensionPayment, Person, SurvivorAward
from portal.models.queue import Case
from portal.policy.dates import month_of, months_between
from portal.policy.money import from_fen, to_fen
from portal.policy.rules.survivor import SurvivorResult, survivor_benefits
from portal.queue import cases, notices
from portal.queue.kinds import CheckResult, Kind, KindSpec
from portal.queue.states import State
from portal.services import claims
from portal.services.person_requests import Filing
from portal.services.records import build_record

EVIDENCE = ("commitment", "certificate")
RELATIONSHIPS = ("spouse", "child", "parent", "sibling", "other")
COMMITMENT = N_("I confirm that the person named here has died on the date given, that I am their family member as "
                "stated, and that what I report is true. A false report means repaying what is paid because of it, "
                "and affects my credit record.")


def _deceased(session: Session, id_number: str, today: date, errors: dict) -> Person | None:
    try:
        number = parse_resident_id(id_number, today=today).number
    except InvalidIdentifier:
        number = ""
    person = session.exec(select(Person).where(Person.id_number == number)).first() if number else None
    if person is None:
        errors["id_number"] = Msg(N_("No insured person has this identity number. Check it against their identity "
                                     "card or household register."))
    return person


def report_death(session: Session, *, reporter: Person | None, id_number: str, date_of_death: str, evidence: str,
                 certificate_number: str, relationship: str, commitment: bool, actor: Actor, now: datetime,
                 today: date, staff_id: int | None = None) -> DeathReport:
    """Records a death: payments stop after its month, later payments become recoverable."""
    errors: dict[str, Msg] = {}
    person = _deceased(session, id_number, today, errors)
    if person is not None and reporter is not None and person.id == reporter.id:
        errors["id_number"] = Msg(N_("Enter the identity number of the person who died."))
    try:
        died = date.fromisoformat(date_of_death)
    except ValueError:
        died = None
    if died is None or died > today or (person is not None and died < person.birth_date):
        errors["date_of_death"] = Msg(N_("Enter the date of death as YYYY-MM-DD, not in the future."))
    if evidence not in EVIDENCE and staff_id is None:
        errors["evidence"] = Msg(N_("Choose how you show the death: a commitment, or the death certificate."))
    if evidence == "certificate" and not certificate_number.strip():
        errors["certificate_number"] = Msg(N_("Enter the number printed on the death certificate."))
    if staff_id is None and relationship not in RELATIONSHIPS:
        errors["relationship"] = Msg(N_("Choose how you are related."))
    if staff_id is None and not commitment:
        errors["commitment"] = Msg(N_("Confirm the commitment to submit the report."))
    if errors:
        raise ValidationFailed(errors)
    existing = session.exec(select(DeathReport).where(DeathReport.person_id == person.id)).first()
    if existing is not None:
        return existing
    last_month = month_of(died)
    award = claims.current_award(session, person.id)
    recoverable = 0
    if award is not None:
        award.stopped_after = last_month
        session.add(award)
        session.execute(update(PensionPayment).where(PensionPayment.person_id == person.id,
                                                     PensionPayment.month > last_month)
                        .values(recoverable=True))
        recoverable = sum(session.exec(select(PensionPayment.amount_fen).where(
            PensionPayment.person_id == person.id, PensionPayment.month > last_month)).all())
    report = DeathReport(person_id=person.id, date_of_death=died,
                         reported_by_person_id=reporter.id if reporter else None, reported_by_staff_id=staff_id,
                         evidence=evidence if staff_id is None else "data_match", relationship=relationship,
                         recoverable_fen=recoverable, created_at=now)
    session.add(report)
    session.flush()
    audit.record(session=session, actor=actor, action="death.reported", now=now, object_type="person",
                 object_id=person.id, detail={"date_of_death": died.isoformat(), "evidence": report.evidence,
                                              "recoverable": str(from_fen(recoverable))})
    return report


@dataclass(frozen=True)
class Claimable:
    deceased: Person
    report: DeathReport
    retired: bool
    contribution_months: int
    months_drawn: int
    result: SurvivorResult
    account: Decimal  # the personal-account balance to inherit

    @property
    def total(self) -> Decimal:
        return self.result.total + self.account


def claimable(session: Session, *, deceased: Person) -> Claimable | None:
    """What the survivors of ``deceased`` may claim; None without a reported death."""
    report = session.exec(select(DeathReport).where(DeathReport.person_id == deceased.id)).first()
    if report is None:
        return None
    record = build_record(session, person=deceased, today=report.date_of_death)
    award = claims.current_award(session, deceased.id)
    retired = award is not None
    months_drawn = 0
    account = record.balance_to_date
    if retired:
        months_drawn = max(0, months_between(award.first_payment_month, month_of(report.date_of_death)) + 1)
        contribution = award.actual_months + award.deemed_months
        account = max(Decimal("0.00"), from_fen(award.account_balance_fen) - from_fen(award.account_fen) * months_drawn)
    else:
        contribution = record.cumulative_months
    result = survivor_benefits(date_of_death=report.date_of_death, contribution_months=contribution, retired=retired,
                               months_drawn=months_drawn)
    return Claimable(deceased, report, retired, contribution, months_drawn, result, account)


def _earlier_claim(session: Session, deceased_id: int) -> str | None:
    award = session.exec(select(SurvivorAward.case_reference).where(
        SurvivorAward.deceased_person_id == deceased_id)).first()
    if award:
        return award
    for case in session.exec(select(Case).where(Case.kind == "survivor_claim",
                                                Case.state.not_in((State.REJECTED, State.WITHDRAWN)))).all():
        if int(cases.payload_of(case).get("deceased_id", 0) or 0) == deceased_id:
            return case.reference
    return None


def submit_claim(session: Session, *, filing: Filing, id_number: str, bank_code: str, card_number: str,
                 commitment: bool, token: str, now: datetime, today: date) -> Case:
    errors: dict[str, Msg] = {}
    deceased = _deceased(session, id_number, today, errors)
    if bank_code not in {bank.code for bank in claims.banks()}:
        errors["bank_code"] = Msg(N_("Choose the bank of the card the payment goes to."))
    card = claims.clean_card(card_number)
    if not claims.luhn_ok(card):
        errors["card_number"] = Msg(N_("Enter the card number as printed on the card, 16 to 19 digits; check it, "
                                        "as its last digit does not match the others."))
    if not commitment:
        errors["commitment"] = Msg(N_("Confirm the commitment to submit the claim."))
    if errors:
        raise ValidationFailed(errors)
    earlier = _earlier_claim(session, deceased.id)
    if earlier is not None:
        raise Conflict(Msg(N_("Survivors' benefits for this death were already claimed under %(reference)s; they "
                              "are paid once."), {"reference": earlier}))
    found = claimable(session, deceased=deceased)
    if found is None:
        raise Conflict(Msg(N_("Report the death first; the claim follows from the report.")))
    payload = {"deceased_id": deceased.id, "deceased_name": deceased.name,
               "date_of_death": found.report.date_of_death.isoformat(), "status": "retiree" if found.retired else
               "insured", "contribution_months": found.contribution_months, "months_drawn": found.months_drawn,
               "funeral_grant": str(found.result.funeral_grant), "survivor_months": str(found.result.months),
               "survivor_benefit": str(found.result.survivor_benefit), "account": str(found.account),
               "total": str(found.total), "bank": bank_code, "card": claims.mask_card(card), "card_number": card,
               "commitment": {"accepted": True, "at": now.isoformat()}}
    return filing.submit(session, kind="survivor_claim", payload=payload, token=token, now=now)


def check_claim(session: Session, case: Case, payload: dict) -> CheckResult:
    deceased = session.get(Person, int(payload.get("deceased_id", 0) or 0))
    found = claimable(session, deceased=deceased) if deceased else None
    if found is None:
        return CheckResult("death_reported", False, N_("No death is reported for the person named."))
    earlier = session.exec(select(SurvivorAward.case_reference).where(
        SurvivorAward.deceased_person_id == deceased.id)).first()
    if earlier:
        return CheckResult("death_reported", False, N_("Already paid under %(reference)s."), {"reference": earlier})
    return CheckResult("death_reported", True, N_("Death on %(date)s reported; %(months)s months of survivor benefit."),
                       {"date": found.report.date_of_death.isoformat(), "months": str(found.result.months)})


def apply_claim(session: Session, case: Case, approved: bool, now: datetime, note: str) -> None:
    if not approved:
        return
    payload = cases.payload_of(case)
    deceased = session.get(Person, int(payload.get("deceased_id", 0) or 0))
    found = claimable(session, deceased=deceased) if deceased else None
    if found is None or session.exec(select(SurvivorAward.id).where(
            SurvivorAward.deceased_person_id == deceased.id)).first() is not None:
        return
    award = SurvivorAward(
        deceased_person_id=deceased.id, claimant_person_id=case.applicant_id, case_reference=case.reference,
        funeral_fen=to_fen(found.result.funeral_grant), benefit_fen=to_fen(found.result.survivor_benefit),
        account_fen=to_fen(found.account), total_fen=to_fen(found.total), months=str(found.result.months),
        provisional=found.result.provisional,
        explanation_json=json.dumps(found.result.explanation.to_dict(), ensure_ascii=False, default=str),
        bank_code=str(payload.get("bank", "")), card_number=str(payload.get("card_number", "")), awarded_at=now)
    session.add(award)
    session.flush()
    notices.notify(session=session, recipient_kind="person", recipient_id=case.applicant_id, now=now, case_id=case.id,
                   title=N_("The survivors' benefits of %(total)s yuan are approved and paid to your card."),
                   params={"total": str(found.total)})
    audit.record(session=session, actor=SYSTEM, action="survivor.awarded", now=now, object_type="survivor_award",
                 object_id=award.id, detail={"case": case.reference, "total": str(found.total)})


def reports_by(session: Session, *, person_id: int) -> list[tuple[DeathReport, Person, str | None]]:
    """Deaths this person reported, with the deceased and the survivors' claim reference if any."""
    rows = session.exec(select(DeathReport, Person).join(Person, Person.id == DeathReport.person_id)
                        .where(DeathReport.reported_by_person_id == person_id)
                        .order_by(DeathReport.created_at.desc())).all()
    return [(report, person, _earlier_claim(session, person.id)) for report, person in rows]


KIND_SPECS = (
    KindSpec(Kind.SURVIVOR_CLAIM, checks=(check_claim,), effect=apply_claim,
             shown=frozenset({"deceased_name", "date_of_death", "status", "contribution_months", "months_drawn",
                              "funeral_grant", "survivor_months", "survivor_benefit", "account", "total", "bank",
                              "card"})),
)
