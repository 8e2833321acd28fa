"""The monthly billing run, arrears, payment orders and payments.

``run_billing`` is set-based: a handful of INSERT ... SELECT / UPDATE statements bill every spell and
flexible enrolment covering the month, whatever their number. The month's floor, cap and rates are read
from the policy engine and passed in as bound parameters; rounding is done in integer fen exactly as
``portal.policy.rules.contribution`` does it (each part rounded half up on its own), so the SQL and the
policy functions agree to the fen (tests compare them). Every statement skips what already exists, so a
second run for the same month changes nothing.

A bill's lines are the contribution months that name it (``contribution_month.bill_id``): each month's base and
parts are written once, on the month, and a bill's total is the sum of its months' employer and individual parts.

A bill, once issued, never changes: the payer may have a payment order for it, have paid it, or have it under
an approved deferral. A run only fills the bills it opens itself (``created_at`` = the run's ``now``); months
found after a payer's bill for the month was issued (an employee enrolled into a month already billed) go on a
supplementary bill, a new ``part``, and the payer gets a notice saying so.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import BigInteger, Date, Integer, bindparam, text
from sqlmodel import Session, select

from portal import audit
from portal.auth.principal import SYSTEM, Actor
from portal.clock import CHINA
from portal.errors import N_, Conflict, Forbidden, Msg, NotFound, ValidationFailed
from portal.faults import crash_point
from portal.models import (
    Bill,
    Case,
    ContributionMonth,
    Payment,
    PaymentOrder,
    PaymentOrderBill,
    Person,
)
from portal.models.types import UTCDateTime
from portal.policy.contribution_year import contribution_year
from portal.policy.dates import add_months, month_of, parse_month
from portal.policy.explain import Explanation
from portal.policy.money import from_fen, rate_fraction, to_fen
from portal.policy.parameters import param
from portal.policy.rules.contribution import flexible_base_bounds
from portal.policy.rules.late_fee import deferral_window as policy_deferral_window
from portal.policy.rules.late_fee import late_fee
from portal.services import bill_lines

EMPLOYER_FILING = "employer_filing"
FLEXIBLE_PAYMENT = "flexible_payment"


@dataclass(frozen=True)
class MonthTerms:
    """Everything the billing SQL needs for one month, read from the policy parameters for that month."""

    month: date
    contribution_year: int
    floor_fen: int
    cap_fen: int
    employer_rate: Decimal
    individual_rate: Decimal
    account_rate: Decimal
    flexible_total_rate: Decimal
    flexible_account_rate: Decimal
    floor_percent: int
    flexible_min_percent: int
    flexible_max_percent: int
    due_date: date

    def sql_params(self) -> dict[str, object]:
        params: dict[str, object] = {
            "month": self.month, "cy": self.contribution_year, "floor": self.floor_fen, "cap": self.cap_fen,
            "floor_pct": self.floor_percent, "flex_min": self.flexible_min_percent, "due": self.due_date,
        }
        for name, rate in (("er", self.employer_rate), ("ir", self.individual_rate), ("ar", self.account_rate),
                           ("ft", self.flexible_total_rate), ("fa", self.flexible_account_rate)):
            params[f"{name}_n"], params[f"{name}_d"] = rate_fraction(rate)
        return params


def month_terms(month: date) -> MonthTerms:
    """The policy in force for ``month`` (first day of the month)."""
    month = month.replace(day=1)
    percent = param("base_limit_percent").at(month).value
    flexible_min, flexible_max = flexible_base_bounds(month)
    due_day = param("contribution_due_day").at(month).value
    last_day = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return MonthTerms(
        month=month,
        contribution_year=contribution_year(month),
        floor_fen=to_fen(param("base_floor").at(month).value),
        cap_fen=to_fen(param("base_cap").at(month).value),
        employer_rate=param("employer_rate").at(month).value,
        individual_rate=param("individual_rate").at(month).value,
        account_rate=param("personal_account_rate").at(month).value,
        flexible_total_rate=param("flexible_total_rate").at(month).value,
        flexible_account_rate=param("flexible_personal_account_rate").at(month).value,
        floor_percent=int(percent["floor"]),
        flexible_min_percent=flexible_min,
        flexible_max_percent=flexible_max,
        due_date=month.replace(day=min(int(due_day), last_day.day)),
    )


def _round(expr: str, rate: str) -> str:
    """SQL for round-half-up(expr × rate) in integer fen, the rate given as the fraction :rate_n / :rate_d."""
    return f"((2 * ({expr}) * CAST(:{rate}_n AS BIGINT) + CAST(:{rate}_d AS BIGINT)) / (2 * CAST(:{rate}_d AS BIGINT)))"


# The base for each spell covering the month: the wage declared for the contribution year, else the wage
# given at enrolment, clamped to the month's floor and cap.
_EMPLOYEE_BASES = """
SELECT w.person_id AS person_id, w.employer_id AS employer_id,
       CASE WHEN w.wage < CAST(:floor AS BIGINT) THEN CAST(:floor AS BIGINT)
            WHEN w.wage > CAST(:cap AS BIGINT) THEN CAST(:cap AS BIGINT)
            ELSE w.wage END AS base
FROM (SELECT s.person_id AS person_id, s.employer_id AS employer_id, COALESCE(d.wage_fen, s.wage_fen) AS wage
      FROM employment_spell s
      LEFT JOIN base_declaration d
        ON d.employer_id = s.employer_id AND d.person_id = s.person_id AND d.contribution_year = :cy
      WHERE s.start_month <= :month AND (s.end_month IS NULL OR s.end_month >= :month)) w
"""

_INSERT_EMPLOYEE = f"""
INSERT INTO contribution_month (person_id, month, base_fen, employer_part_fen, individual_part_fen,
                                personal_account_fen, source, status, employer_id, bill_id, created_at)
SELECT b.person_id, :month, b.base, {_round("b.base", "er")}, {_round("b.base", "ir")}, {_round("b.base", "ar")},
       'employer_filing', 'billed', b.employer_id, @bill@, :now
FROM ({_EMPLOYEE_BASES}) b
WHERE NOT EXISTS (SELECT 1 FROM contribution_month c
                  WHERE c.person_id = b.person_id AND c.month = :month AND c.source = 'employer_filing')
ON CONFLICT (person_id, month, source) DO NOTHING
"""  # noqa: S608 - built from this module's constant fragments, values are bound

# A flexible worker's base is the chosen percent of the average wage behind the published floor
# (floor ÷ floor percent), i.e. floor × percent ÷ floor percent, rounded half up to the fen. The percent is
# the one chosen for the contribution year, else the latest earlier choice, else the minimum.
_FLEXIBLE_BASES = """
SELECT p.person_id AS person_id,
       (2 * CAST(:floor AS BIGINT) * p.percent + CAST(:floor_pct AS BIGINT)) / (2 * CAST(:floor_pct AS BIGINT)) AS base
FROM (SELECT e.person_id AS person_id,
             COALESCE((SELECT ch.base_percent FROM flexible_base_choice ch
                       WHERE ch.enrolment_id = e.id AND ch.contribution_year <= :cy
                       ORDER BY ch.contribution_year DESC LIMIT 1), CAST(:flex_min AS BIGINT)) AS percent
      FROM flexible_enrolment e
      WHERE e.start_month <= :month AND (e.end_month IS NULL OR e.end_month >= :month)) p
"""

_INSERT_FLEXIBLE = f"""
INSERT INTO contribution_month (person_id, month, base_fen, employer_part_fen, individual_part_fen,
                                personal_account_fen, source, status, employer_id, bill_id, created_at)
SELECT f.person_id, :month, f.base, 0, {_round("f.base", "ft")}, {_round("f.base", "fa")},
       'flexible_payment', 'billed', NULL, @bill@, :now
FROM ({_FLEXIBLE_BASES}) f
WHERE NOT EXISTS (SELECT 1 FROM contribution_month c
                  WHERE c.person_id = f.person_id AND c.month = :month
                    AND c.source IN ('flexible_payment', 'employer_filing'))
ON CONFLICT (person_id, month, source) DO NOTHING
"""  # noqa: S608 - built from this module's constant fragments, values are bound

# On PostgreSQL the bills are opened before the months are written, so that each month is inserted with its
# bill instead of being updated afterwards: an update of rows written in the same transaction re-runs every
# foreign-key check of the row and rewrites it with its index entries, most of the run's time there. The
# payers are those of the months the next statement inserts; bills are looked up by their unique key's index.
# On SQLite the updates are cheap and the extra look-ups are not (measured: 2.0 s against 2.4 s for 100,000
# persons), so there the months are written first and attached to the bills made from them (the statements
# below); both orders give the same rows, and the attach statements also serve months billed by other paths.
_BILL_LOOKUP = ("(SELECT o.id FROM bill o WHERE o.payer_kind = '{kind}' AND o.payer_id = {payer} "
                "AND o.month = :month AND o.status = 'open' AND o.created_at = :now)")
_INSERT_EMPLOYEE_WITH_BILL = _INSERT_EMPLOYEE.replace(
    "@bill@", _BILL_LOOKUP.format(kind="employer", payer="b.employer_id"))
_INSERT_FLEXIBLE_WITH_BILL = _INSERT_FLEXIBLE.replace(
    "@bill@", _BILL_LOOKUP.format(kind="person", payer="f.person_id"))
_INSERT_EMPLOYEE = _INSERT_EMPLOYEE.replace("@bill@", "NULL")
_INSERT_FLEXIBLE = _INSERT_FLEXIBLE.replace("@bill@", "NULL")
_BILL_FROM = """
INSERT INTO bill (payer_kind, payer_id, employer_id, person_id, month, part, due_date, total_fen, status, created_at)
SELECT '{kind}', p.payer_id, {employer}, {person}, :month,
       COALESCE((SELECT MAX(o.part) FROM bill o
                 WHERE o.payer_kind = '{kind}' AND o.payer_id = p.payer_id AND o.month = :month), 0) + 1,
       :due, 0, 'open', :now
FROM (SELECT DISTINCT {payer} AS payer_id FROM {covering}
      WHERE x.start_month <= :month AND (x.end_month IS NULL OR x.end_month >= :month)
        AND NOT EXISTS (SELECT 1 FROM contribution_month c
                        WHERE c.person_id = x.person_id AND c.month = :month AND c.source IN ({sources}))) p
WHERE (SELECT COUNT(*) FROM bill o WHERE o.payer_kind = '{kind}' AND o.payer_id = p.payer_id
       AND o.month = :month AND o.status = 'open' AND o.created_at = :now) = 0
"""  # noqa: S608 - constant fragments, values are bound
# (A count, not NOT EXISTS: as an anti-join PostgreSQL may misjudge the payers as one row and rescan the
# month's bills, including those the statement itself is inserting, for each payer.)
_EMPLOYER_BILLS = _BILL_FROM.format(kind="employer", employer="p.payer_id", person="NULL", payer="x.employer_id",
                                    covering="employment_spell x", sources="'employer_filing'")
_PERSON_BILLS = _BILL_FROM.format(kind="person", employer="NULL", person="p.payer_id", payer="x.person_id",
                                  covering="flexible_enrolment x", sources="'flexible_payment', 'employer_filing'")

# A payer whose every month turned out to be there already (overlapping spells) keeps no empty bill.
# "c.month = bill.month" names the partition to read on PostgreSQL (the history is partitioned by year). SQLite, which
# has one table, would use it to scan the whole month for each bill instead of the bill's own months (billing 100,000
# persons took 215 s instead of 1.2), so there the term is written "+c.month": the same condition, but no index.
_SAME_MONTH = {"postgresql": "c.month = bill.month", "sqlite": "+c.month = bill.month"}
_DROP_EMPTY_BILLS = """
DELETE FROM bill WHERE month = :month AND status = 'open' AND total_fen = 0 AND created_at = :now
  AND NOT EXISTS (SELECT 1 FROM contribution_month c WHERE c.bill_id = bill.id AND {same_month})
"""

# Months without a bill yet (all of them on SQLite; on PostgreSQL those billed by other paths: back
# payments, a flexible worker's own payment):
# One bill per payer and month opened by this run; rows found after a bill was issued get a new part.
# The payers come from a UNION of plain columns (not CASE expressions) so that PostgreSQL can look the open
# bill up by its index instead of rescanning the month's open bills for every payer.
_INSERT_BILLS = """
INSERT INTO bill (payer_kind, payer_id, employer_id, person_id, month, part, due_date, total_fen, status, created_at)
SELECT u.payer_kind, u.payer_id,
       CASE WHEN u.payer_kind = 'employer' THEN u.payer_id END,
       CASE WHEN u.payer_kind = 'person' THEN u.payer_id END,
       :month,
       COALESCE((SELECT MAX(b.part) FROM bill b
                 WHERE b.payer_kind = u.payer_kind AND b.payer_id = u.payer_id AND b.month = :month), 0) + 1,
       :due, 0, 'open', :now
FROM (SELECT 'employer' AS payer_kind, c.employer_id AS payer_id
      FROM contribution_month c
      WHERE c.month = :month AND c.bill_id IS NULL AND c.status = 'billed' AND c.source = 'employer_filing'
      UNION
      SELECT 'person', c.person_id
      FROM contribution_month c
      WHERE c.month = :month AND c.bill_id IS NULL AND c.status = 'billed' AND c.source = 'flexible_payment') u
WHERE NOT EXISTS (SELECT 1 FROM bill b WHERE b.payer_kind = u.payer_kind AND b.payer_id = u.payer_id
                  AND b.month = :month AND b.status = 'open' AND b.created_at = :now)
"""

_ATTACH_EMPLOYER_ROWS = """
UPDATE contribution_month SET bill_id = b.id
FROM bill b
WHERE contribution_month.month = :month AND contribution_month.bill_id IS NULL
  AND contribution_month.status = 'billed' AND contribution_month.source = 'employer_filing'
  AND b.payer_kind = 'employer' AND b.payer_id = contribution_month.employer_id
  AND b.month = :month AND b.status = 'open' AND b.created_at = :now
"""

_ATTACH_PERSON_ROWS = """
UPDATE contribution_month SET bill_id = b.id
FROM bill b
WHERE contribution_month.month = :month AND contribution_month.bill_id IS NULL
  AND contribution_month.status = 'billed' AND contribution_month.source = 'flexible_payment'
  AND b.payer_kind = 'person' AND b.payer_id = contribution_month.person_id
  AND b.month = :month AND b.status = 'open' AND b.created_at = :now
"""

# A bill's total: its months' employer and individual parts. The month's rows are summed once by bill and the sums
# joined to the bills this run opened: summing each bill's months through the bill index, twice (for the new total and
# to skip an unchanged one), was 0.37 of the 2.1 s billing took for 100,000 persons on PostgreSQL. A bill's months are
# all of its month (every path attaches months to a bill of their month), so only that month is read; a bill with no
# months keeps its total of 0 and is dropped below.
_TOTALS = """
UPDATE bill SET total_fen = t.total
FROM (SELECT c.bill_id AS bill_id, SUM(c.employer_part_fen + c.individual_part_fen) AS total
      FROM contribution_month c
      WHERE c.month = :month AND c.bill_id IS NOT NULL
      GROUP BY c.bill_id) t
WHERE bill.id = t.bill_id AND bill.month = :month AND bill.status = 'open' AND bill.created_at = :now
  AND bill.total_fen <> t.total
"""

# The payers who got a supplementary bill in this run are told; guarded so that the same run repeated (the same
# ``now``) tells nobody twice.
SUPPLEMENTARY_NOTICE = N_("Months were added to %(month)s after its bill was issued: they are on a supplementary "
                          "bill. The first bill does not change. Open your bills to see and pay it.")
_NOTIFY_SUPPLEMENTARY = """
INSERT INTO notice (recipient_kind, recipient_id, case_id, at, title, params)
SELECT b.payer_kind, b.payer_id, NULL, :now, CAST(:notice_title AS VARCHAR(200)), CAST(:notice_params AS TEXT)
FROM bill b
WHERE b.month = :month AND b.created_at = :now AND b.part > 1
  AND NOT EXISTS (SELECT 1 FROM notice n WHERE n.recipient_kind = b.payer_kind AND n.recipient_id = b.payer_id
                  AND n.at = :now AND n.title = CAST(:notice_title AS VARCHAR(200))
                  AND n.params = CAST(:notice_params AS TEXT))
"""

_TYPES = {
    "month": Date(), "due": Date(), "today": Date(), "now": UTCDateTime(), "cy": Integer(),
    "floor": BigInteger(), "cap": BigInteger(),
}


def _exec(session: Session, sql: str, params: dict[str, object]) -> int:
    statement = text(sql)
    binds = [bindparam(name, type_=kind) for name, kind in _TYPES.items() if f":{name}" in sql]
    if binds:
        statement = statement.bindparams(*binds)
    used = {name: value for name, value in params.items() if f":{name}" in sql}
    result = session.execute(statement, used)
    return max(result.rowcount or 0, 0)


@dataclass(frozen=True)
class BillingReport:
    month: date
    employee_months: int
    flexible_months: int
    bills: int
    lines: int  # months this run put on a bill (a bill's lines are its months)
    supplementary: int = 0  # bills added to a month whose bill had already been issued (their payers are told)


def run_billing(session: Session, *, month: date, now: datetime, actor: Actor = SYSTEM) -> BillingReport:
    """Bills every employment spell and flexible enrolment covering ``month``; a rerun changes nothing.

    Bills issued by an earlier run are never changed: what was added since goes on a supplementary bill."""
    terms = month_terms(month)
    params = terms.sql_params() | {"now": now, "notice_title": SUPPLEMENTARY_NOTICE,
                                   "notice_params": json.dumps({"month": f"{terms.month:%Y-%m}"})}
    if session.get_bind().dialect.name == "postgresql":
        bills = _exec(session, _EMPLOYER_BILLS, params)
        employees = _exec(session, _INSERT_EMPLOYEE_WITH_BILL, params)
        bills += _exec(session, _PERSON_BILLS, params)
        flexible = _exec(session, _INSERT_FLEXIBLE_WITH_BILL, params)
        lines = employees + flexible  # each inserted with the bill its payer got just before
    else:
        bills = lines = 0
        employees = _exec(session, _INSERT_EMPLOYEE, params)
        flexible = _exec(session, _INSERT_FLEXIBLE, params)
    crash_point("billing.months")
    bills += _exec(session, _INSERT_BILLS, params)
    lines += _exec(session, _ATTACH_EMPLOYER_ROWS, params)
    lines += _exec(session, _ATTACH_PERSON_ROWS, params)
    crash_point("billing.lines")  # every month of the run is on its bill
    same_month = _SAME_MONTH[session.get_bind().dialect.name]
    _exec(session, _TOTALS, params)
    bills -= _exec(session, _DROP_EMPTY_BILLS.format(same_month=same_month), params)
    supplementary = _exec(session, _NOTIFY_SUPPLEMENTARY, params)
    report = BillingReport(terms.month, employees, flexible, bills, lines, supplementary)
    if employees or flexible or bills or lines:
        audit.record(session=session, actor=actor, action="billing.run", now=now, object_type="month",
                     object_id=f"{terms.month:%Y-%m}",
                     detail={"employee_months": employees, "flexible_months": flexible, "bills": bills,
                             "lines": lines, "supplementary": supplementary})
    return report


def mark_arrears(session: Session, *, today: date) -> int:
    """Open bills past their due date, and their months, go into arrears. Returns the number of bills."""
    params: dict[str, object] = {"today": today}
    _exec(session, """
        UPDATE contribution_month SET status = 'arrears'
        WHERE bill_id IN (SELECT b.id FROM bill b WHERE b.status = 'open' AND b.due_date < :today)
          AND status = 'billed'""", params)
    return _exec(session, "UPDATE bill SET status = 'arrears' WHERE status = 'open' AND due_date < :today", params)


# --- Payment orders and payments ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BillDue:
    bill: Bill
    amount: Decimal
    late_fee: Decimal
    explanation: Explanation | None = None  # how the late fee was calculated (None when nothing was late)
    deferral: tuple[date, date] | None = None  # the approved deferral window left out of the late fee

    @property
    def total(self) -> Decimal:
        return self.amount + self.late_fee


def deferral_window(approved_on: date) -> tuple[date, date]:
    """The days on which no late fee accrues for the months an approved deferral names: from the approval, for
    the longest deferral the policy allows then (``portal.policy.rules.late_fee.deferral_window``)."""
    window = policy_deferral_window(approved_on)
    return window.start, window.end


def deferral_approvals(session: Session, *, bills: list[Bill]) -> dict[int, date]:
    """Bill id → the day (in China) the deferral covering it was approved, for bills under an approved deferral.

    The approval is the deferral case's decision; a month on several approved cases counts from the first."""
    deferred_ids = deferred_bill_ids(session, bills=bills)  # once, not once a bill
    deferred = [bill for bill in bills if bill.id in deferred_ids]
    if not deferred:
        return {}
    approved: dict[tuple[str, int, date], date] = {}
    cases = session.exec(select(Case).where(
        Case.kind == "deferral", Case.outcome == "approved", Case.decided_at.is_not(None),
        Case.applicant_id.in_({bill.payer_id for bill in deferred})))
    for case in cases:
        try:
            months = json.loads(case.payload or "{}").get("months") or []
        except (ValueError, AttributeError):
            continue
        day = case.decided_at.astimezone(CHINA).date()
        for text_month in months if isinstance(months, list) else []:
            try:
                key = (case.applicant_kind, case.applicant_id, parse_month(text_month))
            except ValueError:
                continue
            approved[key] = min(day, approved.get(key, day))
    # A month deferred with no approval on record (set by hand before cases were kept) counts from its due date.
    return {bill.id: approved.get((bill.payer_kind, bill.payer_id, bill.month), bill.due_date + timedelta(days=1))
            for bill in deferred}


def bill_due(bill: Bill, *, pay_on: date, approved_on: date | None = None) -> BillDue:
    """What paying ``bill`` on ``pay_on`` costs: the contributions plus the late fee accrued by then.

    ``approved_on``: the bill's months are under a deferral approved that day; from then on, for the longest
    deferral allowed, no late fee accrues (before it, the fee runs from the due date). A person paying for
    themselves is charged a late fee only if the policy says so (``flexible_late_fee_applies``).
    """
    amount = from_fen(bill.total_fen)
    window = deferral_window(approved_on) if approved_on else None
    if pay_on <= bill.due_date:
        return BillDue(bill, amount, Decimal("0.00"), None, window)
    result = late_fee(amount, bill.due_date, pay_on, deferrals=[window] if window else (), payer=bill.payer_kind)
    return BillDue(bill, amount, result.fee, result.explanation, window)


def deferred_bill_ids(session: Session, *, bills: list[Bill]) -> set[int]:
    """The ids of those of these bills that carry months under an approved deferral."""
    if not bills:
        return set()
    return set(session.exec(
        select(ContributionMonth.bill_id)
        .where(*bill_lines.on_bills(bills), ContributionMonth.status == "deferred").distinct()).all())


def _payer_of(actor: Actor) -> tuple[str, int]:
    party = actor.principal.party if actor.principal is not None else None
    if party is None:
        raise Forbidden()
    return party


def latest_pay_on(today: date) -> date:
    """The last payment date an order may be made out for: the end of next month. The order's late fee is computed
    to that date, so an order must stay short-lived; a later payment needs a new order with its fee."""
    return add_months(month_of(today), 2) - timedelta(days=1)


def pay_on_problem(pay_on: date, today: date) -> Msg | None:
    """Why ``pay_on`` cannot be an order's payment date (past, or beyond ``latest_pay_on``), or None."""
    if not today <= pay_on <= latest_pay_on(today):
        return Msg(N_("Choose a payment date from today to %(last)s: a payment order is valid only for a short "
                      "time, because the late fee grows each day."), {"last": latest_pay_on(today).isoformat()})
    return None


def create_payment_order(
    session: Session, *, actor: Actor, bill_ids: list[int], pay_on: date, now: datetime
) -> PaymentOrder:
    """An order for the payer's own unpaid bills, with the late fee to ``pay_on``; the reference is what the
    collector confirms."""
    payer_kind, payer_id = _payer_of(actor)
    if not bill_ids:
        raise ValidationFailed({"bills": Msg(N_("Choose at least one bill to pay."))})
    problem = pay_on_problem(pay_on, now.astimezone(CHINA).date())
    if problem:
        raise ValidationFailed({"pay_on": problem})
    # Locked, in id order as apply_payment does, so two orders for one bill are made one after the other.
    bills = list(session.exec(select(Bill).where(Bill.id.in_(set(bill_ids))).order_by(Bill.id).with_for_update()
                              .execution_options(populate_existing=True)).all())
    if len(bills) != len(set(bill_ids)) or any(
            bill.payer_kind != payer_kind or bill.payer_id != payer_id for bill in bills):
        raise NotFound()
    if any(bill.status == "paid" for bill in bills):
        raise Conflict(Msg(N_("One of these bills has already been paid.")))
    approvals = deferral_approvals(session, bills=bills)
    dues = [bill_due(bill, pay_on=pay_on, approved_on=approvals.get(bill.id)) for bill in bills]
    contributions = sum((due.amount for due in dues), Decimal("0.00"))
    fees = sum((due.late_fee for due in dues), Decimal("0.00"))
    reference = f"JLP{pay_on:%Y%m%d}{secrets.token_hex(5).upper()}"
    _void_orders_of(session, bill_ids=[bill.id for bill in bills], replaced_by=reference, actor=actor, now=now)
    order = PaymentOrder(
        reference=reference, payer_kind=payer_kind, payer_id=payer_id,
        contributions_fen=to_fen(contributions), late_fee_fen=to_fen(fees), amount_fen=to_fen(contributions + fees),
        pay_by=pay_on, status="pending", created_at=now,
    )
    session.add(order)
    session.flush()
    for due in dues:
        session.add(PaymentOrderBill(order_id=order.id, bill_id=due.bill.id, amount_fen=to_fen(due.amount),
                                     late_fee_fen=to_fen(due.late_fee)))
    session.flush()
    audit.record(session=session, actor=actor, action="payment.order_created", now=now,
                 object_type="payment_order", object_id=order.reference,
                 detail={"bills": sorted(bill_ids), "amount": str(from_fen(order.amount_fen))})
    return order


def _void_orders_of(session: Session, *, bill_ids: list[int], replaced_by: str, actor: Actor, now: datetime,
                    keep_order_id: int | None = None) -> list[str]:
    """Voids the orders still waiting for payment that cover any of these bills: a newer order (or a payment)
    replaced them. A voided order leaves the payer's page; the collector's confirmation of it is still credited
    once if none of its bills has been paid meanwhile (apply_payment), never twice."""
    covering = select(PaymentOrderBill.order_id).where(PaymentOrderBill.bill_id.in_(bill_ids))
    query = select(PaymentOrder).where(PaymentOrder.id.in_(covering), PaymentOrder.status == "pending")
    if keep_order_id is not None:
        query = query.where(PaymentOrder.id != keep_order_id)
    voided = []
    for order in session.exec(query.order_by(PaymentOrder.id).with_for_update()
                              .execution_options(populate_existing=True)).all():
        order.status = "voided"
        session.add(order)
        voided.append(order.reference)
        audit.record(session=session, actor=actor, action="payment.order_voided", now=now,
                     object_type="payment_order", object_id=order.reference, detail={"replaced_by": replaced_by})
    session.flush()
    return voided


@dataclass(frozen=True)
class PaymentResult:
    order: PaymentOrder
    payment: Payment
    duplicate: bool  # True when this external id was already applied: nothing was credited again


def apply_payment(
    session: Session, *, reference: str, amount: Decimal, external_id: str, paid_at: datetime,
    actor: Actor = SYSTEM,
) -> PaymentResult:
    """Records the collector's confirmation of a payment and marks the order's bills and months paid.

    Refuses unknown orders (NotFound), amounts other than the order's (ValidationFailed), an order already
    paid under another external id, and a payment after the order's pay-by date (Conflict). The same
    confirmation sent again is answered with ``duplicate=True`` and credits nothing.
    """
    external_id = (external_id or "").strip()
    if not external_id or len(external_id) > 64:
        raise ValidationFailed({"external_id": Msg(N_("The payment has no valid transaction number."))})
    # An order the provincial fund pays out (a transfer to another province) is never money collected.
    found = session.exec(select(PaymentOrder.id).where(PaymentOrder.reference == reference,
                                                       PaymentOrder.payer_kind != "fund")).first()
    if found is None:
        raise NotFound(Msg(N_("No payment order has this reference.")))
    # The bills first, in id order as create_payment_order locks them, then the order: one payment per bill.
    bill_ids = list(session.exec(select(PaymentOrderBill.bill_id).where(PaymentOrderBill.order_id == found)
                                 .order_by(PaymentOrderBill.bill_id)).all())
    session.exec(select(Bill.id).where(Bill.id.in_(bill_ids)).order_by(Bill.id).with_for_update()).all()
    order = session.exec(select(PaymentOrder).where(PaymentOrder.id == found).with_for_update()
                         .execution_options(populate_existing=True)).one()
    fen = to_fen(amount)
    earlier = session.exec(select(Payment).where(Payment.external_id == external_id)).first()
    if earlier is not None:
        if earlier.order_id == order.id and earlier.amount_fen == fen:
            return PaymentResult(order, earlier, duplicate=True)
        raise Conflict(Msg(N_("This transaction number was already used for another payment.")))
    if fen != order.amount_fen:
        raise ValidationFailed({"amount": Msg(N_("The amount paid does not match the payment order."))})
    # A voided order paid all the same (the payer kept the old reference) is credited once, if none of its
    # bills has been paid meanwhile; the orders that replaced it are voided in turn.
    was_voided = order.status == "voided"
    if order.status not in ("pending", "voided"):
        raise Conflict(Msg(N_("This payment order has already been paid.")))
    if paid_at.astimezone(CHINA).date() > order.pay_by:
        raise Conflict(Msg(N_("This payment order expired; the late fee has grown. Create a new order.")))
    payment = Payment(order_id=order.id, amount_fen=fen, paid_at=paid_at, external_id=external_id,
                      created_at=paid_at)
    session.add(payment)
    order.status = "paid"
    order.paid_at = paid_at
    session.add(order)
    session.flush()
    paid_bills = session.exec(select(Bill).where(Bill.id.in_(bill_ids), Bill.status != "paid")
                              .execution_options(populate_existing=True)).all()
    if len(paid_bills) != len(bill_ids):
        raise Conflict(Msg(N_("One of these bills has already been paid.")))
    for bill in paid_bills:
        bill.status = "paid"
        bill.paid_at = paid_at
        session.add(bill)
    session.flush()
    session.execute(
        text("UPDATE contribution_month SET status = 'paid' WHERE status <> 'paid' AND bill_id IN :ids")
        .bindparams(bindparam("ids", expanding=True)),
        {"ids": bill_ids},
    )
    _void_orders_of(session, bill_ids=bill_ids, replaced_by=order.reference, actor=actor, now=paid_at,
                    keep_order_id=order.id)
    audit.record(session=session, actor=actor, action="payment.applied", now=paid_at,
                 object_type="payment_order", object_id=order.reference,
                 detail={"external_id": external_id, "amount": str(amount), "was_voided": was_voided})
    return PaymentResult(order, payment, duplicate=False)


def bills_for(session: Session, *, actor: Actor) -> list[Bill]:
    """The signed-in payer's own bills, newest month first."""
    payer_kind, payer_id = _payer_of(actor)
    return list(session.exec(select(Bill).where(Bill.payer_kind == payer_kind, Bill.payer_id == payer_id)
                             .order_by(Bill.month.desc(), Bill.part.desc())).all())


def months_on_bill(session: Session, *, bill: Bill) -> list[ContributionMonth]:
    return list(session.exec(select(ContributionMonth).where(*bill_lines.on_bills([bill]))
                             .order_by(ContributionMonth.person_id)).all())


def person_names(session: Session, *, person_ids: set[int]) -> dict[int, str]:
    """The names of the people on bills, by person id."""
    if not person_ids:
        return {}
    return dict(session.exec(select(Person.id, Person.name).where(Person.id.in_(person_ids))).all())


def order_for(session: Session, *, actor: Actor, reference: str) -> PaymentOrder:
    """The signed-in payer's own payment order; NotFound for anyone else's (even when it exists)."""
    payer_kind, payer_id = _payer_of(actor)
    order = session.exec(select(PaymentOrder).where(PaymentOrder.reference == reference)).first()
    if order is None or (order.payer_kind, order.payer_id) != (payer_kind, payer_id):
        raise NotFound()
    return order


def bills_of_order(session: Session, *, order: PaymentOrder) -> list[tuple[Bill, PaymentOrderBill]]:
    return list(session.exec(select(Bill, PaymentOrderBill).join(PaymentOrderBill, PaymentOrderBill.bill_id == Bill.id)
                             .where(PaymentOrderBill.order_id == order.id).order_by(Bill.month, Bill.part)).all())


def pending_orders(session: Session, *, actor: Actor, today: date) -> list[PaymentOrder]:
    """The payer's orders still waiting for the collector and not yet past their pay-by date."""
    payer_kind, payer_id = _payer_of(actor)
    return list(session.exec(select(PaymentOrder).where(
        PaymentOrder.payer_kind == payer_kind, PaymentOrder.payer_id == payer_id, PaymentOrder.status == "pending",
        PaymentOrder.pay_by >= today).order_by(PaymentOrder.created_at.desc())).all())
