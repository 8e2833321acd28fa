"""Employers' deferral (缓缴) and back payment (补缴) requests, and what their approval does.

Both become cases in the handling queue (``portal.queue.service.submit``). The automatic checks and the
effects of a decision for the kinds ``deferral`` and ``back_payment`` are defined here and declared in
``KIND_SPECS`` at the end, which start-up registers (``portal.assembly``).

A deferral covers whole months of the employer's unpaid bills. On approval the months become ``deferred``
and no late fee accrues on them from the approval, for the longest deferral the policy allows
(``billing.deferral_window``); before the approval the fee runs from each month's due date. A back payment
adds missed months of an employee's spell with this employer as source ``back_payment``, status ``billed``,
on a new bill part for each month; the late fee runs from each month's original due date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import update
from sqlmodel import Session, select

from portal import audit
from portal.auth.principal import SYSTEM, Actor
from portal.errors import N_, Msg, ValidationFailed
from portal.models import (
    BaseDeclaration,
    Bill,
    ContributionMonth,
    Employer,
    EmploymentSpell,
    Person,
)
from portal.models.queue import Case
from portal.policy.contribution_year import contribution_year
from portal.policy.dates import add_months, fmt_month, month_of, parse_month
from portal.policy.errors import ParameterNotDefined, PolicyInputError
from portal.policy.explain import Explanation
from portal.policy.money import from_fen, to_fen
from portal.policy.parameters import param
from portal.policy.rules.contribution import employee_contribution
from portal.policy.rules.late_fee import late_fee
from portal.queue import attachments, cases, parties
from portal.queue import service as queue
from portal.queue.kinds import CheckResult, Kind, KindSpec
from portal.services import accounts, billing, commitments, credit, supervision

DEFERRAL_COMMITMENT = "deferral_hardship"  # the commitment catalogue's item (portal/policy/data/commitments.yaml)
MAX_REASON = 1000
ZERO = Decimal("0.00")


def _employer_of(session: Session, actor: Actor) -> Employer:
    return accounts.employer_of(session, actor=actor)


def _prefecture(employer: Employer) -> str:
    return parties.prefecture_of(employer.region)


# --- deferral ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeferrableMonth:
    month: date
    amount: Decimal
    window: tuple[date, date]  # the days that would earn no late fee once approved
    bill_ids: tuple[int, ...]


def max_deferral_months(today: date) -> int:
    return param("deferral_max_months").at(today).value


def deferrable_months(session: Session, *, actor: Actor, today: date) -> list[DeferrableMonth]:
    """The employer's unpaid months not deferred yet. The window shown is the one an approval today would give:
    a deferral runs from its approval, for the months it names (《吉林省用人单位延期缴纳社会保险费管理暂行办法》)."""
    _employer_of(session, actor)
    unpaid = [bill for bill in billing.bills_for(session, actor=actor) if bill.status != "paid"]
    deferred = billing.deferred_bill_ids(session, bills=unpaid)
    months: dict[date, list[Bill]] = {}
    for bill in unpaid:
        if bill.id not in deferred:
            months.setdefault(bill.month, []).append(bill)
    try:
        window = billing.deferral_window(today)
    except PolicyInputError:  # before the policy allowed deferrals
        return []
    return [DeferrableMonth(month, sum((from_fen(b.total_fen) for b in bills), ZERO), window,
                            tuple(b.id for b in bills)) for month, bills in sorted(months.items())]


def submit_deferral(session: Session, *, actor: Actor, months: list[str], reason: str, mode: str, token: str,
                    now: datetime, today: date, password: str = "", notice_version: str = "", locale: str = "zh_CN",
                    uploads: list[attachments.Upload] | None = None) -> Case:
    """Ask to defer the chosen unpaid months; nothing is created when any field is wrong.

    The hardship is either committed to (``mode="commit"``: the catalogue's notice confirmed with the password,
    evidence kept) or proven with documents (``mode="proof"``), which is the only way for an employer that may not
    commit. The request is routed by the employer's risk tier (portal/services/supervision.py).
    """
    employer = _employer_of(session, actor)
    subject = credit.Subject("employer", employer.id)
    assessment = supervision.assess(session, subject=subject, kind=Kind.DEFERRAL, on=today)
    offered = {fmt_month(m.month): m for m in deferrable_months(session, actor=actor, today=today)}
    chosen = sorted(set(months))
    reason = (reason or "").strip()
    errors: dict[str, Msg] = {}
    limit = max_deferral_months(today)
    if not chosen:
        errors["months"] = Msg(N_("Choose at least one month to defer."))
    elif any(month not in offered for month in chosen):
        errors["months"] = Msg(N_("Choose only months shown in the list."))
    elif len(chosen) > limit:
        errors["months"] = Msg(N_("You can defer at most %(count)s months."), {"count": limit})
    if not reason:
        errors["reason"] = Msg(N_("Say why the employer cannot pay on time."))
    elif len(reason) > MAX_REASON:
        errors["reason"] = Msg(N_("Keep the reason under %(count)s characters."), {"count": MAX_REASON})
    confirmation = None
    uploads = uploads or []
    if mode not in commitments.MODES:
        errors["mode"] = Msg(N_("Choose whether you commit to the hardship or attach documents proving it."))
    elif mode == "commit" and not assessment.eligibility.may_commit:
        errors["mode"] = Msg(N_("You cannot commit instead of proving: attach the documents that prove the hardship."))
    elif mode == "proof" and not uploads:
        errors[attachments.FIELD] = Msg(N_("Attach the documents that prove the hardship."))
    elif mode == "proof":
        try:
            attachments.check(uploads)
        except ValidationFailed as invalid:
            errors |= invalid.errors
    if errors:
        raise ValidationFailed(errors)
    if mode == "commit":
        confirmation = commitments.confirm(session, actor=actor, item=DEFERRAL_COMMITMENT, version=notice_version,
                                           password=password, locale=locale, now=now, today=today)
    payload = {
        "months": chosen,
        "windows": {m: [offered[m].window[0].isoformat(), offered[m].window[1].isoformat()] for m in chosen},
        "amount": str(sum((offered[m].amount for m in chosen), ZERO)),
        "reason": reason,
        "credit_code": employer.credit_code,
    }
    if confirmation is not None:
        payload["commitment"] = commitments.payload_entry(confirmation)
    case = queue.submit(session, kind="deferral", applicant=actor, payload=payload, prefecture=_prefecture(employer),
                        idempotency_key=token, now=now, tier=assessment.tier,
                        uploads=uploads if mode == "proof" else None)
    if confirmation is not None:
        commitments.keep_evidence(session, case=case, confirmation=confirmation, actor=actor)
    return case


def _payload_months(payload: dict) -> list[date]:
    months = payload.get("months")
    if not isinstance(months, list):
        return []
    found = []
    for text_month in months:
        try:
            found.append(parse_month(text_month))
        except ValueError:
            continue
    return found


def _unpaid_rows(employer_id: int, months: list[date]):
    """The employer's contribution rows for these months on bills not yet paid (a query, not yet run)."""
    return (select(ContributionMonth.id)
            .join(Bill, Bill.id == ContributionMonth.bill_id)
            .where(Bill.payer_kind == "employer", Bill.payer_id == employer_id, Bill.status != "paid",
                   Bill.month.in_(months), ContributionMonth.status.in_(("billed", "arrears"))))


def _not_an_employers(code: str) -> CheckResult:
    # Only employers' requests are built on bills and spells; a person's request of the same kind is left to
    # the handler (none is filed online yet).
    return CheckResult(code, True, N_("A person's request: the handler checks the months against the record."))


def check_deferral(session: Session, *, case: Case, payload: dict) -> CheckResult:
    if case.applicant_kind != "employer":
        return _not_an_employers("deferral_months")
    months = _payload_months(payload)
    if not months:
        return CheckResult("deferral_months", False, N_("The request names no months to defer."))
    rows = _unpaid_rows(case.applicant_id, months).with_only_columns(Bill.month).distinct()
    unpaid = set(session.exec(rows).all())
    missing = [fmt_month(m) for m in months if m not in unpaid]
    if missing:
        return CheckResult("deferral_months", False, N_("These months are no longer unpaid: %(months)s."),
                           {"months": ", ".join(missing)})
    return CheckResult("deferral_months", True, N_("Every month asked for is billed and unpaid."))


def apply_deferral(session: Session, *, case: Case, approved: bool, now: datetime, note: str) -> None:
    """Approved: the months' unpaid contribution rows become ``deferred`` (one set-based update)."""
    months = _payload_months(cases.payload_of(case))
    if not approved or not months or case.applicant_kind != "employer":
        return
    changed = session.execute(
        update(ContributionMonth).where(ContributionMonth.id.in_(_unpaid_rows(case.applicant_id, months)))
        .values(status="deferred").execution_options(synchronize_session=False)).rowcount
    audit.record(session=session, actor=SYSTEM, action="deferral.applied", now=now, object_type="case",
                 object_id=case.reference,
                 detail={"months": [fmt_month(m) for m in months], "rows": max(changed or 0, 0)})


def revoke_deferral(session: Session, *, case: Case, now: datetime) -> Decimal | None:
    """A deferral found false afterwards: its months are no longer deferred, so the late fee runs again from each
    original due date. Returns what those months' unpaid bills come to."""
    months = _payload_months(cases.payload_of(case))
    if not months or case.applicant_kind != "employer":
        return None
    deferred = (select(ContributionMonth.id)
                .join(Bill, Bill.id == ContributionMonth.bill_id)
                .where(Bill.payer_kind == "employer", Bill.payer_id == case.applicant_id, Bill.status != "paid",
                       Bill.month.in_(months), ContributionMonth.status == "deferred"))
    changed = session.execute(update(ContributionMonth).where(ContributionMonth.id.in_(deferred))
                              .values(status="billed").execution_options(synchronize_session=False)).rowcount
    due = session.exec(select(Bill.total_fen).where(Bill.payer_kind == "employer", Bill.payer_id == case.applicant_id,
                                                    Bill.status != "paid", Bill.month.in_(months))).all()
    audit.record(session=session, actor=SYSTEM, action="deferral.revoked", now=now, object_type="case",
                 object_id=case.reference, detail={"months": [fmt_month(m) for m in months],
                                                   "rows": max(changed or 0, 0)})
    return from_fen(sum(due)) if due else None


# --- back payment ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuotedMonth:
    month: date
    base: Decimal
    employer: Decimal
    individual: Decimal
    personal_account: Decimal
    late_fee: Decimal
    due_date: date

    @property
    def total(self) -> Decimal:
        return self.employer + self.individual


@dataclass(frozen=True)
class BackPaymentQuote:
    spell: EmploymentSpell
    person: Person
    months: list[QuotedMonth]
    already_recorded: list[date]
    contribution_explanation: Explanation
    late_fee_explanation: Explanation | None

    @property
    def contributions(self) -> Decimal:
        return sum((m.total for m in self.months), ZERO)

    @property
    def late_fees(self) -> Decimal:
        return sum((m.late_fee for m in self.months), ZERO)

    @property
    def total(self) -> Decimal:
        return self.contributions + self.late_fees


def employees_for_back_payment(session: Session, *, actor: Actor) -> list[tuple[EmploymentSpell, Person]]:
    """Every spell of employment with this employer, newest first, for choosing whose months to pay back."""
    employer = _employer_of(session, actor)
    return list(session.exec(select(EmploymentSpell, Person).join(Person, Person.id == EmploymentSpell.person_id)
                             .where(EmploymentSpell.employer_id == employer.id)
                             .order_by(EmploymentSpell.start_month.desc(), EmploymentSpell.id)).all())


def _wage(session: Session, spell: EmploymentSpell, month: date) -> Decimal:
    declared = session.exec(select(BaseDeclaration.wage_fen).where(
        BaseDeclaration.employer_id == spell.employer_id, BaseDeclaration.person_id == spell.person_id,
        BaseDeclaration.contribution_year == contribution_year(month))).first()
    return from_fen(declared if declared is not None else spell.wage_fen)


def _recorded_months(session: Session, person_id: int, first: date, last: date) -> set[date]:
    return set(session.exec(select(ContributionMonth.month).where(
        ContributionMonth.person_id == person_id, ContributionMonth.month >= first,
        ContributionMonth.month <= last)).all())


def quote_back_payment(session: Session, *, actor: Actor, spell_id: str, first_month: str, last_month: str,
                       today: date) -> BackPaymentQuote:
    """The missed months of one employee between two months, each with its contributions and the late fee
    accrued to ``today`` (policy). Raises ValidationFailed with a message at each wrong field."""
    employer = _employer_of(session, actor)
    errors: dict[str, Msg] = {}
    spell = None
    try:
        spell = session.get(EmploymentSpell, int(spell_id))
    except (TypeError, ValueError):
        pass
    if spell is None or spell.employer_id != employer.id:
        errors["spell_id"] = Msg(N_("Choose the employee whose months you want to pay back."))
    first = last = None
    try:
        first = parse_month(first_month)
    except ValueError:
        errors["first_month"] = Msg(N_("Enter the first month as year and month, for example 2024-03."))
    try:
        last = parse_month(last_month)
    except ValueError:
        errors["last_month"] = Msg(N_("Enter the last month as year and month, for example 2024-05."))
    current = month_of(today)
    if first and last and not errors:
        if last < first:
            errors["last_month"] = Msg(N_("The last month must not be before the first month."))
        elif last >= current:
            errors["last_month"] = Msg(N_("Only months before this month can be paid back; this month is billed as usual."))
        elif first < spell.start_month or (spell.end_month is not None and last > spell.end_month):
            end = fmt_month(spell.end_month) if spell.end_month else ""
            errors["first_month"] = Msg(
                N_("The months must fall within the employment, from %(start)s to %(end)s."),
                {"start": fmt_month(spell.start_month), "end": end or fmt_month(add_months(current, -1))})
    if errors:
        raise ValidationFailed(errors)
    person = session.get(Person, spell.person_id)
    recorded = _recorded_months(session, spell.person_id, first, last)
    quoted: list[QuotedMonth] = []
    contribution_explanation = late_fee_explanation = None
    month = first
    try:
        while month <= last:
            if month not in recorded:
                result = employee_contribution(_wage(session, spell, month), month)
                due = billing.month_terms(month).due_date
                fee = late_fee(result.total, due, today)
                quoted.append(QuotedMonth(month, result.base, result.employer, result.individual,
                                          result.personal_account, fee.fee, due))
                contribution_explanation = contribution_explanation or result.explanation
                late_fee_explanation = late_fee_explanation or fee.explanation
            month = add_months(month, 1)
    except ParameterNotDefined:
        raise ValidationFailed({"first_month": Msg(
            N_("The policy has no contribution figures for %(month)s."), {"month": fmt_month(month)})}) from None
    if not quoted:
        raise ValidationFailed({"first_month": Msg(
            N_("Every month in this period is already on the employee's record: there is nothing to pay back."))})
    return BackPaymentQuote(spell, person, quoted, sorted(recorded), contribution_explanation, late_fee_explanation)


def submit_back_payment(session: Session, *, actor: Actor, spell_id: str, first_month: str, last_month: str,
                        token: str, now: datetime, today: date) -> Case:
    """Ask to pay back the quoted months; decided by a handler and a different reviewer (money)."""
    employer = _employer_of(session, actor)
    quote = quote_back_payment(session, actor=actor, spell_id=spell_id, first_month=first_month,
                               last_month=last_month, today=today)
    payload = {
        "person_id": quote.person.id, "person_name": quote.person.name, "id_number": quote.person.id_number,
        "spell_id": quote.spell.id, "first_month": first_month, "last_month": last_month,
        "months": [{"month": fmt_month(m.month), "base": str(m.base), "employer_part": str(m.employer),
                    "individual_part": str(m.individual), "personal_account": str(m.personal_account),
                    "late_fee_to_quote_date": str(m.late_fee)} for m in quote.months],
        "contributions": str(quote.contributions), "late_fee": str(quote.late_fees), "quoted_on": today.isoformat(),
        "credit_code": employer.credit_code,
    }
    tier = supervision.assess(session, subject=credit.Subject("employer", employer.id), kind=Kind.BACK_PAYMENT,
                              on=today).tier  # money: two people on every tier; the tier is kept for sampling
    return queue.submit(session, kind="back_payment", applicant=actor, payload=payload,
                        prefecture=_prefecture(employer), idempotency_key=token, now=now, tier=tier)


def _quoted_rows(payload: dict) -> list[dict]:
    rows = []
    items = payload.get("months")
    for item in items if isinstance(items, list) else []:
        try:
            rows.append({"month": parse_month(item["month"]), "base": to_fen(Decimal(item["base"])),
                         "employer": to_fen(Decimal(item["employer_part"])),
                         "individual": to_fen(Decimal(item["individual_part"])),
                         "account": to_fen(Decimal(item["personal_account"]))})
        except (KeyError, TypeError, ValueError, ArithmeticError):
            continue
    return rows


def _spell_of(session: Session, case: Case, payload: dict) -> EmploymentSpell | None:
    spell = session.get(EmploymentSpell, payload.get("spell_id")) if isinstance(payload.get("spell_id"), int) else None
    if spell is None or case.applicant_kind != "employer" or spell.employer_id != case.applicant_id:
        return None
    return spell


def check_back_payment(session: Session, *, case: Case, payload: dict) -> CheckResult:
    if case.applicant_kind != "employer":
        return _not_an_employers("back_payment_months")
    spell = _spell_of(session, case, payload)
    rows = _quoted_rows(payload)
    if spell is None or not rows:
        return CheckResult("back_payment_months", False, N_("The employee's employment with this employer was not found."))
    months = [row["month"] for row in rows]
    outside = [m for m in months if m < spell.start_month or (spell.end_month is not None and m > spell.end_month)]
    if outside:
        return CheckResult("back_payment_months", False, N_("These months are outside the employment: %(months)s."),
                           {"months": ", ".join(map(fmt_month, outside))})
    recorded = _recorded_months(session, spell.person_id, min(months), max(months)) & set(months)
    if recorded:
        return CheckResult("back_payment_months", False, N_("These months are already on the record: %(months)s."),
                           {"months": ", ".join(map(fmt_month, sorted(recorded)))})
    return CheckResult("back_payment_months", True, N_("Every month asked for falls in the employment and is missing."))


def apply_back_payment(session: Session, *, case: Case, approved: bool, now: datetime, note: str) -> None:
    """Approved: each missed month is added (source back_payment, billed) on a new bill part of its month."""
    payload = cases.payload_of(case)
    spell = _spell_of(session, case, payload)
    if not approved or spell is None:
        return
    rows = _quoted_rows(payload)
    recorded = _recorded_months(session, spell.person_id, min(r["month"] for r in rows),
                                max(r["month"] for r in rows)) if rows else set()
    added = []
    for row in rows:
        if row["month"] in recorded:  # recorded meanwhile (e.g. billed late): never twice
            continue
        month = row["month"]
        part = session.exec(select(Bill.part).where(Bill.payer_kind == "employer", Bill.payer_id == spell.employer_id,
                                                    Bill.month == month).order_by(Bill.part.desc())).first() or 0
        total = row["employer"] + row["individual"]
        bill = Bill(payer_kind="employer", payer_id=spell.employer_id, employer_id=spell.employer_id, month=month,
                    part=part + 1, due_date=billing.month_terms(month).due_date, total_fen=total, status="open",
                    created_at=now)
        session.add(bill)
        session.flush()
        line = ContributionMonth(person_id=spell.person_id, month=month, base_fen=row["base"],
                                 employer_part_fen=row["employer"], individual_part_fen=row["individual"],
                                 personal_account_fen=row["account"], source="back_payment", status="billed",
                                 employer_id=spell.employer_id, bill_id=bill.id, created_at=now)
        session.add(line)
        added.append(fmt_month(month))
    session.flush()
    audit.record(session=session, actor=SYSTEM, action="back_payment.applied",
                 now=now, object_type="case", object_id=case.reference, detail={"months": added})


KIND_SPECS = (
    KindSpec(Kind.DEFERRAL, checks=(check_deferral,), effect=apply_deferral, revoke=revoke_deferral,
             shown=frozenset({"months", "windows", "amount", "reason", "credit_code"}),
             commitments=(DEFERRAL_COMMITMENT,)),
    KindSpec(Kind.BACK_PAYMENT, checks=(check_back_payment,), effect=apply_back_payment,
             shown=frozenset({"person_id", "person_name", "id_number", "spell_id", "first_month", "last_month",
                              "months", "contributions", "late_fee", "quoted_on", "credit_code"})),
)
