"""The fund budget from the stored monthly figures: each year's evidence (set-based sums), the draft for a year
(portal/policy/budget.py) and its execution month by month.

Income is the contributions collected for the year's months (征缴收入), expenditure the benefits paid out; a year is
evidence only when it is over (before the current year) and all twelve of its months are on record.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Integer, cast, extract, func, select
from sqlmodel import Session

from portal.models import MonitoringMonth
from portal.policy import budget as projection
from portal.policy import monitoring as figures
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
