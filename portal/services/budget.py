"""The fund budget from the stored monthly figures: each year's evidence (set-based sums), the draft for a year
(portal/policy/budget.py), its execution month by month, and the long-horizon projection (portal/policy/
projection.py) from the cohorts of the record.

Income is the contributions collected for the year's months (征缴收入), expenditure the benefits paid out; a year is
evidence only when it is over (before the current year) and all twelve of its months are on record.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Integer, and_, cast, distinct, exists, extract, func, select
from sqlmodel import Session

from portal.models import (
    ContributionMonth,
    DeathReport,
    EmploymentSpell,
    MonitoringMonth,
    PensionAward,
    Person,
)
from portal.policy import budget as projection
from portal.policy import monitoring as figures
from portal.policy import projection as projection_model
from portal.policy.parameters import param
from portal.services import monitoring


def history(session: Session, *, area: str, before: int) -> list[projection.YearFigures]:
    """The area's complete years before ``before`` (the current year): income and expenditure, contributors and
    pensioners a month."""
    year = cast(extract("year", MonitoringMonth.month), Integer)
    rows = session.execute(
        select(year, func.count(MonitoringMonth.id), func.sum(MonitoringMonth.collected_fen),
               func.sum(MonitoringMonth.payments_out_fen), func.sum(MonitoringMonth.contributors),
               func.sum(MonitoringMonth.pensioners))
        .where(MonitoringMonth.area == area, MonitoringMonth.month < date(before, 1, 1)).group_by(year).order_by(year))
    return [projection.YearFigures(int(when), figures.yuan(int(money_in or 0)), figures.yuan(int(money_out or 0)),
                                   _per_month(contributors, months), _per_month(pensioners, months))
            for when, months, money_in, money_out, contributors, pensioners in rows if int(months) == 12]


def _per_month(total, months) -> Decimal:
    return (Decimal(int(total or 0)) / int(months)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def draft(session: Session, *, area: str, year: int, today: date) -> projection.Draft | None:
    """The budget for ``year`` drawn from the years that are over by ``today``."""
    return projection.draft(year, history(session, area=area, before=min(year, today.year)))


def execution(session: Session, *, area: str, year: int, today: date) -> tuple[projection.Draft | None,
                                                                                  list[projection.ExecutionMonth]]:
    """The budget drafted for ``year`` and each month of the year on record against it."""
    budget = draft(session, area=area, year=year, today=today)
    if budget is None:
        return None, []
    rows = session.execute(
        select(MonitoringMonth.month, MonitoringMonth.collected_fen, MonitoringMonth.payments_out_fen)
        .where(MonitoringMonth.area == area, MonitoringMonth.month >= date(year, 1, 1),
               MonitoringMonth.month <= date(year, 12, 1)))
    return budget, projection.execution(budget, ((month, figures.yuan(int(money_in)), figures.yuan(int(money_out)))
                                                 for month, money_in, money_out in rows))


def incomes(session: Session, *, year: int, today: date) -> dict[str, Decimal]:
    """Each prefecture's budgeted income for ``year`` (for the assessment's budget completion); none without one."""
    found = {}
    for area in monitoring.PREFECTURES:
        budget = draft(session, area=area, year=year, today=today)
        if budget is not None and budget.income:
            found[area] = budget.income
    return found


def _average_yuan(total_fen, count) -> Decimal:
    """A sum of fen over a count, in yuan to the fen (integers only: no float from the database's AVG)."""
    return figures.average_money(figures.yuan(int(total_fen or 0)), int(count or 0)) or Decimal(0)


def cohorts(session: Session, *, month: date, assumptions_on: date) -> list[projection_model.Cohort]:
    """The province's cohorts (sex, year of birth) as the record stands in ``month``: contributors with their average
    base, pensioners (current awards; a retiree not yet awarded draws the average award, or the first-pension share
    of the average base when there is none) with their average pension."""
    birth_year = cast(extract("year", Person.birth_date), Integer)
    people: dict[tuple[str, int], dict] = {}

    def entry(sex: str, year: int) -> dict:
        return people.setdefault((sex, int(year)), {"contributors": 0, "base": Decimal(0), "pensioners": 0,
                                                    "pension": Decimal(0)})

    for sex, year, count, base_total, rows in session.execute(
            select(Person.sex, birth_year, func.count(distinct(ContributionMonth.person_id)),
                   func.sum(ContributionMonth.base_fen), func.count(ContributionMonth.id))
            .join(Person, Person.id == ContributionMonth.person_id)
            .where(ContributionMonth.month == month, ContributionMonth.source.in_(monitoring.DUE_SOURCES))
            .group_by(Person.sex, birth_year)):
        row = entry(sex, year)
        row["contributors"], row["base"] = int(count), _average_yuan(base_total, rows)
    current = and_(PensionAward.superseded_by.is_(None), PensionAward.stopped_after.is_(None))
    for sex, year, count, pension_total in session.execute(
            select(Person.sex, birth_year, func.count(PensionAward.id), func.sum(PensionAward.monthly_fen))
            .join(Person, Person.id == PensionAward.person_id).where(current).group_by(Person.sex, birth_year)):
        row = entry(sex, year)
        row["pensioners"], row["pension"] = int(count), _average_yuan(pension_total, count)
    awarded = [row for row in people.values() if row["pensioners"]]
    contributing = [row for row in people.values() if row["contributors"]]
    if awarded:
        fallback = sum(row["pension"] * row["pensioners"] for row in awarded) / sum(r["pensioners"] for r in awarded)
    elif contributing:
        ratio = projection_model.assumptions_used(assumptions_on).value["new_pension_ratio"]
        fallback = ratio * sum(r["base"] * r["contributors"] for r in contributing) / sum(
            r["contributors"] for r in contributing)
    else:
        fallback = Decimal(0)
    has_award = exists().where(PensionAward.person_id == EmploymentSpell.person_id)
    for sex, year, count in session.execute(
            select(Person.sex, birth_year, func.count(distinct(EmploymentSpell.person_id)))
            .join(Person, Person.id == EmploymentSpell.person_id)
            .outerjoin(DeathReport, DeathReport.person_id == EmploymentSpell.person_id)
            .where(EmploymentSpell.end_reason == "retired", EmploymentSpell.end_month < month, ~has_award,
                   DeathReport.id.is_(None))
            .group_by(Person.sex, birth_year)):
        row = entry(sex, year)
        total = row["pensioners"] + int(count)
        row["pension"] = (row["pension"] * row["pensioners"] + fallback * int(count)) / total
        row["pensioners"] = total
    return [projection_model.Cohort(sex, year, Decimal(row["contributors"]), Decimal(row["pensioners"]),
                                    row["base"], row["pension"].quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
            for (sex, year), row in sorted(people.items()) if sex in ("male", "female")]


def long_horizon(session: Session, *, today: date) -> projection_model.Projection | None:
    """The province's fund to the horizon from the record as it stands in the last month before this year with anyone
    insured; None without one."""
    month = session.execute(
        select(func.max(MonitoringMonth.month))
        .where(MonitoringMonth.area == monitoring.PROVINCE, MonitoringMonth.insured > 0,
               MonitoringMonth.month < date(today.year, 1, 1))).scalar()
    if month is None:
        return None
    month = monitoring.as_month(month)
    totals = session.execute(
        select(func.sum(MonitoringMonth.due_fen), func.sum(MonitoringMonth.collected_fen),
               func.sum(MonitoringMonth.payments_out_fen))
        .where(MonitoringMonth.area == monitoring.PROVINCE, MonitoringMonth.month <= month)).one()
    last_year = session.execute(
        select(func.sum(MonitoringMonth.due_fen), func.sum(MonitoringMonth.collected_fen))
        .where(MonitoringMonth.area == monitoring.PROVINCE, MonitoringMonth.month >= date(month.year, 1, 1),
               MonitoringMonth.month <= month)).one()
    collection_rate = figures.ratio(int(last_year[1] or 0), int(last_year[0] or 0)) or Decimal(1)
    on = date(today.year, 1, 1)
    rate = param("employer_rate").at(on).value + param("individual_rate").at(on).value
    assumptions = projection_model.Assumptions.from_parameters(on, contribution_rate=rate,
                                                              collection_rate=collection_rate)
    opening = figures.yuan(int(totals[1] or 0) - int(totals[2] or 0))
    return projection_model.project(cohorts(session, month=month, assumptions_on=on), start_year=month.year,
                                    opening_balance=opening, assumptions=assumptions)
