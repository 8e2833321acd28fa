"""The prefectures' assessment (考核) for a year to date, from the stored monthly figures (set-based sums).

The indicators: collection rate (collected / due), contribution rate (person-months paid / person-months insured),
enrolment plan completion (enrolments / the plan for the months elapsed), collection budget completion (collected /
the budget's income for the months elapsed, when a budget can be drafted for the year from the years before) and requests
decided on time. The score, ranking and supervision line are pure (portal/policy/assessment.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlmodel import Session

from portal.models import MonitoringMonth
from portal.policy import assessment as scoring
from portal.policy import monitoring as figures
from portal.policy.parameters import Used
from portal.services import budget, monitoring


@dataclass(frozen=True)
class PeriodTotals:
    area: str
    months: int
    insured: int
    contributors: int
    due_fen: int
    collected_fen: int
    enrolments: int
    decided: int
    on_time: int
    collections_in_fen: int
    remitted_fen: int = 0  # remittances recorded as arrived in the provincial special account
    subsidy_fen: int = 0  # fiscal subsidies recorded as arrived


@dataclass(frozen=True)
class Assessment:
    year: int
    through: date
    months: int
    scores: list[scoring.AreaScore]  # ranked
    weights: Used
    budget_used: bool  # whether budget completion could be measured (a draft budget for the year)

    @property
    def supervised(self) -> list[scoring.AreaScore]:
        return [item for item in self.scores if item.supervise]


def period_totals(session: Session, *, start: date, through: date) -> dict[str, PeriodTotals]:
    """Sums of each area's stored months from ``start`` to ``through``."""
    rows = session.execute(
        select(MonitoringMonth.area, func.count(MonitoringMonth.id), func.sum(MonitoringMonth.insured),
               func.sum(MonitoringMonth.contributors), func.sum(MonitoringMonth.due_fen),
               func.sum(MonitoringMonth.collected_fen), func.sum(MonitoringMonth.enrolments),
               func.sum(MonitoringMonth.cases_decided), func.sum(MonitoringMonth.cases_on_time),
               func.sum(MonitoringMonth.collections_in_fen))
        .where(MonitoringMonth.month >= start, MonitoringMonth.month <= through)
        .group_by(MonitoringMonth.area))
    arrived = budget.receipts_in_period(session, start=start, through=through)
    found = {row[0]: PeriodTotals(row[0], *(int(value or 0) for value in row[1:]),
                                  remitted_fen=arrived.get((row[0], "remittance"), 0),
                                  subsidy_fen=arrived.get((row[0], "subsidy"), 0)) for row in rows}
    for (area, _kind), _fen in arrived.items():
        if area not in found:
            found[area] = PeriodTotals(area, *(0,) * 9, remitted_fen=arrived.get((area, "remittance"), 0),
                                       subsidy_fen=arrived.get((area, "subsidy"), 0))
    return found


def achieved(totals: PeriodTotals, *, through: date, elapsed: int, budget_income: Decimal | None,
             budget_subsidy: Decimal | None = None, remittances_recorded: bool = False) -> dict[str, Decimal | None]:
    """The share achieved of each indicator for one area (None: no records to measure it). Remittance is measured
    once the period has any remittance recorded (for any area); subsidy arrival when the budget expects a subsidy."""
    plan = figures.enrolment_plan(totals.area, through).yearly
    planned = Decimal(plan) * elapsed / 12 if plan else None
    budgeted = budget_income * elapsed / 12 if budget_income else None
    subsidy = budget_subsidy * elapsed / 12 if budget_subsidy else None
    return {
        "collection_rate": figures.ratio(totals.collected_fen, totals.due_fen),
        "contribution_rate": figures.ratio(totals.contributors, totals.insured),
        "enrolment_completion": figures.ratio(totals.enrolments, planned) if planned else None,
        "budget_completion": figures.ratio(figures.yuan(totals.collected_fen), budgeted) if budgeted else None,
        "remittance": (figures.ratio(totals.remitted_fen, totals.collected_fen)
                       if remittances_recorded and totals.collected_fen else None),
        "subsidy_arrival": figures.ratio(figures.yuan(totals.subsidy_fen), subsidy) if subsidy else None,
        "on_time_share": figures.ratio(totals.on_time, totals.decided),
    }


def assess(session: Session, *, year: int, today: date, through: date | None = None,
           budget_income: dict[str, Decimal] | None = None,
           budget_subsidy: dict[str, Decimal] | None = None) -> Assessment:
    """The prefectures' scores for ``year`` up to ``through`` (default: the year's last month on record that is due);
    the budgeted incomes and subsidies default to the year's approved budget, or else the one drafted from the years
    before."""
    due_by = monitoring.last_due_month(today)  # a month billed ahead and not yet due would weigh rates down
    months = [month for month in monitoring.months_available(session) if month.year == year and month <= due_by]
    through = through or (months[-1] if months else date(year, 12, 1))
    elapsed = through.month
    totals = period_totals(session, start=date(year, 1, 1), through=through)
    used = scoring.weights(through)
    budgets = (budget.budgets_for_assessment(session, year=year, today=today)
               if budget_income is None or budget_subsidy is None else {})
    incomes = ({area: item.income for area, item in budgets.items() if item.income} if budget_income is None
               else budget_income)
    subsidies = ({area: item.subsidy for area, item in budgets.items() if item.subsidy} if budget_subsidy is None
                 else budget_subsidy)
    remitted = any(item.remitted_fen for item in totals.values())
    scores = [scoring.score_area(area, achieved(totals.get(area) or PeriodTotals(area, *(0,) * 9),
                                                through=through, elapsed=elapsed, budget_income=incomes.get(area),
                                                budget_subsidy=subsidies.get(area), remittances_recorded=remitted),
                                 used)
              for area in monitoring.PREFECTURES]
    return Assessment(year=year, through=through, months=elapsed, scores=scoring.ranking(scores), weights=used,
                      budget_used=any(incomes.get(area) for area in monitoring.PREFECTURES))


def years_available(session: Session) -> list[int]:
    return sorted({month.year for month in monitoring.months_available(session)})
