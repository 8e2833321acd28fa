"""Monitoring (监控) for supervisors: monthly figures of the province and each prefecture, from set-based SQL.

``refresh`` rebuilds the stored summaries (``monitoring_month``, ``monitoring_pyramid``) for the months whose
records changed since the last refresh: it reads one cheap digest per month from the records (counts and sums of
ids, statuses and amounts), compares it with the digest stored when the month was last computed, and recomputes
only the months that differ (and forgets months with no records left). A second run finds nothing to do.

The months are those from the start of the provincial fund (统收统支, ``provincial_pooling_start``, 2020-07): before
it each prefecture kept its own fund, and the province has nothing to monitor or assess there.

Where the figures come from:
- the insured, contributors, money due, collected and in arrears, back payments: ``contribution_month`` rows due
  for the month (employer filings, flexible payments, back payments; transfers in and deemed months are history,
  not dues); a row's area is its employer's prefecture, or for a flexible worker the prefecture of the identity
  number's birthplace (as person_requests.prefecture_of does); the record keeps one due row per person and month, so
  the insured are the month's rows;
- pensioners: persons with a pension award covering the month (from its first payment month to the month it stopped
  after); a person whose employment ended by retirement (``employment_spell.end_reason = 'retired'``) and who has
  no award yet counts from the month after, until a reported death; the average pension is the month's pensions
  paid for that benefit month; payments out are the payroll run of the month and survivors' awards;
- enrolments: employment spells and flexible enrolments starting in the month;
- requests: cases decided in the month (China time) and whether by their due date; cases due in the month still
  open past it on the day of the refresh;
- collections in: payments confirmed by the collector in the month (China time), by the payer's area.
Every record counts once in the province, whatever its area (a birthplace outside Jilin has no prefecture).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    Numeric,
    and_,
    cast,
    delete,
    distinct,
    exists,
    extract,
    func,
    insert,
    literal_column,
    select,
    text,
    union_all,
)
from sqlalchemy import case as sql_case
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Session

from portal.models import (
    Case,
    ContributionMonth,
    DeathReport,
    Employer,
    EmploymentSpell,
    FlexibleEnrolment,
    MonitoringDigest,
    MonitoringMonth,
    MonitoringPyramid,
    Payment,
    PaymentOrder,
    PensionAward,
    PensionPayment,
    Person,
    SurvivorAward,
)
from portal.policy import monitoring as figures
from portal.policy import regions
from portal.policy.parameters import param
from portal.queue.states import State

PROVINCE = regions.PROVINCE
PREFECTURES = regions.PREFECTURES
AREAS = (PROVINCE, *PREFECTURES)
DUE_SOURCES = ("employer_filing", "flexible_payment", "back_payment")
# The states in which a request's service clock runs, so a past due date means overdue (as the queue counts it).
RUNNING = [str(state) for state in (State.SUBMITTED, State.CHECKED, State.IN_PROGRESS, State.IN_REVIEW)]
# The PostgreSQL advisory lock a refresh holds ("monitor" in ASCII): two refreshes at once (cron overlapping a run by
# hand) run one after the other, and the second finds the months already done. SQLite serializes writers anyway.
REFRESH_LOCK = 0x6D6F6E69746F72
# Part of every digest: changing how a month is computed makes the next refresh recompute every month.
FORMULA_VERSION = "3"
SUMMARY_FIELDS = ("insured", "contributors", "pensioners", "new_pensioners", "pensions_paid", "pensions_fen",
                  "enrolments", "back_payments", "due_fen", "collected_fen", "arrears_fen", "collections_in_fen", "payments_out_fen", "cases_decided",
                  "cases_on_time", "cases_overdue")


# --- SQL building blocks --------------------------------------------------------------------------------------

def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _china_month(session: Session, column):
    """The first day of the month (China time) of a UTC timestamp column."""
    if _dialect(session) == "postgresql":
        return cast(func.date_trunc("month", func.timezone("Asia/Shanghai", column)), Date)
    return func.date(func.datetime(column, "+8 hours"), "start of month")


def _china_day(session: Session, column):
    if _dialect(session) == "postgresql":
        return cast(func.timezone("Asia/Shanghai", column), Date)
    return func.date(func.datetime(column, "+8 hours"))


def china_year(session: Session, *, column):
    """The year (China time) of a UTC timestamp column, as an integer."""
    if _dialect(session) == "postgresql":
        return cast(extract("year", func.timezone("Asia/Shanghai", column)), Integer)
    return cast(func.strftime("%Y", func.datetime(column, "+8 hours")), Integer)


def json_fen(session: Session, *, column, path: tuple[str, ...]):
    """An amount of yuan written as a decimal string at ``path`` in a JSON text column, in whole fen (0 when
    missing). PostgreSQL reads it as numeric; SQLite, which has no decimal type, rounds each amount to the fen
    before anything is summed, so sums stay exact integers."""
    if _dialect(session) == "postgresql":
        text = func.jsonb_extract_path_text(cast(column, JSONB), *path)
        return func.coalesce(cast(func.round(cast(text, Numeric) * 100), BigInteger), 0)
    text = func.json_extract(column, "$." + ".".join(path))
    return func.coalesce(cast(func.round(cast(text, Numeric) * 100), Integer), 0)


def prefecture_column(region_column):
    """The prefecture of a region code or identity number column, in SQL: its first four digits and 00."""
    return _prefecture(region_column)


def month_of(session: Session, *, column):
    """The first day of the month of a date column."""
    if _dialect(session) == "postgresql":
        return cast(func.date_trunc("month", column), Date)
    return func.date(column, "start of month")


def prefecture_of(region: str | None) -> str:
    """The prefecture of a six-digit area code: 220102 → 220100."""
    return regions.prefecture_of(region or "")


def _prefecture(region_column):
    return func.substr(region_column, 1, 4).concat("00")


def as_month(value) -> date:
    """A month (its first day) from what the database returned: a date, a datetime or ISO text (SQLite)."""
    if isinstance(value, datetime):
        return value.date().replace(day=1)
    if isinstance(value, date):
        return value.replace(day=1)
    return date.fromisoformat(str(value)[:10]).replace(day=1)


def _area(code: str | None) -> str | None:
    return code if code in PREFECTURES else None


def _grouped(session: Session, statement, by_area_column, *, month_column, measures: int) -> dict:
    """Runs ``statement`` once grouped by month and area and once by month alone (the province, each record once).

    Returns {(month, area): (measure, ...)}; areas outside the prefectures are dropped from the per-area rows.
    """
    result: dict[tuple[date, str], tuple] = {}
    per_area = statement.add_columns(by_area_column.label("area")).group_by(month_column, by_area_column)
    for row in session.execute(per_area):
        area = _area(row[-1])
        if area is not None:
            result[(as_month(row[0]), area)] = tuple(int(value or 0) for value in row[1:1 + measures])
    for row in session.execute(statement.group_by(month_column)):
        result[(as_month(row[0]), PROVINCE)] = tuple(int(value or 0) for value in row[1:1 + measures])
    return result


# --- the figures of a set of months ----------------------------------------------------------------------------

def _parts():
    return ContributionMonth.employer_part_fen + ContributionMonth.individual_part_fen


def _contribution_area():
    return sql_case((ContributionMonth.employer_id.is_not(None), _prefecture(Employer.region)),
                    else_=_prefecture(Person.id_number))


# The insured's birth month as a number (year × 12 + month − 1) and a flexible worker's prefecture (the first four
# digits of the identity number and 00), written with literal constants: migration 0029 gives PostgreSQL statistics
# on exactly these expressions, which it matches by their text. Without them it takes each of a million persons for a
# group of its own, and aggregates tens of millions of rows in one process instead of in parallel.
def _birth_month_number():
    return (cast(extract("year", Person.birth_date), Integer) * literal_column("12")
            + cast(extract("month", Person.birth_date), Integer) - literal_column("1"))


def _literal_prefecture(column):
    return func.substr(column, literal_column("1"), literal_column("4")).concat(literal_column("'00'"))


def _insured_cells(session: Session, months: list[date]) -> dict:
    """The insured of ``months``: {(month, area, band, sex): [insured, contributors, due, collected, arrears]}, area
    None outside the prefectures.

    A row is a person's month: the record holds one due row per person and month (billing writes a flexible month
    only where no employer filed it, an employer's only once whatever the number of employers, and a back payment
    only for a month missing from the record), so rows are counted, not distinct persons, and the province is the
    sum of the areas. Grouping by person and month instead cost a minute for a million persons' six years.
    The statements group by the birth month, not the age band: a few columns the hash can take as they are, the
    band worked out here for each group (a few thousand) rather than in SQL for each of tens of millions of rows.
    Months an employer filed are placed by the employer's area, the others by the person's own: two statements, so
    that each groups by plain expressions PostgreSQL can estimate (see ``_birth_month_number``)."""
    paid = ContributionMonth.status == "paid"
    born = _birth_month_number()
    measures = (func.count(), func.sum(sql_case((paid, 1), else_=0)), func.sum(_parts()),
                func.sum(sql_case((paid, _parts()), else_=0)),
                func.sum(sql_case((ContributionMonth.status == "arrears", _parts()), else_=0)))
    due = (ContributionMonth.month.in_(months), ContributionMonth.source.in_(DUE_SOURCES))
    filed_area = _literal_prefecture(Employer.region)
    filed = (select(ContributionMonth.month, filed_area.label("area"), born.label("born"), Person.sex,
                    *measures)
             .select_from(ContributionMonth)
             .join(Person, Person.id == ContributionMonth.person_id)
             .join(Employer, Employer.id == ContributionMonth.employer_id)
             .where(*due)
             .group_by(ContributionMonth.month, filed_area, born, Person.sex))
    own_area = _literal_prefecture(Person.id_number)
    own = (select(ContributionMonth.month, own_area.label("area"), born.label("born"), Person.sex, *measures)
           .select_from(ContributionMonth)
           .join(Person, Person.id == ContributionMonth.person_id)
           .where(*due, ContributionMonth.employer_id.is_(None))
           .group_by(ContributionMonth.month, own_area, born, Person.sex))
    # Each (month, area, birth month, sex) group once more by age in whole years: a million groups become a hundred
    # thousand before they reach Python (reading and banding each group here was 7 of the 40 seconds).
    grouped = union_all(filed, own).subquery()
    age = (cast(extract("year", grouped.c.month), Integer) * literal_column("12")
           + cast(extract("month", grouped.c.month), Integer) - literal_column("1") - grouped.c.born)
    age = age.self_group().op("/")(literal_column("12")).label("age")  # whole years: both databases divide integers so
    by_age = (select(grouped.c.month, grouped.c.area, age, grouped.c.sex,
                     *(func.sum(column) for column in list(grouped.c)[4:]))
              .group_by(grouped.c.month, grouped.c.area, age, grouped.c.sex))
    cells: dict[tuple, list[int]] = {}
    with _hashed(session):
        rows = session.execute(by_age).all()
    for month, code, years, sex, *values in rows:
        key = (as_month(month), _area(code), figures.band_of(int(years)), sex)
        found = cells.get(key)
        counts = [int(value or 0) for value in values]
        cells[key] = counts if found is None else [a + b for a, b in zip(found, counts, strict=True)]
    return cells


@contextmanager
def _hashed(session: Session):
    """On PostgreSQL, a large aggregate hashed in memory and read in parallel: even with statistics the planner
    expects several times the groups there are, and would sort tens of millions of rows on disk; and it prices
    passing rows from its parallel workers so high that it read the flexible workers' months (a sixth of the rows,
    found by scanning all of them) in one process: 11.9 s, against 8.5 s in parallel, for a million persons."""
    if _dialect(session) != "postgresql":
        yield
        return
    settings = {"work_mem": "'256MB'", "enable_sort": "off", "parallel_tuple_cost": "0.01"}
    for name, value in settings.items():
        session.execute(text(f"SET LOCAL {name} = {value}"))
    try:
        yield
    finally:
        for name in settings:
            session.execute(text(f"SET LOCAL {name} TO DEFAULT"))


def _contributions(cells: dict) -> dict:
    """{(month, area): (insured, contributors, due, collected, arrears)}, the province summing every area."""
    totals: dict[tuple[date, str], list[int]] = defaultdict(lambda: [0] * 5)
    for (month, area, _band, _sex), measures in cells.items():
        for key in ((month, PROVINCE),) if area is None else ((month, area), (month, PROVINCE)):
            totals[key] = [total + value for total, value in zip(totals[key], measures, strict=True)]
    return {key: tuple(values) for key, values in totals.items()}


def _pyramid(cells: dict) -> dict:
    """{(month, area): {(band, sex): insured}}, the province summing every area."""
    result: dict[tuple[date, str], dict[tuple[int, str], int]] = defaultdict(dict)
    for (month, area, band, sex), measures in cells.items():
        for key in ((month, PROVINCE),) if area is None else ((month, area), (month, PROVINCE)):
            result[key][(band, sex)] = result[key].get((band, sex), 0) + measures[0]
    return result


def _back_payments(session: Session, months: list[date]) -> dict:
    """Months recorded by back payment (补缴), by the month (China time) they were recorded in."""
    recorded = _china_month(session, ContributionMonth.created_at)
    statement = (select(recorded, func.count(ContributionMonth.id))
                 .select_from(ContributionMonth)
                 .join(Person, Person.id == ContributionMonth.person_id)
                 .outerjoin(Employer, Employer.id == ContributionMonth.employer_id)
                 .where(ContributionMonth.source == "back_payment"))
    wanted = set(months)
    return {key: value for key, value in _grouped(session, statement, _contribution_area(), month_column=recorded,
                                                  measures=1).items() if key[0] in wanted}


def _pension_events(session: Session) -> dict[str, dict[date, list[int]]]:
    """Per area, the months in which people start drawing a pension and the months from which they no longer do:
    {area: {month: [starts, stops]}}. A current pension award starts at its first payment month and stops after the
    month it stopped after (a death); a person whose employment ended by retirement and who has no award yet starts
    the month after, and stops after the month of a reported death. Counted set-based, summed up in Python, so the
    cost grows with the months, not with the months times the pensioners."""
    events: dict[str, dict[date, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))

    def add(statement, area_column, month_column, which: int, shift: int) -> None:
        for (month, area), (count,) in _grouped(session, statement, area_column, month_column=month_column,
                                                measures=1).items():
            events[area][figures.add_months(month, shift)][which] += count

    current = PensionAward.superseded_by.is_(None)  # a recomputed award replaces the one before: count it once
    add(select(PensionAward.first_payment_month, func.count(PensionAward.id)).where(current),
        _prefecture(PensionAward.region), PensionAward.first_payment_month, 0, 0)
    add(select(PensionAward.stopped_after, func.count(PensionAward.id))
        .where(current, PensionAward.stopped_after.is_not(None)),
        _prefecture(PensionAward.region), PensionAward.stopped_after, 1, 1)
    has_award = exists().where(PensionAward.person_id == EmploymentSpell.person_id)
    retired = and_(EmploymentSpell.end_reason == "retired", EmploymentSpell.end_month.is_not(None), ~has_award)
    add(select(EmploymentSpell.end_month, func.count(distinct(EmploymentSpell.person_id)))
        .join(Employer, Employer.id == EmploymentSpell.employer_id).where(retired),
        _prefecture(Employer.region), EmploymentSpell.end_month, 0, 1)
    died = month_of(session, column=DeathReport.date_of_death)
    add(select(died, func.count(distinct(EmploymentSpell.person_id)))
        .join(Employer, Employer.id == EmploymentSpell.employer_id)
        .join(DeathReport, DeathReport.person_id == EmploymentSpell.person_id).where(retired),
        _prefecture(Employer.region), died, 1, 1)
    return events


def _pensioners(session: Session, months: list[date]) -> dict:
    """(pensioners, new pensioners) for each month and area: drawing in the month; drawing from this month."""
    result = {}
    for area, by_month in _pension_events(session).items():
        ordered, position, drawing = sorted(by_month.items()), 0, 0
        for month in sorted(months):
            while position < len(ordered) and ordered[position][0] <= month:
                drawing += ordered[position][1][0] - ordered[position][1][1]
                position += 1
            result[(month, area)] = (drawing, by_month[month][0] if month in by_month else 0)
    return result


def _pension_payments(session: Session, months: list[date]) -> tuple[dict, dict]:
    """Payments out by the payroll (or survivors' award) month, and the pensions for each benefit month."""
    payroll = (select(PensionPayment.run_month, func.sum(PensionPayment.amount_fen))
               .where(PensionPayment.run_month.in_(months)))
    out = dict(_grouped(session, payroll, _prefecture(PensionPayment.region), month_column=PensionPayment.run_month,
                        measures=1))
    awarded = _china_month(session, SurvivorAward.awarded_at)
    survivors = (select(awarded, func.sum(SurvivorAward.total_fen))
                 .join(Person, Person.id == SurvivorAward.deceased_person_id))
    wanted = set(months)
    for key, (amount,) in _grouped(session, survivors, _prefecture(Person.id_number), month_column=awarded,
                                   measures=1).items():
        if key[0] in wanted:
            out[key] = (out.get(key, (0,))[0] + amount,)
    benefit = (select(PensionPayment.month, func.count(PensionPayment.id),
                      func.sum(PensionPayment.pension_fen + PensionPayment.adjustment_fen))
               .where(PensionPayment.month.in_(months)))
    pensions = _grouped(session, benefit, _prefecture(PensionPayment.region), month_column=PensionPayment.month,
                        measures=2)
    return out, pensions


def _enrolments(session: Session, months: list[date]) -> dict:
    spells = (select(EmploymentSpell.start_month, func.count(EmploymentSpell.id))
              .join(Employer, Employer.id == EmploymentSpell.employer_id)
              .where(EmploymentSpell.start_month.in_(months)))
    flexible = (select(FlexibleEnrolment.start_month, func.count(FlexibleEnrolment.id))
                .join(Person, Person.id == FlexibleEnrolment.person_id)
                .where(FlexibleEnrolment.start_month.in_(months)))
    result: dict = defaultdict(lambda: (0,))
    for part in (_grouped(session, spells, _prefecture(Employer.region), month_column=EmploymentSpell.start_month,
                          measures=1),
                 _grouped(session, flexible, _prefecture(Person.id_number),
                          month_column=FlexibleEnrolment.start_month, measures=1)):
        for key, (count,) in part.items():
            result[key] = (result[key][0] + count,)
    return dict(result)


def _cases(session: Session, months: list[date], today: date) -> tuple[dict, dict]:
    decided_month = _china_month(session, Case.decided_at)
    on_time = _china_day(session, Case.decided_at) <= Case.due_on
    decided = (select(decided_month, func.count(Case.id), func.sum(sql_case((on_time, 1), else_=0)))
               .where(Case.decided_at.is_not(None)))
    due_month = month_of(session, column=Case.due_on)
    overdue = (select(due_month, func.count(Case.id))
               .where(Case.state.in_(RUNNING), Case.due_on < today))
    wanted = set(months)
    decided_rows = {key: value for key, value in _grouped(session, decided, Case.prefecture, month_column=decided_month,
                                                          measures=2).items() if key[0] in wanted}
    overdue_rows = {key: value for key, value in _grouped(session, overdue, Case.prefecture, month_column=due_month,
                                                          measures=1).items() if key[0] in wanted}
    return decided_rows, overdue_rows


def _payer_area():
    return sql_case((PaymentOrder.payer_kind == "employer", _prefecture(Employer.region)),
                    else_=_prefecture(Person.id_number))


def _collections(session: Session, months: list[date]) -> dict:
    paid_month = _china_month(session, Payment.paid_at)
    statement = (
        select(paid_month, func.sum(Payment.amount_fen))
        .select_from(Payment)
        .join(PaymentOrder, PaymentOrder.id == Payment.order_id)
        .outerjoin(Employer, and_(PaymentOrder.payer_kind == "employer", Employer.id == PaymentOrder.payer_id))
        .outerjoin(Person, and_(PaymentOrder.payer_kind == "person", Person.id == PaymentOrder.payer_id))
    )
    wanted = set(months)
    return {key: value for key, value in _grouped(session, statement, _payer_area(), month_column=paid_month,
                                                  measures=1).items() if key[0] in wanted}


def compute_months(session: Session, *, months: list[date], today: date,
                   cells: dict | None = None) -> dict[tuple[date, str], dict]:
    """Every summary figure of ``months`` for the province and each prefecture: {(month, area): {field: value}}.
    ``cells``: the insured of those months by area, age band and sex, when already read (``_insured_cells``)."""
    if not months:
        return {}
    cells = _insured_cells(session, months) if cells is None else cells
    contributions = _contributions(cells)
    back_payments = _back_payments(session, months)
    pensioners = _pensioners(session, months)
    payments_out, pensions = _pension_payments(session, months)
    enrolments = _enrolments(session, months)
    decided, overdue = _cases(session, months, today)
    collections = _collections(session, months)
    result = {}
    for month in months:
        for area in AREAS:
            key = (month, area)
            insured, contributors, due, collected, arrears = contributions.get(key, (0,) * 5)
            cases_decided, on_time = decided.get(key, (0, 0))
            result[key] = {
                "insured": insured, "contributors": contributors,
                "pensioners": pensioners.get(key, (0, 0))[0], "new_pensioners": pensioners.get(key, (0, 0))[1],
                "pensions_paid": pensions.get(key, (0, 0))[0], "pensions_fen": pensions.get(key, (0, 0))[1],
                "enrolments": enrolments.get(key, (0,))[0], "back_payments": back_payments.get(key, (0,))[0],
                "due_fen": due, "collected_fen": collected, "arrears_fen": arrears,
                "collections_in_fen": collections.get(key, (0,))[0],
                "payments_out_fen": payments_out.get(key, (0,))[0],
                "cases_decided": cases_decided, "cases_on_time": on_time,
                "cases_overdue": overdue.get(key, (0,))[0],
            }
    return result


# --- which months changed --------------------------------------------------------------------------------------

def first_month(today: date) -> date:
    """The first month monitored: the start of the provincial fund (统收统支). Before it each prefecture kept its
    own fund; those months stay on every person's record, not in the province's figures."""
    return param("provincial_pooling_start").at(today).value


def month_digests(session: Session, *, today: date) -> dict[date, str]:
    """A digest per month of every record the month's figures are built from; a month with no records is absent,
    and so is a month before the first monitored one."""
    parts: dict[date, list] = defaultdict(list)
    start = first_month(today)

    def collect(name: str, statement) -> None:
        for row in session.execute(statement):
            if row[0] is not None and as_month(row[0]) >= start:
                parts[as_month(row[0])].append([name, *(int(value or 0) for value in row[1:])])

    weight = sql_case((ContributionMonth.status == "paid", 1), (ContributionMonth.status == "arrears", 2),
                      (ContributionMonth.status == "deferred", 3), else_=5)
    collect("cm", select(ContributionMonth.month, func.count(ContributionMonth.id),
                         func.sum(ContributionMonth.id * weight), func.sum(ContributionMonth.base_fen),
                         func.sum(func.coalesce(ContributionMonth.employer_id, 0)))
            .where(ContributionMonth.month >= start, ContributionMonth.source.in_(DUE_SOURCES))
            .group_by(ContributionMonth.month))
    recorded = _china_month(session, ContributionMonth.created_at)
    collect("back", select(recorded, func.count(ContributionMonth.id), func.sum(ContributionMonth.id))
            .where(ContributionMonth.source == "back_payment").group_by(recorded))
    collect("spell", select(EmploymentSpell.start_month, func.count(EmploymentSpell.id), func.sum(EmploymentSpell.id))
            .group_by(EmploymentSpell.start_month))
    collect("flex", select(FlexibleEnrolment.start_month, func.count(FlexibleEnrolment.id),
                           func.sum(FlexibleEnrolment.id)).group_by(FlexibleEnrolment.start_month))
    decided_month = _china_month(session, Case.decided_at)
    collect("decided", select(decided_month, func.count(Case.id), func.sum(Case.version), func.sum(Case.id))
            .where(Case.decided_at.is_not(None)).group_by(decided_month))
    due_month = month_of(session, column=Case.due_on)
    collect("overdue", select(due_month, func.count(Case.id), func.sum(Case.id))
            .where(Case.state.in_(RUNNING), Case.due_on < today).group_by(due_month))
    paid_month = _china_month(session, Payment.paid_at)
    collect("paid", select(paid_month, func.count(Payment.id), func.sum(Payment.amount_fen)).group_by(paid_month))
    collect("payroll", select(PensionPayment.run_month, func.count(PensionPayment.id),
                              func.sum(PensionPayment.amount_fen), func.sum(PensionPayment.id))
            .group_by(PensionPayment.run_month))
    collect("benefit", select(PensionPayment.month, func.count(PensionPayment.id),
                              func.sum(PensionPayment.pension_fen + PensionPayment.adjustment_fen))
            .group_by(PensionPayment.month))
    awarded = _china_month(session, SurvivorAward.awarded_at)
    collect("survivors", select(awarded, func.count(SurvivorAward.id), func.sum(SurvivorAward.total_fen))
            .group_by(awarded))
    # Pensioners of a month count every award, retirement and death before it: such an event changes every later
    # month, so each month's digest carries a running digest of the events up to it.
    events: list[tuple[date, list]] = []

    def event(name: str, statement, *, from_next: bool = False) -> None:
        """Events of a month change that month on (``from_next``: the months after it)."""
        for row in session.execute(statement):
            if row[0] is not None:
                first = figures.add_months(as_month(row[0]), 1 if from_next else 0)
                events.append((first, [name, str(row[0]), *(int(value or 0) for value in row[1:])]))

    event("retired", select(EmploymentSpell.end_month, func.count(EmploymentSpell.id), func.sum(EmploymentSpell.id))
          .where(EmploymentSpell.end_reason == "retired").group_by(EmploymentSpell.end_month), from_next=True)
    event("award", select(PensionAward.first_payment_month, func.count(PensionAward.id), func.sum(PensionAward.id),
                          func.sum(func.coalesce(PensionAward.superseded_by, 0)))
          .group_by(PensionAward.first_payment_month))
    event("stop", select(PensionAward.stopped_after, func.count(PensionAward.id), func.sum(PensionAward.id))
          .group_by(PensionAward.stopped_after), from_next=True)
    died = month_of(session, column=DeathReport.date_of_death)
    event("died", select(died, func.count(DeathReport.id), func.sum(DeathReport.person_id)).group_by(died),
          from_next=True)
    events.sort(key=lambda item: (item[0], item[1]))
    running, position, digests = hashlib.sha256(FORMULA_VERSION.encode()), 0, {}
    for month in sorted(parts):
        while position < len(events) and events[position][0] <= month:
            running.update(json.dumps(events[position][1]).encode())
            position += 1
        payload = json.dumps([running.hexdigest(), sorted(parts[month])], separators=(",", ":"))
        digests[month] = hashlib.sha256(payload.encode()).hexdigest()
    return digests


@dataclass
class RefreshReport:
    recomputed: list[date] = field(default_factory=list)
    removed: list[date] = field(default_factory=list)
    unchanged: int = 0


def refresh(session: Session, *, now: datetime, today: date) -> RefreshReport:
    """Recomputes the stored figures of the months whose records changed; idempotent (a rerun recomputes none)."""
    if _dialect(session) == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(REFRESH_LOCK)))
    current = month_digests(session, today=today)
    stored = {row.month: row for row in session.execute(select(MonitoringDigest)).scalars()}
    changed = sorted(month for month, digest in current.items()
                     if month not in stored or stored[month].digest != digest)
    removed = sorted(set(stored) - set(current))
    report = RefreshReport(recomputed=changed, removed=removed, unchanged=len(current) - len(changed))
    stale = changed + removed
    if not stale:
        return report
    for table in (MonitoringMonth, MonitoringPyramid):
        session.execute(delete(table).where(table.month.in_(stale)))
    for month in removed:
        session.delete(stored[month])
    if changed:
        cells = _insured_cells(session, changed)
        summaries = compute_months(session, months=changed, today=today, cells=cells)
        session.execute(insert(MonitoringMonth), [
            {"month": month, "area": area, "computed_at": now, **values}
            for (month, area), values in summaries.items()])
        pyramid_rows = [{"month": month, "area": area, "band": band, "sex": sex, "insured": count}
                        for (month, area), by_band in _pyramid(cells).items()
                        for (band, sex), count in by_band.items()]
        if pyramid_rows:
            session.execute(insert(MonitoringPyramid), pyramid_rows)
        for month in changed:
            row = stored.get(month)
            if row is None:
                session.add(MonitoringDigest(month=month, digest=current[month], computed_at=now))
            else:
                row.digest, row.computed_at = current[month], now
                session.add(row)
    session.flush()
    return report


# --- reading the stored figures --------------------------------------------------------------------------------

@dataclass(frozen=True)
class AreaMonth:
    """One area's month as the page shows it: the stored counts and the ratios built from them."""

    area: str
    month: date
    insured: int
    contributors: int
    pensioners: int
    new_pensioners: int
    new_pensioners_year: int
    pensions_paid: int
    pensions: Decimal
    enrolments: int
    back_payments: int
    due: Decimal
    collected: Decimal
    arrears: Decimal
    collections_in: Decimal
    payments_out: Decimal
    cases_decided: int
    cases_on_time: int
    cases_overdue: int
    plan_monthly: Decimal | None

    @property
    def dependency_ratio(self) -> Decimal | None:
        return figures.ratio(self.contributors, self.pensioners)

    @property
    def average_pension(self) -> Decimal | None:
        return figures.average_money(self.pensions, self.pensions_paid)

    @property
    def collection_rate(self) -> Decimal | None:
        return figures.ratio(self.collected, self.due)

    @property
    def contribution_rate(self) -> Decimal | None:
        return figures.ratio(self.contributors, self.insured)

    @property
    def plan_completion(self) -> Decimal | None:
        return figures.ratio(self.enrolments, self.plan_monthly) if self.plan_monthly else None

    @property
    def on_time_share(self) -> Decimal | None:
        return figures.ratio(self.cases_on_time, self.cases_decided)


def _area_month(row: MonitoringMonth, new_year: int) -> AreaMonth:
    return AreaMonth(
        area=row.area, month=row.month, insured=row.insured, contributors=row.contributors,
        pensioners=row.pensioners, new_pensioners=row.new_pensioners, new_pensioners_year=new_year,
        pensions_paid=row.pensions_paid, pensions=figures.yuan(row.pensions_fen),
        enrolments=row.enrolments, back_payments=row.back_payments, due=figures.yuan(row.due_fen),
        collected=figures.yuan(row.collected_fen), arrears=figures.yuan(row.arrears_fen),
        collections_in=figures.yuan(row.collections_in_fen), payments_out=figures.yuan(row.payments_out_fen),
        cases_decided=row.cases_decided, cases_on_time=row.cases_on_time, cases_overdue=row.cases_overdue,
        plan_monthly=figures.enrolment_plan(row.area, row.month).monthly)


def last_due_month(today: date) -> date:
    """The latest month whose contributions are due by today (the due day of the billed month has passed): a month
    billed ahead and not yet due has a low collection rate that means nothing yet."""
    month = today.replace(day=1)
    due_day = int(param("contribution_due_day").at(month).value)
    return month if today.day > due_day else figures.add_months(month, -1)


def has_benefit_records(session: Session) -> bool:
    """Whether any pension was awarded yet (before that, pensioners come from retirements only)."""
    return session.execute(select(PensionAward.id).limit(1)).first() is not None


def months_available(session: Session) -> list[date]:
    return sorted(session.execute(select(MonitoringMonth.month).distinct()).scalars())


def computed_at(session: Session) -> datetime | None:
    return session.execute(select(func.max(MonitoringDigest.computed_at))).scalar()


def _new_in_year(session: Session, *, month: date, areas: Iterable[str]) -> dict[str, int]:
    rows = session.execute(
        select(MonitoringMonth.area, func.sum(MonitoringMonth.new_pensioners))
        .where(MonitoringMonth.month >= date(month.year, 1, 1), MonitoringMonth.month <= month,
               MonitoringMonth.area.in_(list(areas)))
        .group_by(MonitoringMonth.area))
    return {area: int(total or 0) for area, total in rows}


def overview(session: Session, *, month: date, areas: Iterable[str] = AREAS) -> list[AreaMonth]:
    """The month's figures of the given areas, in their order (an area with no row shows zeros)."""
    areas = list(areas)
    rows = {row.area: row for row in session.execute(
        select(MonitoringMonth).where(MonitoringMonth.month == month, MonitoringMonth.area.in_(areas))).scalars()}
    new_year = _new_in_year(session, month=month, areas=areas)
    return [_area_month(rows.get(area) or _empty(area, month), new_year.get(area, 0)) for area in areas]


def _empty(area: str, month: date) -> MonitoringMonth:
    return MonitoringMonth(area=area, month=month, **{name: 0 for name in SUMMARY_FIELDS})


def series(session: Session, *, area: str, until: date, months: int = 12) -> list[AreaMonth]:
    """The area's last ``months`` months up to ``until``, oldest first (months with no records show zeros)."""
    start = figures.add_months(until, -(months - 1))
    rows = {row.month: row for row in session.execute(
        select(MonitoringMonth).where(MonitoringMonth.area == area, MonitoringMonth.month >= date(start.year, 1, 1),
                                      MonitoringMonth.month <= until)).scalars()}
    result = []
    for index in range(months):
        month = figures.add_months(start, index)
        new_year = sum(row.new_pensioners for when, row in rows.items() if when.year == month.year and when <= month)
        result.append(_area_month(rows.get(month) or _empty(area, month), new_year))
    return result


@dataclass(frozen=True)
class PyramidRow:
    band: int
    label: str
    men: int
    women: int


def pyramid(session: Session, *, area: str, month: date) -> list[PyramidRow]:
    """The insured of the area and month by age band (youngest first), men and women."""
    cells = {(row.band, row.sex): row.insured for row in session.execute(
        select(MonitoringPyramid).where(MonitoringPyramid.area == area, MonitoringPyramid.month == month)).scalars()}
    if not cells:
        return []
    return [PyramidRow(band, figures.band_label(band), cells.get((band, "male"), 0), cells.get((band, "female"), 0))
            for band in figures.AGE_BANDS]


def flows(session: Session, *, area: str, until: date | None = None) -> list[figures.FlowMonth]:
    """Collections in and payments out by month with the running balance, from the first month on record."""
    statement = select(MonitoringMonth.month, MonitoringMonth.collections_in_fen, MonitoringMonth.payments_out_fen) \
        .where(MonitoringMonth.area == area)
    if until is not None:
        statement = statement.where(MonitoringMonth.month <= until)
    return figures.running_balance((month, int(money_in), int(money_out))
                                   for month, money_in, money_out in session.execute(statement))


def area_names(locale: str) -> dict[str, str]:
    """Area code → its name in the visitor's language (zh, else en), from the prefecture table."""
    table = param("prefectures").at(date(2020, 1, 1)).value
    language = "zh" if locale.startswith("zh") else "en"
    return {row["code"]: row[language] for row in table}
