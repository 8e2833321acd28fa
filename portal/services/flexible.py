"""Flexible workers (灵活就业) paying for themselves: what the /me/flexible page shows, and paying.

Built on ``enrolment`` (who may enrol, the base percent) and ``billing`` (bills, payment orders). Every figure
comes from the policy engine: tiers and month amounts from ``flexible_contribution``, late fees from
``late_fee``, the pension change from ``estimate``. A person sees and pays only their own months.

Paying bills only the paying person's months (``bill_months``): the province-wide ``run_billing`` would also
bill every other payer for future months, which is the monthly batch's decision, not one person's click.
The figures are the same as the batch's (the tests compare them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import Session, select

from portal.auth.principal import Actor
from portal.errors import N_, Conflict, Msg, NotFound, ValidationFailed
from portal.models import (
    Bill,
    ContributionMonth,
    FlexibleBaseChoice,
    FlexibleEnrolment,
    PaymentOrder,
    PaymentOrderBill,
    Person,
)
from portal.policy.contribution_year import contribution_year, first_month, last_month
from portal.policy.dates import add_months, fmt_month, month_of, months_between, parse_month
from portal.policy.errors import ParameterNotDefined
from portal.policy.estimate import estimate
from portal.policy.explain import Explanation
from portal.policy.money import from_fen, to_fen
from portal.policy.parameters import param
from portal.policy.regions import PROVINCE, prefecture_of_id_number, region_codes
from portal.policy.rules.contribution import ContributionResult, flexible_base_bounds, flexible_contribution
from portal.policy.rules.contribution_index import average_contribution_index
from portal.policy.rules.late_fee import late_fee
from portal.policy.rules.retirement import retirement
from portal.services import billing, enrolment, records
from portal.services.accounts import person_of

# The tiers people usually choose between (a display choice; any whole percent within the parameter's
# bounds may be chosen, and tiers outside the bounds in force are not shown).
COMMON_TIERS = (60, 70, 80, 90, 100, 150, 200, 250, 300)
PERIODS = ("month", "quarter", "rest")
ZERO = Decimal("0.00")


def _enrolments(session: Session, person_id: int) -> list[FlexibleEnrolment]:
    return list(session.exec(select(FlexibleEnrolment).where(FlexibleEnrolment.person_id == person_id)
                             .order_by(FlexibleEnrolment.start_month)).all())


def _covering(enrolments: list[FlexibleEnrolment], month: date) -> FlexibleEnrolment | None:
    for row in enrolments:
        if row.start_month <= month and (row.end_month is None or month <= row.end_month):
            return row
    return None


def year_months(contribution_year: int) -> list[date]:
    """The twelve months of a contribution year, July to June."""
    return [add_months(first_month(contribution_year), offset) for offset in range(12)]


def percent_for(session: Session, *, enrolment_id: int, month: date) -> int:
    """The percent billed for ``month``: the contribution year's choice, else the latest earlier one, else the
    minimum (the same rule as the billing run's SQL)."""
    choice = session.exec(select(FlexibleBaseChoice.base_percent).where(
        FlexibleBaseChoice.enrolment_id == enrolment_id,
        FlexibleBaseChoice.contribution_year <= contribution_year(month))
        .order_by(FlexibleBaseChoice.contribution_year.desc())).first()
    return choice if choice is not None else flexible_base_bounds(month)[0]


def back_payment_window(today: date) -> tuple[date, date]:
    """The first and last month a flexible worker may pay for today: from July of the earliest contribution
    year the policy still allows (parameter ``flexible_back_payment_years``) to June of the current one."""
    years_back = param("flexible_back_payment_years").at(today).value
    current = contribution_year(month_of(today))
    return date(current - years_back, 7, 1), date(current + 1, 6, 1)


# --- Tiers ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tier:
    percent: int
    base: Decimal
    contribution: Decimal
    personal_account: Decimal
    chosen: bool


def tiers(month: date, *, chosen: int | None = None) -> list[Tier]:
    """What each common tier costs a month, and credits to the personal account, under the policy of ``month``."""
    low, high = flexible_base_bounds(month)
    shown = [percent for percent in COMMON_TIERS if low <= percent <= high]
    if chosen is not None and chosen not in shown:
        shown = sorted([*shown, chosen])
    rows = []
    for percent in shown:
        result = flexible_contribution(percent, month)
        rows.append(Tier(percent, result.base, result.total, result.personal_account, percent == chosen))
    return rows


# --- Months of the year, gaps, orders -------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthLine:
    month: date
    # paid | due | overdue | missed | upcoming | ordered | employed | not_enrolled | deferred
    state: str
    amount: Decimal | None  # the month's contribution
    late_fee: Decimal  # accrued to today
    payable: bool  # may be put on a payment order today
    reference: str | None = None  # the pending order it is on

    @property
    def total(self) -> Decimal | None:
        return None if self.amount is None else self.amount + self.late_fee


@dataclass(frozen=True)
class GapMonth:
    month: date
    allowed: bool
    base: Decimal
    amount: Decimal
    personal_account: Decimal
    late_fee: Decimal
    late_fee_days: int
    explanation: Explanation  # the late fee's

    @property
    def total(self) -> Decimal:
        return self.amount + self.late_fee


@dataclass(frozen=True)
class EstimateChange:
    months: int  # the gap months it assumes paid
    without: Decimal | None  # monthly pension at the statutory month, None when the minimum is not met
    with_paid: Decimal | None
    statutory_month: date

    @property
    def difference(self) -> Decimal | None:
        if self.with_paid is None:
            return None
        return self.with_paid - (self.without or ZERO)

    @property
    def increases(self) -> bool:
        return self.difference is not None and self.difference > 0


@dataclass(frozen=True)
class OrderView:
    order: PaymentOrder
    months: tuple[date, ...]

    @property
    def amount(self) -> Decimal:
        return from_fen(self.order.amount_fen)

    @property
    def contributions(self) -> Decimal:
        return from_fen(self.order.contributions_fen)

    @property
    def late_fee(self) -> Decimal:
        return from_fen(self.order.late_fee_fen)


@dataclass(frozen=True)
class FlexibleView:
    person: Person
    enrolment: FlexibleEnrolment | None  # the open enrolment
    problem: Msg | None  # why the person cannot enrol now (when not enrolled)
    today: date
    contribution_year: int
    percent: int | None  # chosen (or billed) percent for the current contribution year
    next_percent: int | None  # chosen for the next contribution year, when chosen
    bounds: tuple[int, int]
    tiers: tuple[Tier, ...]
    months: tuple[MonthLine, ...]  # the current contribution year
    gaps: tuple[GapMonth, ...]
    window: tuple[date, date]
    change: EstimateChange | None
    orders: tuple[OrderView, ...]
    late_fee_applies: bool = True  # False: a late month costs its contribution only (assumed, low confidence)

    @property
    def payable_months(self) -> list[date]:
        return [line.month for line in self.months if line.payable] + [
            gap.month for gap in self.gaps if gap.allowed and gap.month < self.months[0].month]

    @property
    def allowed_gaps(self) -> list[GapMonth]:
        return [gap for gap in self.gaps if gap.allowed]


def _rows_by_month(session: Session, person_id: int) -> dict[date, list[ContributionMonth]]:
    found: dict[date, list[ContributionMonth]] = {}
    for row in session.exec(select(ContributionMonth).where(ContributionMonth.person_id == person_id)):
        found.setdefault(row.month, []).append(row)
    return found


def _pending_orders(session: Session, person_id: int, today: date) -> dict[int, str]:
    """Bill id → reference of a pending order that can still be paid today."""
    rows = session.exec(select(PaymentOrderBill.bill_id, PaymentOrder.reference).join(
        PaymentOrder, PaymentOrder.id == PaymentOrderBill.order_id).where(
        PaymentOrder.payer_kind == "person", PaymentOrder.payer_id == person_id,
        PaymentOrder.status == "pending", PaymentOrder.pay_by >= today)).all()
    return {bill_id: reference for bill_id, reference in rows}


def _quote(session: Session, enrolment: FlexibleEnrolment, month: date,
           row: ContributionMonth | None) -> tuple[Decimal, Decimal, Decimal]:
    """(base, contribution, personal-account part) of a month: as billed, else as the policy would bill it."""
    if row is not None:
        return from_fen(row.base_fen), from_fen(row.individual_part_fen), from_fen(row.personal_account_fen)
    result = flexible_contribution(percent_for(session, enrolment_id=enrolment.id, month=month), month)
    return result.base, result.total, result.personal_account


def _fee(amount: Decimal, month: date, today: date):
    # The same rule as the payment order (billing.bill_due for a person's bill): a person paying for themselves
    # is charged a late fee only where the policy says so.
    return late_fee(amount, billing.month_terms(month).due_date, today, payer="person")


def late_fee_applies(today: date) -> bool:
    """Whether a flexible worker's late month is charged a late fee (parameter ``flexible_late_fee_applies``)."""
    return param("flexible_late_fee_applies").at(today).value == "yes"


def _month_line(session: Session, *, enrolments, rows, pending, month: date, today: date,
                window: tuple[date, date]) -> MonthLine:
    current = month_of(today)
    found = rows.get(month, [])
    if any(row.source == billing.EMPLOYER_FILING for row in found):
        return MonthLine(month, "employed", None, ZERO, False)
    own = next((row for row in found if row.source == billing.FLEXIBLE_PAYMENT), None)
    if own is not None and own.status == "paid":
        return MonthLine(month, "paid", from_fen(own.individual_part_fen), ZERO, False)
    if own is not None and own.status == "deferred":
        return MonthLine(month, "deferred", from_fen(own.individual_part_fen), ZERO, False)
    covering = _covering(enrolments, month)
    if covering is None:
        return MonthLine(month, "not_enrolled", None, ZERO, False)
    _, amount, _ = _quote(session, covering, month, own)
    fee = _fee(amount, month, today).fee
    overdue = today > billing.month_terms(month).due_date
    reference = pending.get(own.bill_id) if own is not None and own.bill_id else None
    if reference:
        return MonthLine(month, "ordered", amount, fee, False, reference)
    payable = window[0] <= month <= window[1]
    if month > current:
        state = "upcoming"
    elif month < current and own is None:
        state = "missed"
    else:
        state = "overdue" if overdue else "due"
    return MonthLine(month, state, amount, fee, payable)


def _gaps(session: Session, *, enrolments, rows, pending, today: date, window) -> list[GapMonth]:
    """Every month before this one that a flexible enrolment covers and that is not paid."""
    gaps: list[GapMonth] = []
    current = month_of(today)
    for enrolled in enrolments:
        month = enrolled.start_month
        last = min(enrolled.end_month or current, add_months(current, -1))
        while month <= last:
            found = rows.get(month, [])
            own = next((row for row in found if row.source == billing.FLEXIBLE_PAYMENT), None)
            counted = any(row.status == "paid" for row in found) or any(
                row.source == billing.EMPLOYER_FILING for row in found)
            on_order = own is not None and own.bill_id in pending
            if not counted and not on_order and not (own is not None and own.status == "deferred"):
                base, amount, account = _quote(session, enrolled, month, own)
                fee = _fee(amount, month, today)
                gaps.append(GapMonth(month, window[0] <= month <= window[1], base, amount, account, fee.fee,
                                     fee.days, fee.explanation))
            month = add_months(month, 1)
    return gaps


def _has_average_wage(month: date) -> bool:
    try:
        param("average_wage").at(month)
    except ParameterNotDefined:
        return False
    return True


def _region(person: Person, on: date) -> str:
    region = prefecture_of_id_number(person.id_number)
    return region if region in region_codes(on) else PROVINCE


def estimate_change(session: Session, *, person: Person, gaps: list[GapMonth], today: date,
                    percent: int) -> EstimateChange | None:
    """The monthly pension at the statutory month from the record as it is, and with ``gaps`` paid.

    Both assume the person keeps paying every month until then at the index of their record (or of the
    chosen percent when nothing is paid yet), as the public estimator does.
    """
    if not gaps:
        return None
    record = records.build_record(session, person=person, today=today)
    counted = [cell for cell in record.cells if cell.counted]
    balance = record.balance_to_date  # with the personal account a transfer into Jilin brought
    history = [(cell.month, cell.base) for cell in counted if cell.base and _has_average_wage(cell.month)]
    added = [(gap.month, gap.base) for gap in gaps if _has_average_wage(gap.month)]
    category = enrolment.retirement_category(person)
    statutory = retirement(person.birth_date, category).statutory_month
    expected = max(0, months_between(month_of(today), statutory) - 1)
    fallback = (Decimal(percent) / 100).quantize(Decimal("0.01"))

    def pension(months: int, rows: list[tuple[date, Decimal]], account: Decimal) -> Decimal | None:
        index = average_contribution_index(rows).average_index if rows else fallback
        result = estimate(birth_date=person.birth_date, category=category, region=_region(person, today),
                          months_paid=months, months_expected=expected, average_index=index,
                          account_balance=account, today=today)
        return result.pension.total if result.pension else None

    without = pension(len(counted), history, balance)
    with_paid = pension(len(counted) + len(gaps), history + added,
                        balance + sum((gap.personal_account for gap in gaps), ZERO))
    return EstimateChange(len(gaps), without, with_paid, statutory)


def overview(session: Session, *, actor: Actor, today: date) -> FlexibleView:
    """Everything /me/flexible shows for the signed-in person."""
    person = person_of(session, actor=actor)
    current = month_of(today)
    cy = contribution_year(current)
    enrolments = _enrolments(session, person.id)
    open_enrolment = next((row for row in enrolments if row.end_month is None), None)
    problem = None if open_enrolment else enrolment.flexible_eligibility_problem(
        session, person=person, month=current)
    percent = next_percent = None
    if open_enrolment is not None:
        percent = percent_for(session, enrolment_id=open_enrolment.id, month=current)
        next_percent = session.exec(select(FlexibleBaseChoice.base_percent).where(
            FlexibleBaseChoice.enrolment_id == open_enrolment.id,
            FlexibleBaseChoice.contribution_year == cy + 1)).first()
    window = back_payment_window(today)
    rows = _rows_by_month(session, person.id)
    pending = _pending_orders(session, person.id, today)
    months = [] if not enrolments else [
        _month_line(session, enrolments=enrolments, rows=rows, pending=pending, month=month, today=today,
                    window=window) for month in year_months(cy)]
    gaps = _gaps(session, enrolments=enrolments, rows=rows, pending=pending, today=today, window=window)
    allowed = [gap for gap in gaps if gap.allowed]
    change = estimate_change(session, person=person, gaps=allowed, today=today,
                             percent=percent or flexible_base_bounds(current)[0])
    orders = session.exec(select(PaymentOrder).where(PaymentOrder.payer_kind == "person",
                                                     PaymentOrder.payer_id == person.id)
                          .order_by(PaymentOrder.id.desc()).limit(10)).all()
    return FlexibleView(
        person=person, enrolment=open_enrolment, problem=problem, today=today, contribution_year=cy,
        percent=percent, next_percent=next_percent, bounds=flexible_base_bounds(current),
        tiers=tuple(tiers(current, chosen=percent)), months=tuple(months), gaps=tuple(gaps), window=window,
        change=change, orders=tuple(OrderView(row, ()) for row in orders), late_fee_applies=late_fee_applies(today),
    )


# --- Paying ----------------------------------------------------------------------------------------------------


def months_for(period: str, first: date, payable: list[date]) -> list[date]:
    """The payable months a choice covers: ``first`` alone, the rest of its calendar quarter, or the rest of
    its contribution year."""
    if period == "month":
        last = first
    elif period == "quarter":
        last = date(first.year, (first.month - 1) // 3 * 3 + 3, 1)
    else:
        last = last_month(contribution_year(first))
    return [month for month in sorted(set(payable)) if first <= month <= last]


def bill_months(session: Session, *, person_id: int, months: list[date], now: datetime) -> list[Bill]:
    """Bills one person's flexible months (those not billed yet), one bill per month; returns each month's bill.

    The person-scoped twin of ``billing.run_billing``: same source and status, same due date, same rounding
    (the policy's ``flexible_contribution``); a month already billed keeps its bill, so rerunning changes
    nothing.
    """
    enrolments = _enrolments(session, person_id)
    bills: list[Bill] = []
    for month in months:
        row = session.exec(select(ContributionMonth).where(
            ContributionMonth.person_id == person_id, ContributionMonth.month == month,
            ContributionMonth.source == billing.FLEXIBLE_PAYMENT)).first()
        if row is None:
            covering = _covering(enrolments, month)
            if covering is None:
                raise Conflict(Msg(N_("You were not enrolled as a flexible worker in %(month)s."),
                                   {"month": fmt_month(month)}))
            result: ContributionResult = flexible_contribution(
                percent_for(session, enrolment_id=covering.id, month=month), month)
            row = ContributionMonth(person_id=person_id, month=month, base_fen=to_fen(result.base),
                                    employer_part_fen=0, individual_part_fen=to_fen(result.individual),
                                    personal_account_fen=to_fen(result.personal_account),
                                    source=billing.FLEXIBLE_PAYMENT, status="billed", created_at=now)
            session.add(row)
            session.flush()
        if row.bill_id is None:
            bill = session.exec(select(Bill).where(Bill.payer_kind == "person", Bill.payer_id == person_id,
                                                   Bill.month == month, Bill.status == "open")).first()
            if bill is None:
                part = session.exec(select(func.max(Bill.part)).where(
                    Bill.payer_kind == "person", Bill.payer_id == person_id, Bill.month == month)).first() or 0
                bill = Bill(payer_kind="person", payer_id=person_id, person_id=person_id, month=month,
                            part=part + 1, due_date=billing.month_terms(month).due_date, total_fen=0,
                            status="open", created_at=now)
                session.add(bill)
                session.flush()
            row.bill_id = bill.id
            session.add(row)  # on the bill: one of its lines
            bill.total_fen += row.employer_part_fen + row.individual_part_fen
            session.add(bill)
            session.flush()
        bills.append(session.get(Bill, row.bill_id))
    return bills


def pay(session: Session, *, actor: Actor, period: str, first_month: str, today: date,
        now: datetime) -> PaymentOrder:
    """A payment order for the signed-in person's chosen months, billing those not billed yet."""
    person = person_of(session, actor=actor)
    # One payment at a time per person: a second one (a double click, another device) waits here, then
    # finds the months on the first one's order and is told so, instead of failing on the unique month.
    session.exec(select(Person.id).where(Person.id == person.id).with_for_update()).one()
    view = overview(session, actor=actor, today=today)
    payable = view.payable_months
    errors: dict[str, Msg] = {}
    if period not in PERIODS:
        errors["period"] = Msg(N_("Choose what to pay for: one month, the rest of the quarter or the rest of "
                                  "the contribution year."))
    try:
        first = parse_month(first_month)
    except ValueError:
        first = None
    if first is None or first not in payable:
        errors["month"] = Msg(N_("Choose a month you can pay for now."))
    if errors:
        raise ValidationFailed(errors)
    months = months_for(period, first, payable)
    bills = bill_months(session, person_id=person.id, months=months, now=now)
    return billing.create_payment_order(session, actor=actor, bill_ids=sorted({bill.id for bill in bills}),
                                        pay_on=today, now=now)


def order(session: Session, *, actor: Actor, reference: str) -> OrderView:
    """One of the signed-in person's own payment orders; another payer's reference is not found."""
    person = person_of(session, actor=actor)
    found = session.exec(select(PaymentOrder).where(PaymentOrder.reference == reference)).first()
    if found is None or found.payer_kind != "person" or found.payer_id != person.id:
        raise NotFound()
    months = session.exec(select(Bill.month).join(PaymentOrderBill, PaymentOrderBill.bill_id == Bill.id)
                          .where(PaymentOrderBill.order_id == found.id).order_by(Bill.month)).all()
    return OrderView(found, tuple(months))
