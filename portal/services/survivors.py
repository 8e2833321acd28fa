"""Deaths and survivors' benefits (遗属待遇).

A death is reported by a family member online (with a commitment or the death certificate attached) or by staff from
a data match. From then on the pension stops: the award is payable up to the month of death only, and a payment
already made for a later month becomes an amount to recover (``PensionPayment.recoverable``; the total is on the
report).

The survivors' claim is computed by the national schedule (``portal.policy.rules.survivor``): the funeral grant,
the survivor benefit (months by contribution years, less years drawn for a retiree, at least 9), and the
personal-account balance to inherit (for a retiree, what the account part of the pension had not yet paid out). It
is a ``survivor_claim`` case decided by two people; approval stores the ``SurvivorAward`` (one per death), so a
second claim for the same death is refused with the first one's reference.

Who may claim: the spouse, a child or a parent (the first order of heirs, 民法典第一千一百二十七条; the schedule pays
the deceased's 遗属). The kinship is committed to through the catalogue's ``survivor_kinship`` notice (confirmed with
the card's face check, its evidence kept on the case) or, for whoever may not commit, proven with
documents attached to the claim; the dates of birth must fit it (a child born after the parent). A death certificate
attached to the report (checked by content like every document, stored in the database, served only to the reporter
and, on the claim, to the claimant and staff) goes with the claim. Other relatives are sent to a counter.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import update
from sqlmodel import Session, select

from portal import audit, i18n
from portal.auth.principal import SYSTEM, Actor
from portal.errors import N_, Conflict, Msg, NotFound, ValidationFailed
from portal.identifiers import InvalidIdentifier, parse_resident_id
from portal.models import CaseAttachment, DeathCertificate, DeathReport, PensionPayment, Person, SurvivorAward
from portal.models.queue import Case
from portal.policy.dates import month_of, months_between
from portal.policy.money import from_fen, to_fen
from portal.policy.rules.survivor import SurvivorResult, survivor_benefits
from portal.queue import attachments, cases, notices
from portal.queue.kinds import CheckResult, Kind, KindSpec
from portal.queue.states import State
from portal.services import claims, commitments, credit
from portal.services.person_requests import Filing
from portal.services.records import build_record

RELATIONSHIPS = ("spouse", "child", "parent", "sibling", "other")
CLAIMANTS = ("spouse", "child", "parent")  # who may claim online: the first order of heirs
KINSHIP_COMMITMENT = "survivor_kinship"  # the commitment catalogue's item (portal/policy/data/commitments.yaml)
DEATH_COMMITMENT = "death_report"  # the death, where the certificate is not at hand
COUNTER = "seen_at_counter"  # a claim filed at a counter: staff saw the documents
CLAIM_COMMITMENT = N_("I confirm that I am the family member of the person who died as stated, that no survivor "
                      "entitled before me is concealed, and that what this claim says is true. A false claim means "
                      "repaying what is paid because of it, a fine, and affects my credit record.")


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


def report_death(session: Session, *, reporter: Person | None, id_number: str, date_of_death: str,
                 relationship: str, actor: Actor, now: datetime, today: date, staff_id: int | None = None,
                 offer: commitments.Offer | None = None) -> DeathReport:
    """Records a death: payments stop after its month, later payments become recoverable.

    A family member reports it online (``offer``): committing to the death through the catalogue's ``death_report``
    notice (confirmed with the card's face check, the evidence kept on the report) or, and always for whoever may
    not commit, attaching the death certificate (a PDF, JPEG or PNG checked by content and size); staff record one
    found by a data match. Nothing is recorded when a field is wrong."""
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
    online = staff_id is None
    if online and relationship not in RELATIONSHIPS:
        errors["relationship"] = Msg(N_("Choose how you are related."))
    if online:
        eligible = commitments.eligibility(session, subject=credit.Subject("person", reporter.id), on=today)
        commitments.check_offer(offer, eligible=eligible, errors=errors)
    if errors:
        raise ValidationFailed(errors)
    content_type = None
    if online and offer.mode == "proof":  # the certificate, as checked by check_offer
        [(_, content_type)] = attachments.check([offer.uploads[0]])
    existing = session.exec(select(DeathReport).where(DeathReport.person_id == person.id)).first()
    if existing is not None:
        return existing
    confirmation = None
    if online:  # the card's face check confirms the notice (ValidationFailed at ``mode`` otherwise)
        confirmation = commitments.confirm_offer(session, actor=actor, item=DEATH_COMMITMENT, offer=offer, now=now,
                                                 today=today)
    evidence = "data_match" if not online else "commitment" if confirmation is not None else "certificate"
    last_month = month_of(died)
    award = claims.current_award(session, person_id=person.id)
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
                         evidence=evidence, relationship=relationship,
                         recoverable_fen=recoverable, created_at=now)
    session.add(report)
    session.flush()
    detail = {"date_of_death": died.isoformat(), "evidence": report.evidence, "recoverable": str(from_fen(recoverable))}
    if content_type is not None:
        certificate = offer.uploads[0]
        stored = DeathCertificate(death_report_id=report.id,
                                  filename=attachments.clean_filename(certificate.filename, content_type),
                                  content_type=content_type, size=len(certificate.content),
                                  sha256=hashlib.sha256(certificate.content).hexdigest(),
                                  content=certificate.content, uploaded_at=now)
        session.add(stored)
        session.flush()
        detail |= {"certificate": stored.filename, "sha256": stored.sha256, "size": stored.size}
    audit.record(session=session, actor=actor, action="death.reported", now=now, object_type="person",
                 object_id=person.id, detail=detail)
    if confirmation is not None:
        commitments.keep_record_evidence(session, record_kind="death_report", record_id=report.id,
                                         subject=credit.Subject("person", reporter.id), confirmation=confirmation,
                                         actor=actor)
    return report


def certificate_of(session: Session, *, report: DeathReport) -> DeathCertificate | None:
    return session.exec(select(DeathCertificate).where(DeathCertificate.death_report_id == report.id)).first()


def reported_certificate(session: Session, *, reporter: Person, report_id: int) -> DeathCertificate:
    """The death certificate attached to a report, for the person who reported it only (NotFound otherwise)."""
    report = session.get(DeathReport, report_id)
    if report is None or report.reported_by_person_id != reporter.id:
        raise NotFound()
    stored = certificate_of(session, report=report)
    if stored is None:
        raise NotFound()
    return stored


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
    award = claims.current_award(session, person_id=deceased.id)
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


def _kinship_fits(claimant: Person, deceased: Person, relationship: str) -> bool:
    """The dates of birth fit the relationship stated: a child born after the parent."""
    if relationship == "child":
        return claimant.birth_date > deceased.birth_date
    if relationship == "parent":
        return claimant.birth_date < deceased.birth_date
    return True


def _certificate_of_death(session: Session, deceased_id: int) -> DeathCertificate | None:
    report = session.exec(select(DeathReport).where(DeathReport.person_id == deceased_id)).first()
    return certificate_of(session, report=report) if report is not None else None


def submit_claim(session: Session, *, filing: Filing, id_number: str, relationship: str, bank_code: str,
                 card_number: str, mode: str, token: str, now: datetime, today: date,
                 notice_version: str = "", locale: str = "zh_CN",
                 uploads: list[attachments.Upload] | None = None, signed_on_paper: bool = False) -> Case:
    """A family member claims the survivors' benefits of a reported death: a ``survivor_claim`` case.

    The kinship is committed to (``mode="commit"``: the ``survivor_kinship`` notice confirmed with the card's face
    check, the evidence kept) or proven (``mode="proof"``: documents attached), the only way for
    whoever may not commit. At a counter (``filing`` made by staff) the staff see the documents, any family member
    named may claim as the heir, and the claimant signs the commitment on paper (``signed_on_paper``). Nothing is
    created when a field is wrong."""
    claimant = filing.person
    at_counter = filing.channel == "counter"
    errors: dict[str, Msg] = {}
    deceased = _deceased(session, id_number, today, errors)
    if deceased is not None and deceased.id == claimant.id:
        errors["deceased"] = Msg(N_("Enter the identity number of the person who died."))
    if relationship not in RELATIONSHIPS:
        errors["relationship"] = Msg(N_("Choose how you are related."))
    elif relationship not in CLAIMANTS and not at_counter:
        errors["relationship"] = Msg(N_("The survivors' benefits are claimed by the spouse, a child or a parent. If "
                                        "the person left none of them, claim at a service counter with the documents "
                                        "that show you are their heir."))
    elif deceased is not None and not _kinship_fits(claimant, deceased, relationship):
        errors["relationship"] = Msg(N_("Your date of birth and theirs do not fit the relationship you chose. Check "
                                        "how you are related."))
    if bank_code not in {bank.code for bank in claims.banks()}:
        errors["bank_code"] = Msg(N_("Choose the bank of the card the payment goes to."))
    card = claims.clean_card(card_number)
    if not claims.luhn_ok(card):
        errors["card_number"] = Msg(N_("Enter the card number as printed on the card, 16 to 19 digits; check it, "
                                        "as its last digit does not match the others."))
    offer = commitments.Offer(mode=mode, notice_version=notice_version, locale=locale, uploads=tuple(uploads or ()))
    if at_counter:
        offer = commitments.Offer(mode=COUNTER)  # staff see the documents of kinship (or heirship) and the claimant
        if not signed_on_paper:                  # signs on paper
            errors["signed"] = Msg(N_("Have the claimant sign the commitment on paper, after checking the documents "
                                      "of kinship."))
    else:
        eligible = commitments.eligibility(session, subject=credit.Subject("person", claimant.id), on=today)
        commitments.check_offer(offer, eligible=eligible, errors=errors)
    if errors:
        raise ValidationFailed(errors)
    resent = session.exec(select(Case).where(
        Case.kind == "survivor_claim", Case.applicant_kind == filing.applicant.kind,
        Case.applicant_id == filing.applicant.id, Case.idempotency_key == (token or "").strip()[:64])).first()
    if resent is not None:  # the same form sent again: the claim it filed, nothing attached twice
        return resent
    earlier = _earlier_claim(session, deceased.id)
    if earlier is not None:
        raise Conflict(Msg(N_("Survivors' benefits for this death were already claimed under %(reference)s; they "
                              "are paid once."), {"reference": earlier}))
    found = claimable(session, deceased=deceased)
    if found is None:
        raise Conflict(Msg(N_("Report the death first; the claim follows from the report.")))
    confirmation = commitments.confirm_offer(session, actor=filing.actor, item=KINSHIP_COMMITMENT, offer=offer,
                                             now=now, today=today)
    certificate = _certificate_of_death(session, deceased.id)
    payload = {"deceased_id": deceased.id, "deceased_name": deceased.name, "relationship": relationship,
               "kinship": COUNTER if at_counter else "commitment" if confirmation else "documents",
               "date_of_death": found.report.date_of_death.isoformat(), "status": "retiree" if found.retired else
               "insured", "contribution_months": found.contribution_months, "months_drawn": found.months_drawn,
               "funeral_grant": str(found.result.funeral_grant), "survivor_months": str(found.result.months),
               "survivor_benefit": str(found.result.survivor_benefit), "account": str(found.account),
               "total": str(found.total), "bank": bank_code, "card": claims.mask_card(card), "card_number": card,
               "death_certificate": "attached" if certificate else found.report.evidence}
    if confirmation is not None:
        payload["commitment"] = commitments.payload_entry(confirmation)
    elif at_counter:
        payload["commitment"] = {"accepted": True, "text": i18n.gettext(CLAIM_COMMITMENT),
                                 "at": now.isoformat(), "signed_on_paper": True}
    case = filing.submit(session, kind="survivor_claim", payload=payload, token=token, now=now)
    if confirmation is not None:
        commitments.keep_evidence(session, case=case, confirmation=confirmation, actor=filing.actor)
    kept = set(session.exec(select(CaseAttachment.sha256).where(CaseAttachment.case_id == case.id)).all())
    if offer.mode == "proof":  # the applicant's own documents, checked and attached as any request's
        new = [upload for upload in offer.uploads if hashlib.sha256(upload.content).hexdigest() not in kept]
        if new:  # a resent form returns the same case and attaches nothing twice
            attachments.attach(session, case=case, actor=filing.actor, uploads=new, now=now)
    if certificate is not None and certificate.sha256 not in kept:
        # The report's certificate joins the claim as it was checked then, whoever files the claim (online or at
        # a counter), so staff and the claimant see it on the case.
        row = CaseAttachment(case_id=case.id, filename=certificate.filename, content_type=certificate.content_type,
                             size=certificate.size, sha256=certificate.sha256, content=certificate.content,
                             uploaded_at=certificate.uploaded_at, uploaded_by_kind="person")
        session.add(row)
        session.flush()
        audit.record(session=session, actor=filing.actor, action="case.attachment_added", now=now,
                     object_type="case", object_id=case.reference,
                     detail={"attachment": row.id, "filename": row.filename, "type": row.content_type,
                             "size": row.size, "sha256": row.sha256, "from": "death_report"})
    return case


def check_claim(session: Session, *, case: Case, payload: dict) -> CheckResult:
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


def check_kinship(session: Session, *, case: Case, payload: dict) -> CheckResult:
    relationship = str(payload.get("relationship", ""))
    if payload.get("kinship") == COUNTER and relationship in RELATIONSHIPS:
        return CheckResult("kinship", True, N_("Kinship seen on the documents at the counter; a relative other than "
                                               "the spouse, a child or a parent claims only as the heir."))
    if relationship not in CLAIMANTS:
        return CheckResult("kinship", False, N_("The claim names no kinship that may claim online."))
    if payload.get("kinship") == "commitment":
        return CheckResult("kinship", True, N_("Kinship committed to through the notice; it may be checked later."))
    return CheckResult("kinship", True, N_("Kinship to be checked against the documents attached."))


def apply_claim(session: Session, *, case: Case, approved: bool, now: datetime, note: str) -> None:
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
    notices.notify(session, recipient_kind="person", recipient_id=case.applicant_id, now=now, case_id=case.id,
                   title=N_("The survivors' benefits of %(total)s yuan are approved and paid to your card."),
                   params={"total": str(found.total)})
    audit.record(session=session, actor=SYSTEM, action="survivor.awarded", now=now, object_type="survivor_award",
                 object_id=award.id, detail={"case": case.reference, "total": str(found.total)})


def withdraw_death(session: Session, *, id_number: str, reason: str, actor: Actor, now: datetime,
                   today: date) -> Person:
    """A death recorded in error (the person came to the counter alive): the report and its certificate go, the pension
    is payable again and the next payroll pays every month held back; nothing paid is to be recovered any more.
    Refused while a survivors' claim for it stands (it must be refused or withdrawn first)."""
    errors: dict[str, Msg] = {}
    person = _deceased(session, id_number, today, errors)
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = Msg(N_("Say how the person was found alive, for example seen at the counter with their "
                                  "identity card."))
    elif len(reason) > 500:
        errors["reason"] = Msg(N_("Keep the reason under %(count)s characters."), {"count": 500})
    if errors:
        raise ValidationFailed(errors)
    report = session.exec(select(DeathReport).where(DeathReport.person_id == person.id)).first()
    if report is None:
        raise Conflict(Msg(N_("No death is recorded for this person.")))
    claim = _earlier_claim(session, person.id)
    if claim is not None:
        raise Conflict(Msg(N_("A survivors' claim for this death stands (%(reference)s): it must be refused or "
                              "withdrawn first."), {"reference": claim}))
    award = claims.current_award(session, person_id=person.id)
    if award is not None:
        award.stopped_after = None
        session.add(award)
        session.execute(update(PensionPayment).where(PensionPayment.person_id == person.id,
                                                     PensionPayment.recoverable.is_(True))
                        .values(recoverable=False))
    detail = {"date_of_death": report.date_of_death.isoformat(), "evidence": report.evidence, "reason": reason}
    stored = certificate_of(session, report=report)
    if stored is not None:
        detail["certificate_sha256"] = stored.sha256
        session.delete(stored)
        session.flush()
    session.delete(report)
    session.flush()
    audit.record(session=session, actor=actor, action="death.withdrawn", now=now, object_type="person",
                 object_id=person.id, detail=detail)
    if award is not None:
        notices.notify(session, recipient_kind="person", recipient_id=person.id, now=now,
                       title=N_("A death was recorded for you in error and is withdrawn. Your pension is paid again; "
                                "the months held back come with the next payroll."))
    return person


def reported_death(session: Session, *, id_number: str, today: date) -> tuple[DeathReport, Person, str | None]:
    """A death someone else reported, found by the deceased's identity number, so another family member may claim:
    the report, the deceased and the claim reference if any; ValidationFailed at ``lookup`` otherwise."""
    errors: dict[str, Msg] = {}
    person = _deceased(session, id_number, today, errors)
    report = session.exec(select(DeathReport).where(DeathReport.person_id == person.id)).first() if person else None
    if person is not None and report is None:
        errors["id_number"] = Msg(N_("No death is recorded for this identity number. Report it below first."))
    if errors:
        raise ValidationFailed({"lookup": errors["id_number"]})
    return report, person, _earlier_claim(session, person.id)


def reports_by(session: Session, *, person_id: int) -> list[tuple[DeathReport, Person, str | None]]:
    """Deaths this person reported, with the deceased and the survivors' claim reference if any."""
    rows = session.exec(select(DeathReport, Person).join(Person, Person.id == DeathReport.person_id)
                        .where(DeathReport.reported_by_person_id == person_id)
                        .order_by(DeathReport.created_at.desc())).all()
    return [(report, person, _earlier_claim(session, person.id)) for report, person in rows]


def revoke_claim(session: Session, *, case: Case, now: datetime) -> Decimal | None:
    """A claim found afterwards to rest on a false kinship: what the award paid is to be repaid (the award stays
    as the record of the payment; the revocation is on the case and in the audit log)."""
    award = session.exec(select(SurvivorAward).where(SurvivorAward.case_reference == case.reference)).first()
    if award is None:
        return None
    due = from_fen(award.total_fen)
    audit.record(session=session, actor=SYSTEM, action="survivor.revoked", now=now, object_type="survivor_award",
                 object_id=award.id, detail={"case": case.reference, "to_repay": str(due)})
    return due


KIND_SPECS = (
    KindSpec(Kind.SURVIVOR_CLAIM, checks=(check_claim, check_kinship), effect=apply_claim,
             shown=frozenset({"deceased_name", "relationship", "kinship", "death_certificate", "date_of_death",
                              "status", "contribution_months", "months_drawn",
                              "funeral_grant", "survivor_months", "survivor_benefit", "account", "total", "bank",
                              "card"}),
             commitments=(KINSHIP_COMMITMENT,), revoke=revoke_claim),
)
