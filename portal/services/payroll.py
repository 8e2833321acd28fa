"""The monthly pension payroll (养老金发放) and the yearly adjustment (调待).

``run`` pays, for the payroll month M, every current award's benefit months from its first payment month up to M
that are not paid yet, while the pensioner is certified (the last certification is less than the cycle old at the start
of M) and alive (up to the month of death). Two ``INSERT … SELECT`` do it: one for
the awards in step with the payroll (only the months since the last run), one for the few behind (every month of
the back-pay window). Each (person, month) is paid at most once, so a second run pays nothing twice, and months
skipped while certification was overdue are paid by the first run after it is restored (back pay). A recomputed
award's difference goes with the same run: all of it when it is owed to the pensioner; when it is to be recovered,
at most that month's pension is deducted, and the rest from the next months (what is left is the difference less
the corrections already paid under the award, so a rerun deducts nothing twice). The run's totals by prefecture are
written in one more statement; payment files are one CSV per bank.

``adjust`` writes the yearly adjustment for every award whose pensioner retired by the end of the year before:
a fixed amount, an amount per full contribution year, a percentage of the pension and an age supplement, each a
dated parameter (``pension_adjustment``); low-confidence parts make the adjustment "assumed".
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, bindparam, func, text
from sqlmodel import Session, select

from portal import audit
from portal.auth.principal import SYSTEM, Actor
from portal.faults import crash_point
from portal.models import PayrollTotal, PensionAdjustment, PensionAward, PensionPayment
from portal.models.types import UTCDateTime
from portal.policy.dates import add_months, fmt_month, month_of
from portal.policy.money import from_fen, rate_fraction, to_fen
from portal.policy.parameters import param

BACK_PAY_MONTHS = 60  # how far back a run looks for unpaid months (suspended or awarded late)

# The columns of a payment, from an award ``a`` and a benefit month ``m.month``; ``{adjustment}`` is the sum of the
# pensioner's yearly adjustments in force in that month. A recomputed award's difference ("owed") goes with the
# run month's payment: all of it when it is owed to the pensioner, at most that month's pension when recovered.
_PAY = """
INSERT INTO pension_payment (person_id, award_id, month, run_month, pension_fen, adjustment_fen, correction_fen,
                             amount_fen, region, bank_code, recoverable, paid_at)
SELECT x.person_id, x.award_id, x.month, :run, x.pension_fen, x.adjustment_fen, x.correction_fen,
       x.pension_fen + x.adjustment_fen + x.correction_fen, x.region, x.bank_code, :no, :now
FROM (SELECT y.person_id, y.award_id, y.month, y.pension_fen, y.adjustment_fen, y.region, y.bank_code,
             CASE WHEN y.owed < -(y.pension_fen + y.adjustment_fen) THEN -(y.pension_fen + y.adjustment_fen)
                  ELSE y.owed END AS correction_fen
      FROM (SELECT a.person_id AS person_id, a.id AS award_id, m.month AS month, a.monthly_fen AS pension_fen,
                   {adjustment} AS adjustment_fen,
                   CASE WHEN m.month = :run AND a.difference_fen <> 0
                        THEN a.difference_fen - COALESCE((SELECT SUM(q.correction_fen) FROM pension_payment q
                                                          WHERE q.person_id = a.person_id AND q.award_id = a.id), 0)
                        ELSE 0 END AS owed,
                   a.region AS region, a.bank_code AS bank_code
            FROM pension_award a
            JOIN ({months}) m ON m.month >= a.first_payment_month
                             AND (a.stopped_after IS NULL OR m.month <= a.stopped_after)
            {joins}
            WHERE a.superseded_by IS NULL AND {which}
              AND EXISTS (SELECT 1 FROM life_certification c
                          WHERE c.person_id = a.person_id AND c.certified_on >= :cutoff)
           ) y) x
WHERE true
{conflict}
"""
# The pensioners paid every month up to the last run: only the months since (usually one), which no run can have
# paid (a run pays months up to its own), so a plain insert: should one be there after all, the unique (person,
# month) key fails the whole run rather than pay it twice. Their adjustments are summed in one pass.
_IN_STEP = {
    "conflict": "",
    "which": "a.paid_to_last_run",
    "adjustment": "COALESCE(j.amount_fen, 0)",
    "joins": """LEFT JOIN (SELECT k.person_id, n.month, SUM(k.amount_fen) AS amount_fen
                       FROM pension_adjustment k JOIN ({months}) n ON k.effective_month <= n.month
                       GROUP BY k.person_id, n.month) j ON j.person_id = a.person_id AND j.month = m.month""",
}
# The few others (awarded late, suspended while certification was overdue, or before any run): every unpaid month
# of the back-pay window.
_BEHIND = {
    "conflict": "ON CONFLICT (person_id, month) DO NOTHING",
    "which": "{behind} AND NOT EXISTS (SELECT 1 FROM pension_payment p WHERE p.person_id = a.person_id "
             "AND p.month = m.month)",
    "adjustment": """COALESCE((SELECT SUM(j.amount_fen) FROM pension_adjustment j
                             WHERE j.person_id = a.person_id AND j.effective_month <= m.month), 0)""",
    "joins": "",
}
_CERTIFIED = """EXISTS (SELECT 1 FROM life_certification c
                        WHERE c.person_id = pension_award.person_id AND c.certified_on >= :cutoff)"""
# After the run, only the awards whose standing changed are written: the ones behind that this run paid up (their
# pensioner is certified), and the ones in step that it could not pay (certification overdue).
_CAUGHT_UP = f"""
UPDATE pension_award SET paid_to_last_run = :yes
WHERE superseded_by IS NULL AND NOT paid_to_last_run AND first_payment_month <= :run AND {_CERTIFIED}
"""  # noqa: S608 (constants)
_FELL_BEHIND = f"""
UPDATE pension_award SET paid_to_last_run = :no
WHERE superseded_by IS NULL AND paid_to_last_run AND first_payment_month <= :run
  AND (stopped_after IS NULL OR stopped_after > :last) AND NOT {_CERTIFIED}
"""  # noqa: S608 (constants)
_SETTLED = """
UPDATE pension_award SET difference_run_month = :run
WHERE superseded_by IS NULL AND difference_fen <> 0 AND difference_run_month IS NULL
  AND difference_fen = (SELECT COALESCE(SUM(p.correction_fen), 0) FROM pension_payment p
                        WHERE p.person_id = pension_award.person_id AND p.award_id = pension_award.id)
"""
_TOTALS = """
INSERT INTO payroll_total (run_month, region, payments, amount_fen, back_pay_fen, updated_at)
SELECT :run, p.region, COUNT(*), SUM(p.amount_fen), SUM(CASE WHEN p.month < :run THEN p.amount_fen ELSE 0 END), :now
FROM pension_payment p WHERE p.run_month = :run
GROUP BY p.region
ON CONFLICT (run_month, region) DO UPDATE SET
    payments = excluded.payments, amount_fen = excluded.amount_fen, back_pay_fen = excluded.back_pay_fen,
    updated_at = excluded.updated_at
WHERE payroll_total.payments <> excluded.payments OR payroll_total.amount_fen <> excluded.amount_fen
"""
_TYPES = {"run": Date(), "last": Date(), "cutoff": Date(), "now": UTCDateTime(), "no": Boolean(), "yes": Boolean()}


@dataclass(frozen=True)
class Run:
    month: date
    paid: int  # payments written by this run (0 on a rerun)
    amount: Decimal  # their total
    totals: dict[str, tuple[int, Decimal]]  # the whole run month by prefecture: (payments, amount)


def _months_sql(months: list[date], prefix: str) -> tuple[str, dict]:
    names = [f"{prefix}{i}" for i in range(len(months))]
    union = " UNION ALL ".join(f"SELECT :{name} AS month" for name in names)
    return union, dict(zip(names, months, strict=True))


def _execute(session: Session, sql: str, values: dict):
    used = {name: value for name, value in values.items() if re.search(rf":{name}\b", sql)}
    types = [bindparam(name, type_=_TYPES.get(name, Date())) for name in used]
    return session.execute(text(sql).bindparams(*types), used)


def cutoff(month: date) -> date:
    """Certified on or after this date means not overdue at the start of ``month``."""
    return add_months(month, -int(param("certification_cycle_months").at(month).value))


def last_run_month(session: Session) -> date | None:
    return session.exec(select(func.max(PayrollTotal.run_month))).one()


def _pay(session: Session, *, parts: dict, months: list[date], values: dict, behind: str = "") -> int:
    union, month_values = _months_sql(months, "m")
    sql = _PAY.format(months=union, adjustment=parts["adjustment"], conflict=parts["conflict"],
                      joins=parts["joins"].format(months=union), which=parts["which"].format(behind=behind))
    return max(_execute(session, sql, values | month_values).rowcount or 0, 0)


def _totals(session: Session, month: date) -> dict[str, tuple[int, Decimal]]:
    return {row.region: (row.payments, from_fen(row.amount_fen)) for row in session.exec(
        select(PayrollTotal).where(PayrollTotal.run_month == month).order_by(PayrollTotal.region))}


def run(session: Session, *, month: date, now: datetime, actor: Actor = SYSTEM) -> Run:
    """Pays the month. Each award is in step (paid every month up to the last run: the run pays the months since) or
    behind (the run looks at every month of the back-pay window); only awards whose standing changes are rewritten,
    so a month costs the database one new row per pensioner and not one updated award each."""
    month = month_of(month)
    if session.get_bind().dialect.name == "postgresql":
        # Compiling the plan to machine code costs more than it saves on a statement run once a month.
        session.execute(text("SET LOCAL jit = off"))
    last = last_run_month(session)
    before = sum((total for _, total in _totals(session, month).values()), Decimal("0.00"))
    values = {"run": month, "last": last, "cutoff": cutoff(month), "now": now, "no": False, "yes": True}
    window = [add_months(month, -back) for back in range(BACK_PAY_MONTHS, -1, -1)]
    paid = 0
    if last is not None and last < month:
        paid += _pay(session, parts=_IN_STEP, months=[m for m in window if m > last], values=values)
    # Before any run every award is looked at in full; a month earlier than the last run is back pay only.
    paid += _pay(session, parts=_BEHIND, months=window, values=values,
                 behind="true" if last is None else "NOT a.paid_to_last_run")
    crash_point("payroll.paid")  # the payments written, the awards and the totals not yet
    _execute(session, _SETTLED, values)
    if last is None or last <= month:
        _execute(session, _CAUGHT_UP, values)
    if last is not None and last < month:
        _execute(session, _FELL_BEHIND, values)
    _execute(session, _TOTALS, values)
    crash_point("payroll.totals")
    totals = _totals(session, month)
    # Payments are never removed, so what this run paid is what the month's totals grew by.
    amount = sum((total for _, total in totals.values()), Decimal("0.00")) - before
    session.flush()
    if paid:
        audit.record(session=session, actor=actor, action="payroll.run", now=now, object_type="payroll",
                     object_id=fmt_month(month), detail={"payments": paid, "amount": str(amount)})
    return Run(month, paid, amount, totals)


CSV_HEADER = ("month", "id_number", "name", "card_number", "amount", "benefit_months")


def payment_files(session: Session, *, month: date) -> dict[str, str]:
    """One CSV per bank for the run month: one line per pensioner, the amount and the benefit months it covers."""
    rows = session.execute(text(
        "SELECT p.bank_code, pe.id_number, pe.name, a.card_number, SUM(p.amount_fen) AS amount, COUNT(*) AS months "
        "FROM pension_payment p JOIN pension_award a ON a.id = p.award_id JOIN person pe ON pe.id = p.person_id "
        "WHERE p.run_month = :run GROUP BY p.bank_code, pe.id_number, pe.name, a.card_number "
        "ORDER BY p.bank_code, pe.id_number").bindparams(bindparam("run", type_=Date())), {"run": month_of(month)})
    files: dict[str, io.StringIO] = {}
    for bank, id_number, name, card, amount, months in rows:
        if bank not in files:
            files[bank] = io.StringIO()
            csv.writer(files[bank], lineterminator="\r\n").writerow(CSV_HEADER)
        csv.writer(files[bank], lineterminator="\r\n").writerow(
            (fmt_month(month_of(month)), id_number, name, card, str(from_fen(int(amount))), int(months)))
    return {bank: buffer.getvalue() for bank, buffer in files.items()}


# --- the yearly adjustment -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Adjusted:
    year: int
    awards: int
    amount: Decimal  # a month, all awards together
    assumed: bool


_YEAR_OF = {"sqlite": "CAST(strftime('%Y', {column}) AS INTEGER)",
            "postgresql": "CAST(EXTRACT(YEAR FROM {column}) AS INTEGER)"}
_MONTH_OF = {"sqlite": "CAST(strftime('%m', {column}) AS INTEGER)",
             "postgresql": "CAST(EXTRACT(MONTH FROM {column}) AS INTEGER)"}
# One row per current award of someone retired before the year, in fen: the fixed amount, the amount per full
# contribution year, the percentage of the pension rounded half up to the fen, and the supplement of the highest age
# band reached on 1 January (age in whole years from the birth month). ON CONFLICT keeps it to one a person a year;
# a NOT EXISTS on the table being written instead made PostgreSQL scan the rows this statement had already inserted,
# for each new one (ten minutes for a million pensioners).
_ADJUST = """
INSERT INTO pension_adjustment (person_id, year, effective_month, amount_fen, parts_json, assumed, created_at)
SELECT x.person_id, :year, :start, x.amount_fen, :parts, :assumed, :now
FROM (SELECT a.person_id AS person_id,
             :fixed_fen + :per_year_fen * ((a.actual_months + a.deemed_months) / 12)
             + (2 * a.monthly_fen * CAST(:percent_n AS BIGINT) + CAST(:percent_d AS BIGINT))
               / (2 * CAST(:percent_d AS BIGINT))
             + {supplement} AS amount_fen
      FROM pension_award a JOIN person p ON p.id = a.person_id
      WHERE a.superseded_by IS NULL AND a.retirement_month < :start
        AND (a.stopped_after IS NULL OR a.stopped_after >= :start)) x
WHERE true
ON CONFLICT (person_id, year) DO NOTHING
"""


def _supplement_sql(dialect: str, bands: dict) -> tuple[str, dict]:
    """The age supplement as a CASE over the bands, highest first; the age is whole years on 1 January."""
    age = (f"((:year - {_YEAR_OF[dialect].format(column='p.birth_date')}) * 12 "
           f"- ({_MONTH_OF[dialect].format(column='p.birth_date')} - 1)) / 12")
    whens, values = [], {}
    for index, (band, amount) in enumerate(sorted(bands.items(), key=lambda item: -int(item[0]))):
        whens.append(f"WHEN {age} >= :band{index} THEN :supplement{index}")
        values |= {f"band{index}": int(band), f"supplement{index}": to_fen(Decimal(amount))}
    return (f"CASE {' '.join(whens)} ELSE 0 END" if whens else "0"), values


def adjust(session: Session, *, year: int, now: datetime, actor: Actor = SYSTEM) -> Adjusted:
    """Writes ``year``'s adjustment for every current award of someone retired by the end of the year before, in one
    ``INSERT … SELECT``; idempotent (one per person and year). The row keeps the parameters used (the parts, their
    source and confidence); an award's own parts follow from them and the award."""
    start = date(year, 1, 1)
    used = param("pension_adjustment").at(start)
    parts = used.value
    supplement, supplement_values = _supplement_sql(session.get_bind().dialect.name, parts["age_supplements"])
    percent_n, percent_d = rate_fraction(Decimal(parts["percent_of_pension"]))
    detail = {"fixed": str(parts["fixed"]), "per_contribution_year": str(parts["per_contribution_year"]),
              "percent_of_pension": str(parts["percent_of_pension"]),
              "age_supplements": {str(band): str(amount) for band, amount in parts["age_supplements"].items()},
              "source": used.source, "confidence": used.confidence, "effective_from": used.effective_from.isoformat()}
    values = {"year": year, "start": start, "now": now, "assumed": used.provisional,
              "parts": json.dumps(detail, ensure_ascii=False), "fixed_fen": to_fen(Decimal(parts["fixed"])),
              "per_year_fen": to_fen(Decimal(parts["per_contribution_year"])), "percent_n": percent_n,
              "percent_d": percent_d, **supplement_values}
    statement = text(_ADJUST.format(supplement=supplement)).bindparams(
        bindparam("start", type_=Date()), bindparam("now", type_=UTCDateTime()), bindparam("assumed", type_=Boolean()))
    count = max(session.execute(statement, values).rowcount or 0, 0)
    amount = from_fen(int(session.execute(text(
        "SELECT COALESCE(SUM(amount_fen), 0) FROM pension_adjustment WHERE year = :year AND created_at = :now")
        .bindparams(bindparam("now", type_=UTCDateTime())), {"year": year, "now": now}).scalar_one())) if count \
        else Decimal("0.00")
    if count:
        audit.record(session=session, actor=actor, action="payroll.adjusted", now=now, object_type="year",
                     object_id=year, detail={"awards": count, "amount": str(amount), "assumed": used.provisional})
    return Adjusted(year, count, amount, bool(count) and used.provisional)


# --- what the pensioner sees -----------------------------------------------------------------------------------


def payments_of(session: Session, *, person_id: int) -> list[PensionPayment]:
    return list(session.exec(select(PensionPayment).where(PensionPayment.person_id == person_id)
                             .order_by(PensionPayment.month.desc())).all())


def adjustments_of(session: Session, *, person_id: int) -> list[PensionAdjustment]:
    return list(session.exec(select(PensionAdjustment).where(PensionAdjustment.person_id == person_id)
                             .order_by(PensionAdjustment.year)).all())


def unpaid_months(session: Session, *, award: PensionAward, until: date) -> list[date]:
    """The benefit months up to ``until`` not paid (suspended, or not yet reached by a payroll)."""
    paid = set(session.exec(select(PensionPayment.month).where(PensionPayment.person_id == award.person_id)))
    months, month = [], award.first_payment_month
    last = min(until, award.stopped_after) if award.stopped_after else until
    while month <= last:
        if month not in paid:
            months.append(month)
        month = add_months(month, 1)
    return months

