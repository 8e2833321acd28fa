"""Retirement claims (退休待遇申领) and pension awards (养老金核定).

A person near or past retirement reads their eligibility from their own record and the policy engine: the
statutory month, the flexible window, the months counted against the minimum, and, short of it, what the law
allows and what the missing months would cost at their current base. The what-if rows estimate the pension for
each month in the window from the actual record (``portal.policy.estimate``).

Saving a draft fixes the claim date (``RetirementClaim.claim_date``): the pension is paid from the retirement
month, or from the claim date's month when the claim came later, whatever time the paperwork takes after it.
Submitting adds the bank card (Luhn-checked, bank from ``data/banks.yaml``) and the commitment, and opens a
``retirement_claim`` case, decided by two people (a money kind). Its automatic check recomputes eligibility; its
effect on approval computes the award from the record as it is then, stores it with its explanation and the
parameters used, and counts as the first life certification. An award on a provisional parameter is marked so;
``recompute_provisional`` recomputes such awards when the parameter arrives and records the difference for the
next payroll.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

import yaml
from sqlmodel import Session, select

from portal import audit, i18n
from portal.auth.principal import SYSTEM, Actor
from portal.errors import N_, Conflict, Msg, NotFound, ValidationFailed
from portal.models import (
    Certificate,
    LifeCertification,
    PensionAward,
    PensionPayment,
    Person,
    RetirementClaim,
)
from portal.models.queue import Case
from portal.policy.dates import add_months, fmt_month, month_of, months_between, parse_month
from portal.policy.errors import PolicyInputError
from portal.policy.estimate import Estimate, estimate
from portal.policy.money import from_fen, round_fen, to_fen
from portal.policy.parameters import param
from portal.policy.rules.pension import PensionResult, pension_award
from portal.policy.rules.retirement import Age, RetirementResult, retirement
from portal.queue import cases, notices
from portal.queue.kinds import CheckResult, Kind, KindSpec
from portal.services import certificates, enrolment
from portal.services.person_requests import Filing, prefecture_from, prefecture_of
from portal.services.records import PersonRecord, build_record

BANKS_FILE = Path(__file__).parent / "data" / "banks.yaml"
COMMITMENT = N_("I confirm that what this claim says is true and complete, that I have stopped working for an "
                "employer from my retirement month, and that I will tell the office at once of anything that "
                "changes my entitlement. A false statement may have to be repaid and affects my credit record.")


@dataclass(frozen=True)
class Bank:
    code: str
    zh: str
    en: str

    @property
    def name(self) -> str:
        return self.en if i18n.current_locale() == "en" else self.zh


@cache
def banks() -> tuple[Bank, ...]:
    data = yaml.safe_load(BANKS_FILE.read_text(encoding="utf-8"))
    return tuple(Bank(str(row["code"]), str(row["zh"]), str(row["en"])) for row in data["banks"])


def bank_name(code: str) -> str:
    return next((bank.name for bank in banks() if bank.code == code), code)


def luhn_ok(number: str) -> bool:
    """A bank card number (16-19 digits) whose last digit is its Luhn check digit."""
    if not number.isdigit() or not 16 <= len(number) <= 19:
        return False
    total = 0
    for position, digit in enumerate(reversed(number)):
        value = int(digit)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def mask_card(number: str) -> str:
    return f"{number[:4]} **** **** {number[-4:]}" if len(number) >= 8 else number


def clean_card(text: str) -> str:
    return "".join((text or "").split()).replace("-", "")


# --- the person's position ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shortfall:
    missing_months: int
    base: Decimal  # the person's current (latest) monthly base
    rate: Decimal  # the flexible workers' total rate, paid on the base
    cost: Decimal  # missing months × base × rate
    options: tuple[str, ...]  # OPTION_* of portal.policy.rules.pension


@dataclass(frozen=True)
class Position:
    person: Person
    record: PersonRecord
    region: str
    rules: RetirementResult
    actual_months: int
    deemed_months: int
    estimate: Estimate | None  # None when the record has no index yet
    shortfall: Shortfall | None  # at the chosen month; None when the minimum is met
    claim: RetirementClaim | None  # the claim in progress (draft or submitted)
    award: PensionAward | None

    @property
    def months_to_statutory(self) -> int:
        return months_between(month_of(self.record.last_month or self.rules.statutory_month), self.rules.statutory_month)


def category_of(person: Person) -> str:
    return enrolment.retirement_category(person)


def _counts(record: PersonRecord) -> tuple[int, int]:
    deemed = sum(1 for cell in record.cells if cell.state == "deemed")
    return record.cumulative_months - deemed, deemed


def current_base(record: PersonRecord, today: date) -> Decimal:
    """The latest counted month's base, or the floor of the current contribution year when there is none."""
    for cell in reversed(record.cells):
        if cell.counted and cell.base:
            return cell.base
    return param("base_floor").at(today).value


def open_claim(session: Session, *, person_id: int) -> RetirementClaim | None:
    return session.exec(select(RetirementClaim).where(RetirementClaim.person_id == person_id,
                                                      RetirementClaim.state.in_(("draft", "submitted")))).first()


def current_award(session: Session, *, person_id: int) -> PensionAward | None:
    return session.exec(select(PensionAward).where(PensionAward.person_id == person_id,
                                                   PensionAward.superseded_by.is_(None))).first()


def position(session: Session, *, person: Person, today: date, chosen_month: date | None = None) -> Position:
    """Where the person stands: eligibility, window, what-if and shortfall, from their own record."""
    record = build_record(session, person=person, today=today)
    claim = open_claim(session, person_id=person.id)
    if chosen_month is None and claim is not None:
        chosen_month = claim.retirement_month
    category = category_of(person)
    rules = retirement(person.birth_date, category)
    if chosen_month is not None and not rules.earliest_month <= chosen_month <= rules.latest_month:
        chosen_month = None
    rules = retirement(person.birth_date, category, chosen_month)
    actual, deemed = _counts(record)
    region = prefecture_of(session, person=person)
    result = None
    if record.average_index is not None:
        # Months still to come before the statutory month are assumed paid; past it, none are.
        expected = max(0, months_between(month_of(today), rules.statutory_month) - 1)
        result = estimate(birth_date=person.birth_date, category=category, region=region, months_paid=actual,
                          months_expected=expected, average_index=min(record.average_index, Decimal("3.00")),
                          account_balance=record.balance_to_date, today=today, deemed_months=deemed,
                          chosen_month=rules.chosen_month)
    shortfall = None
    counted_then = (result.months_counted if result else actual) + deemed
    missing = max(0, rules.min_contribution_months - counted_then)
    if missing:
        base = current_base(record, today)
        rate = param("flexible_total_rate").at(today).value
        options = result.chosen.pension.options if result and result.chosen.pension else ()
        if not options and result is not None:
            options = _options_of(result)
        shortfall = Shortfall(missing, base, rate, round_fen(base * rate * missing), options)
    return Position(person=person, record=record, region=region, rules=rules, actual_months=actual,
                    deemed_months=deemed, estimate=result, shortfall=shortfall, claim=claim,
                    award=current_award(session, person_id=person.id))


def _options_of(result: Estimate) -> tuple[str, ...]:
    from portal.policy.rules.pension import OPTION_CONTINUE, OPTION_REFORM, OPTION_RESIDENT

    if result.retirement.statutory_month.year >= 2025:
        return (OPTION_CONTINUE, OPTION_REFORM, OPTION_RESIDENT)
    return (OPTION_CONTINUE, OPTION_RESIDENT)


# --- the draft and the claim --------------------------------------------------------------------------------


def _month_in_window(text: str, rules: RetirementResult, errors: dict) -> date | None:
    try:
        month = parse_month(text)
    except ValueError:
        month = None
    if month is None or not rules.earliest_month <= month <= rules.latest_month:
        errors["retirement_month"] = Msg(N_("Choose a retirement month from %(earliest)s to %(latest)s."),
                                         {"earliest": fmt_month(rules.earliest_month),
                                          "latest": fmt_month(rules.latest_month)})
        return None
    return month


def save_draft(session: Session, *, person: Person, retirement_month: str, actor: Actor, now: datetime,
               today: date) -> RetirementClaim:
    """Saves (or updates) the draft claim; the first save fixes the claim date, later saves never move it."""
    if current_award(session, person_id=person.id) is not None:
        raise Conflict(Msg(N_("Your pension has already been awarded.")))
    rules = retirement(person.birth_date, category_of(person))
    errors: dict[str, Msg] = {}
    month = _month_in_window(retirement_month, rules, errors)
    claim = open_claim(session, person_id=person.id)
    if claim is not None and claim.state != "draft":
        raise Conflict(Msg(N_("Your claim has been submitted; it can no longer be changed here.")))
    # Early retirement needs written notice ahead: the saved draft is that notice, given on its claim date.
    noticed = claim.claim_date if claim is not None else today
    soonest = earliest_early_month(rules, noticed)
    if month is not None and month < rules.statutory_month and month < soonest:
        errors["retirement_month"] = Msg(N_(
            "Retiring early needs written notice %(notice)s months ahead: the earliest month you can choose now is "
            "%(month)s."), {"notice": rules.early_notice_months, "month": fmt_month(soonest)})
    if errors:
        raise ValidationFailed(errors)
    if claim is None:
        claim = RetirementClaim(person_id=person.id, claim_date=today, retirement_month=month, created_at=now,
                                updated_at=now)
        session.add(claim)
        session.flush()
        audit.record(session=session, actor=actor, action="retirement_claim.draft_saved", now=now,
                     object_type="retirement_claim", object_id=claim.id,
                     detail={"claim_date": today.isoformat(), "retirement_month": fmt_month(month)})
        return claim
    claim.retirement_month = month
    claim.updated_at = now
    session.add(claim)
    session.flush()
    return claim


def earliest_early_month(rules: RetirementResult, noticed: date) -> date:
    """The first month one may retire early in, with notice given on ``noticed`` (the window's start at the
    soonest; the statutory month when no early month is left)."""
    if rules.early_notice_months is None:
        return rules.statutory_month
    soonest = max(rules.earliest_month, add_months(month_of(noticed), rules.early_notice_months))
    return min(soonest, rules.statutory_month)


def first_payment_month(retirement_month: date, claim_date: date) -> date:
    """Paid from the retirement month, or from the claim date's month when the claim came later."""
    return max(retirement_month, month_of(claim_date))


def submit_claim(session: Session, *, filing: Filing, bank_code: str, card_number: str, commitment: bool,
                 token: str, now: datetime, today: date) -> Case:
    """Submits the draft as a ``retirement_claim`` case; nothing changes when a field is wrong."""
    person = filing.person
    claim = open_claim(session, person_id=person.id)
    if claim is None or claim.state != "draft":
        raise Conflict(Msg(N_("Save a draft with your retirement month first: it fixes your claim date.")))
    errors: dict[str, Msg] = {}
    if bank_code not in {bank.code for bank in banks()}:
        errors["bank_code"] = Msg(N_("Choose the bank of the card the pension is paid to."))
    card = clean_card(card_number)
    if not luhn_ok(card):
        errors["card_number"] = Msg(N_("Enter the card number as printed on the card, 16 to 19 digits; check it, "
                                        "as its last digit does not match the others."))
    if not commitment:
        errors["commitment"] = Msg(N_("Confirm the commitment to submit the claim."))
    if errors:
        raise ValidationFailed(errors)
    here = position(session, person=person, today=today, chosen_month=claim.retirement_month)
    payload = {
        "claim_id": claim.id, "claim_date": claim.claim_date.isoformat(),
        "retirement_month": fmt_month(claim.retirement_month),
        "statutory_month": fmt_month(here.rules.statutory_month),
        "first_payment_month": fmt_month(first_payment_month(claim.retirement_month, claim.claim_date)),
        "actual_months": here.actual_months, "deemed_months": here.deemed_months,
        "average_index": str(here.record.average_index) if here.record.average_index is not None else "",
        "estimated_pension": str(here.estimate.chosen.total) if here.estimate and here.estimate.chosen.total else "",
        "bank": bank_code, "card": mask_card(card),
        "commitment": {"accepted": True, "text": i18n.gettext(COMMITMENT), "at": now.isoformat()},
    }
    if filing.channel == "counter":
        payload["commitment"]["signed_on_paper"] = True  # before the member of staff who filed it
    case = filing.submit(session, kind="retirement_claim", payload=payload, token=token, now=now)
    claim.state = "submitted"
    claim.bank_code = bank_code
    claim.card_number = card
    claim.commitment = True
    claim.case_id = case.id
    claim.updated_at = now
    session.add(claim)
    session.flush()
    return case


# --- the award ------------------------------------------------------------------------------------------------


def compute_award(session: Session, *, person: Person, retirement_month: date, today: date) -> tuple[PensionResult,
                                                                                                    PersonRecord]:
    """The pension from the record as it is: counted months up to the month before retirement, the average index
    of that history, the personal account to date."""
    record = build_record(session, person=person, today=min(today, add_months(retirement_month, -1)))
    actual, deemed = _counts(record)
    rules = retirement(person.birth_date, category_of(person), retirement_month)
    age = Age.from_months(months_between(month_of(person.birth_date), retirement_month))
    result = pension_award(
        region=prefecture_from(person, employer_region=record.latest_employer_region),
        retirement_month=retirement_month, age_at_retirement=age,
        actual_months=actual, deemed_months=deemed,
        average_index=min(record.average_index or Decimal("0"), Decimal("3.00")),
        account_balance=record.balance_to_date, statutory_month=rules.statutory_month)
    return result, record


def check_claim(session: Session, *, case: Case, payload: dict) -> CheckResult:
    person = session.get(Person, case.applicant_id)
    try:
        month = parse_month(str(payload.get("retirement_month", "")))
        result, _ = compute_award(session, person=person, retirement_month=month, today=cases.china_date(case.submitted_at))
    except (ValueError, PolicyInputError, TypeError):
        return CheckResult("pension_eligible", False, N_("The claim names no retirement month within the window."))
    if not result.eligible:
        return CheckResult("pension_eligible", False,
                           N_("%(counted)s months counted, %(missing)s short of the %(minimum)s needed."),
                           {"counted": result.min_contribution_months - result.missing_months,
                            "missing": result.missing_months, "minimum": result.min_contribution_months})
    return CheckResult("pension_eligible", True,
                       N_("Eligible: %(months)s months counted (minimum %(minimum)s); pension %(total)s yuan a month."),
                       {"months": int(result.cumulative_years * 12), "minimum": result.min_contribution_months,
                        "total": str(result.total)})


def _new_code(session: Session) -> str:
    # The certificates' alphabet and length: one verification page serves both documents.
    while True:
        code = "".join(secrets.choice(certificates.ALPHABET) for _ in range(certificates.CODE_LENGTH))
        taken = session.exec(select(PensionAward.id).where(PensionAward.code == code)).first() or \
            session.exec(select(Certificate.id).where(Certificate.code == code)).first()
        if taken is None:
            return code


def _explanation_json(result: PensionResult) -> str:
    return json.dumps(result.explanation.to_dict(), ensure_ascii=False, sort_keys=True, default=str)


def _award_row(session: Session, *, person: Person, result: PensionResult, claim_date: date, bank_code: str,
               card_number: str, now: datetime, claim_id: int | None, reference: str) -> PensionAward:
    return PensionAward(
        code=_new_code(session), person_id=person.id, claim_id=claim_id, case_reference=reference,
        region=result.region, retirement_month=result.retirement_month,
        first_payment_month=first_payment_month(result.retirement_month, claim_date), claim_date=claim_date,
        actual_months=int(round(result.cumulative_years * 12)) - int(round(result.deemed_years * 12)),
        deemed_months=int(round(result.deemed_years * 12)), average_index=str(result.average_index),
        account_balance_fen=to_fen(_balance_fen(result)),
        divisor_months=str(result.divisor_months), basic_fen=to_fen(result.basic), extra_fen=to_fen(result.extra),
        transitional_fen=to_fen(result.transitional), account_fen=to_fen(result.personal_account),
        monthly_fen=to_fen(result.total), provisional=result.provisional,
        explanation_json=_explanation_json(result), bank_code=bank_code, card_number=card_number, awarded_at=now)


def _balance_fen(result: PensionResult) -> Decimal:
    for step in result.explanation.steps:
        if step.key == "pension.personal_account":
            return round_fen(Decimal(str(dict(step.params)["balance"])))
    return Decimal("0.00")


def apply_claim(session: Session, *, case: Case, approved: bool, now: datetime, note: str) -> None:
    """On approval: the award from the record, the first certification, a notice. On refusal: the claim closes."""
    payload = cases.payload_of(case)
    claim = session.get(RetirementClaim, int(payload.get("claim_id", 0) or 0))
    if claim is None or claim.person_id != case.applicant_id:
        return
    if not approved:
        claim.state = "rejected"
        claim.updated_at = now
        session.add(claim)
        session.flush()
        return
    if current_award(session, person_id=claim.person_id) is not None:
        return  # decided twice: the award stands
    person = session.get(Person, claim.person_id)
    today = cases.china_date(now)
    result, _ = compute_award(session, person=person, retirement_month=claim.retirement_month, today=today)
    if not result.eligible:
        claim.state = "rejected"
        session.add(claim)
        session.flush()
        return
    award = _award_row(session, person=person, result=result, claim_date=claim.claim_date, bank_code=claim.bank_code,
                       card_number=claim.card_number, now=now, claim_id=claim.id, reference=case.reference)
    session.add(award)
    claim.state = "approved"
    claim.updated_at = now
    session.add(claim)
    # The claim was made in person with the face check (or at a counter): it is the first certification.
    session.add(LifeCertification(person_id=person.id, certified_on=today, channel="claim",
                                  case_reference=case.reference, created_at=now))
    session.flush()
    notices.notify(session, recipient_kind="person", recipient_id=person.id, now=now, case_id=case.id,
                   title=N_("Your pension is awarded: %(amount)s yuan a month from %(month)s."),
                   params={"amount": str(result.total), "month": fmt_month(award.first_payment_month)})
    audit.record(session=session, actor=SYSTEM, action="pension.awarded", now=now, object_type="pension_award",
                 object_id=award.id, detail={"case": case.reference, "monthly": str(result.total),
                                             "provisional": result.provisional,
                                             "parameters": sorted({used.name for used in result.explanation.parameters})})


def award_on_record(session: Session, *, person: Person, retirement_month: date, claim_date: date, bank_code: str,
                    card_number: str, now: datetime, reference: str = "") -> PensionAward | None:
    """An award from the record without a claim of its own (a pension taken over from the paper files, the demo
    data); the same computation as an approved claim; None when the minimum is not met or one exists already."""
    if current_award(session, person_id=person.id) is not None:
        return None
    result, _ = compute_award(session, person=person, retirement_month=retirement_month, today=claim_date)
    if not result.eligible:
        return None
    award = _award_row(session, person=person, result=result, claim_date=claim_date, bank_code=bank_code,
                       card_number=card_number, now=now, claim_id=None, reference=reference)
    session.add(award)
    session.add(LifeCertification(person_id=person.id, certified_on=cases.china_date(now), channel="counter",
                                  created_at=now))
    session.flush()
    audit.record(session=session, actor=SYSTEM, action="pension.awarded", now=now, object_type="pension_award",
                 object_id=award.id, detail={"monthly": str(result.total), "provisional": result.provisional,
                                             "on_record": True})
    return award


def award_of(session: Session, *, actor: Actor, code: str | None = None) -> PensionAward:
    """The signed-in person's current award (or one of theirs by code)."""
    from portal.services.accounts import person_of

    person = person_of(session, actor=actor)
    query = select(PensionAward).where(PensionAward.person_id == person.id)
    query = query.where(PensionAward.code == code) if code else query.where(PensionAward.superseded_by.is_(None))
    award = session.exec(query).first()
    if award is None:
        raise NotFound()
    return award


def explanation_of(award: PensionAward) -> dict:
    return json.loads(award.explanation_json)


@dataclass(frozen=True)
class VerifiedAward:
    code: str
    awarded_at: datetime
    masked_name: str
    masked_id_number: str
    retirement_month: date
    first_payment_month: date
    monthly: Decimal
    provisional: bool
    current: bool


def verify(session: Session, *, code: str) -> VerifiedAward | None:
    """An award letter's verification: what was awarded under the code, holder masked; None for an unknown code."""
    from portal.identifiers import mask_name

    normalised = certificates.normalise_code(code)
    if normalised is None:
        return None
    award = session.exec(select(PensionAward).where(PensionAward.code == normalised)).first()
    if award is None:
        return None
    person = session.get(Person, award.person_id)
    return VerifiedAward(award.code, award.awarded_at, mask_name(person.name),
                         certificates.mask_id_number(person.id_number), award.retirement_month,
                         award.first_payment_month, from_fen(award.monthly_fen), award.provisional,
                         award.superseded_by is None)


# --- provisional awards recomputed -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Recomputed:
    person_id: int
    old: Decimal
    new: Decimal
    months_paid: int
    difference: Decimal


def recompute_provisional(session: Session, *, now: datetime) -> list[Recomputed]:
    """Recomputes every current provisional award; a changed figure supersedes it, and the difference for the months
    already paid goes with the next payroll (paid, or recovered when negative). The person is told."""
    done: list[Recomputed] = []
    today = cases.china_date(now)
    for award in session.exec(select(PensionAward).where(PensionAward.provisional.is_(True),
                                                         PensionAward.superseded_by.is_(None))).all():
        person = session.get(Person, award.person_id)
        result, _ = compute_award(session, person=person, retirement_month=award.retirement_month, today=today)
        if not result.eligible:
            continue
        new_fen = to_fen(result.total)
        if new_fen == award.monthly_fen and result.provisional == award.provisional:
            continue
        paid = session.exec(select(PensionPayment.correction_fen).where(PensionPayment.award_id == award.id)).all()
        # What the months paid under this award come to more or less, plus what of its own difference is not
        # settled yet (a second recompute before the next payroll loses nothing).
        difference = (new_fen - award.monthly_fen) * len(paid) + award.difference_fen - sum(paid)
        replacement = _award_row(session, person=person, result=result, claim_date=award.claim_date,
                                 bank_code=award.bank_code, card_number=award.card_number, now=now,
                                 claim_id=award.claim_id, reference=award.case_reference)
        replacement.difference_fen = difference
        replacement.paid_to_last_run = award.paid_to_last_run
        award.superseded_by = -1  # leave the partial unique index before the replacement enters it
        session.add(award)
        session.flush()
        session.add(replacement)
        session.flush()
        award.superseded_by = replacement.id
        session.add(award)
        # Payments already made stay linked to the award they were made under.
        session.flush()
        if difference > 0:
            title = N_("Your pension was recomputed with the published figures: %(amount)s yuan a month. The "
                       "%(difference)s yuan still owed for the months already paid comes with the next payment.")
        elif difference < 0:
            title = N_("Your pension was recomputed with the published figures: %(amount)s yuan a month. The "
                       "%(difference)s yuan overpaid is deducted from the next payments, at most a month's pension "
                       "each.")
        else:
            title = N_("Your pension was recomputed with the published figures: %(amount)s yuan a month.")
        notices.notify(session, recipient_kind="person", recipient_id=person.id, now=now, title=title,
                       params={"amount": str(result.total), "difference": str(abs(from_fen(difference)))})
        audit.record(session=session, actor=SYSTEM, action="pension.recomputed", now=now,
                     object_type="pension_award", object_id=replacement.id,
                     detail={"replaces": award.id, "old": str(from_fen(award.monthly_fen)), "new": str(result.total),
                             "difference": str(from_fen(difference))})
        done.append(Recomputed(person.id, from_fen(award.monthly_fen), result.total, len(paid),
                               from_fen(difference)))
    return done


KIND_SPECS = (
    KindSpec(Kind.RETIREMENT_CLAIM, checks=(check_claim,), effect=apply_claim,
             shown=frozenset({"retirement_month", "statutory_month", "claim_date", "first_payment_month",
                              "actual_months", "deemed_months", "average_index", "estimated_pension", "bank",
                              "card"})),
)


@dataclass(frozen=True)
class PensionSummary:
    award: PensionAward
    monthly: Decimal
    last: PensionPayment | None
    last_amount: Decimal | None
    certification: object  # portal.services.certification.Status


def pension_summary(session: Session, *, person_id: int, today: date) -> PensionSummary | None:
    """What a pensioner sees first: the pension, the last payment, the certification; None without an award."""
    from portal.services import certification

    award = current_award(session, person_id=person_id)
    if award is None:
        return None
    last = session.exec(select(PensionPayment).where(PensionPayment.person_id == person_id)
                        .order_by(PensionPayment.month.desc())).first()
    return PensionSummary(award, from_fen(award.monthly_fen), last, from_fen(last.amount_fen) if last else None,
                          certification.status(session, person_id=person_id, today=today))
