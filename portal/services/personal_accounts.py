"""Crediting the personal accounts' yearly interest (个人账户记账利息), set-based.

One INSERT ... SELECT ... ON CONFLICT DO UPDATE writes the year for every person who has a balance from the
year before or a paid credit in the year: opening = last year's closing, contributions = the year's paid
personal-account credits, interest by the monthly-product method of ``portal.policy.rules.interest``:
opening × rate and Σ credit × (13 − month) × rate ÷ 12, each rounded half up to the fen on its own, done in
integer fen so the result equals ``account_interest`` exactly (a test compares them on random histories).
The personal account a transfer into Jilin brought (``Transfer.account_credit_fen``) is one more credit of
the year it was merged in, in the month of the merge, so it earns interest from then like a contribution.
Rerunning a year rewrites nothing unless a figure changed; the statement runs inside the caller's
transaction, so a crash leaves the year either fully credited or untouched. Years are credited in order:
a year's opening balance is the previous year's closing row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Integer, bindparam, text
from sqlmodel import Session, select

from portal import audit
from portal.auth.principal import SYSTEM, Actor
from portal.clock import CHINA
from portal.faults import crash_point
from portal.models import PersonalAccountYear, Transfer
from portal.models.types import UTCDateTime
from portal.policy.dates import parse_month
from portal.policy.money import from_fen, rate_fraction
from portal.policy.parameters import param

_MONTH_NUMBER = {
    "sqlite": "CAST(strftime('%m', {column}) AS INTEGER)",
    "postgresql": "CAST(EXTRACT(MONTH FROM {column}) AS INTEGER)",
}


def _month_numbers(dialect: str) -> dict[str, str]:
    return {"month_number": _MONTH_NUMBER[dialect].format(column="c.month"),
            "credited_month_number": _MONTH_NUMBER[dialect].format(column="t.credited_on")}

# Each person's year: last year's closing balance, this year's paid credits and their interest.
_YEAR = """
SELECT r.person_id AS person_id, r.opening AS opening, r.paid AS paid,
       r.opening_interest + r.credit_interest AS interest,
       r.opening + r.paid + r.opening_interest + r.credit_interest AS closing
FROM (SELECT t.person_id AS person_id, t.opening AS opening, t.paid AS paid,
             (2 * t.opening * CAST(:rate_n AS BIGINT) + CAST(:rate_d AS BIGINT))
               / (2 * CAST(:rate_d AS BIGINT)) AS opening_interest,
             (2 * t.product * CAST(:rate_n AS BIGINT) + 12 * CAST(:rate_d AS BIGINT))
               / (24 * CAST(:rate_d AS BIGINT)) AS credit_interest
      FROM (SELECT u.person_id AS person_id, CAST(SUM(u.opening) AS BIGINT) AS opening,
                   CAST(SUM(u.paid) AS BIGINT) AS paid, CAST(SUM(u.product) AS BIGINT) AS product
            FROM (SELECT p.person_id AS person_id, p.closing_balance_fen AS opening, 0 AS paid, 0 AS product
                  FROM personal_account_year p
                  WHERE p.year = :previous
                  UNION ALL
                  SELECT c.person_id, 0, c.personal_account_fen,
                         c.personal_account_fen * (CAST(:first AS BIGINT) + 1 - {month_number})
                  FROM person pe CROSS JOIN contribution_month c
                  WHERE c.person_id = pe.id AND c.month >= :start AND c.month < :next AND c.status = 'paid'
                    AND c.personal_account_fen > 0
                  UNION ALL
                  SELECT t.person_id, 0, t.account_credit_fen,
                         t.account_credit_fen * (CAST(:first AS BIGINT) + 1 - {credited_month_number})
                  FROM transfer t
                  WHERE t.direction = 'in' AND t.state = 'merged' AND t.account_credit_fen > 0
                    AND t.credited_on >= :start AND t.credited_on < :next) u
            GROUP BY u.person_id) t) r
"""  # noqa: S608 - constant fragments; values are bound
_CREDIT = """
INSERT INTO personal_account_year (person_id, year, opening_balance_fen, contributions_fen, interest_fen,
                                   closing_balance_fen, interest_rate, credited_at)
SELECT y.person_id, :year, y.opening, y.paid, y.interest, y.closing, :rate, :now
FROM {source} y
WHERE true
ON CONFLICT (person_id, year) DO UPDATE SET
    opening_balance_fen = excluded.opening_balance_fen,
    contributions_fen = excluded.contributions_fen,
    interest_fen = excluded.interest_fen,
    closing_balance_fen = excluded.closing_balance_fen,
    interest_rate = excluded.interest_rate,
    credited_at = excluded.credited_at
WHERE personal_account_year.opening_balance_fen <> excluded.opening_balance_fen
   OR personal_account_year.contributions_fen <> excluded.contributions_fen
   OR personal_account_year.interest_fen <> excluded.interest_fen
   OR personal_account_year.interest_rate <> excluded.interest_rate
"""  # noqa: S608 - constant fragments; values are bound
# PostgreSQL never runs the SELECT of an INSERT in parallel, and the year's months are found by scanning the
# whole history: a CREATE TABLE AS may scan it with every core (about half the time on two), then the insert
# reads the small result. The temporary table lives for this transaction only.
_PG_YEAR = "CREATE TEMPORARY TABLE interest_year ON COMMIT DROP AS " + _YEAR



@dataclass(frozen=True)
class InterestRun:
    year: int
    rate: Decimal
    accounts: int  # rows written or changed by this run (0 on a rerun with nothing new)
    provisional: bool


def credit_interest(session: Session, *, year: int, now: datetime, actor: Actor = SYSTEM) -> InterestRun:
    """Credits ``year``'s interest to every personal account (set-based, idempotent)."""
    start = date(year, 1, 1)
    rate_used = param("interest_rate").at(start)
    convention = param("interest_monthly_product").at(start).value
    rate = rate_used.value
    numerator, denominator = rate_fraction(rate)
    dialect = session.get_bind().dialect.name
    year_sql = _YEAR.format(**_month_numbers(dialect))
    year_params = {"previous": year - 1, "start": start, "next": date(year + 1, 1, 1), "rate_n": numerator,
                   "rate_d": denominator, "first": int(convention["first_month_accrual_months"])}
    year_types = (bindparam("start", type_=Date()), bindparam("next", type_=Date()),
                  bindparam("previous", type_=Integer()))
    credit_params = {"year": year, "rate": str(rate), "now": now}
    credit_types = (bindparam("now", type_=UTCDateTime()), bindparam("year", type_=Integer()))
    if dialect == "postgresql":
        session.execute(text("DROP TABLE IF EXISTS interest_year"))  # a rerun in the same transaction
        session.execute(text(_PG_YEAR.format(**_month_numbers(dialect))).bindparams(*year_types),
                        year_params)
        statement = text(_CREDIT.format(source="interest_year")).bindparams(*credit_types)
        result = session.execute(statement, credit_params)
    else:
        statement = text(_CREDIT.format(source=f"({year_sql})")).bindparams(*year_types, *credit_types)
        result = session.execute(statement, year_params | credit_params)
    written = max(result.rowcount or 0, 0)
    crash_point("interest.credited")
    if written:
        audit.record(session=session, actor=actor, action="accounts.interest_credited", now=now,
                     object_type="year", object_id=year, detail={"accounts": written, "rate": str(rate)})
    return InterestRun(year=year, rate=rate, accounts=written, provisional=rate_used.provisional)


@dataclass(frozen=True)
class TransferredCredit:
    """The personal account a transfer into Jilin brought, credited on the day of the merge."""

    credited_on: date
    amount: Decimal
    province: str  # where it came from (6-digit code)
    start: date  # the first and last month transferred
    end: date
    reference: str  # the transfer


# Built once and run with the person's id: every record read runs both, and composing them cost more than running them.
_CREDITS = (select(Transfer.credited_on, Transfer.account_credit_fen, Transfer.other_province, Transfer.periods_json,
                   Transfer.reference)
            .where(Transfer.person_id == bindparam("person_id"), Transfer.direction == "in",
                   Transfer.state == "merged", Transfer.account_credit_fen > 0, Transfer.credited_on.is_not(None))
            .order_by(Transfer.credited_on, Transfer.id))
_ACCOUNT_YEARS = (select(PersonalAccountYear.year, PersonalAccountYear.credited_at, PersonalAccountYear.contributions_fen,
                         PersonalAccountYear.opening_balance_fen, PersonalAccountYear.interest_fen,
                         PersonalAccountYear.closing_balance_fen, PersonalAccountYear.interest_rate)
                  .where(PersonalAccountYear.person_id == bindparam("person_id"))
                  .order_by(PersonalAccountYear.year))


def transferred_credits(session: Session, *, person_id: int) -> list[TransferredCredit]:
    """The personal accounts transfers into Jilin brought to this person's account, oldest first."""
    rows = session.execute(_CREDITS, {"person_id": person_id}).all()
    found = []
    for row in rows:
        periods = json.loads(row.periods_json or "[]")
        if not periods:
            continue
        found.append(TransferredCredit(row.credited_on, from_fen(row.account_credit_fen), row.other_province,
                                       parse_month(periods[0]["start"]), parse_month(periods[-1]["end"]),
                                       row.reference))
    return found


@dataclass(frozen=True)
class AccountYear:
    year: int
    opening_balance: Decimal
    contributions: Decimal  # the year's own contributions (without what transfers brought)
    interest: Decimal
    closing_balance: Decimal
    interest_rate: Decimal
    transferred_in: Decimal = Decimal("0.00")  # personal accounts brought by transfers into Jilin that year


def account_years(session: Session, *, person_id: int,
                  credits: list[TransferredCredit] | None = None) -> list[AccountYear]:
    """A person's personal account by year, oldest first, in yuan. A year's credits as the interest run wrote
    them include what a transfer into Jilin brought in that year (credited before the run): shown apart."""
    rows = session.execute(_ACCOUNT_YEARS, {"person_id": person_id}).all()
    credits = transferred_credits(session, person_id=person_id) if credits is None else credits
    years = []
    for row in rows:
        run_on = row.credited_at.astimezone(CHINA).date()
        brought = sum((c.amount for c in credits if c.credited_on.year == row.year and c.credited_on <= run_on),
                      Decimal("0.00"))
        brought = min(brought, from_fen(row.contributions_fen))
        years.append(AccountYear(row.year, from_fen(row.opening_balance_fen), from_fen(row.contributions_fen) - brought,
                                 from_fen(row.interest_fen), from_fen(row.closing_balance_fen),
                                 Decimal(row.interest_rate), brought))
    return years
