"""Survivor benefits on the death of an insured person or retiree (遗属待遇, 人社部发〔2021〕18号)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from portal.policy.errors import PolicyInputError
from portal.policy.explain import Explainer, Explanation
from portal.policy.money import round_fen, round_places


@dataclass(frozen=True)
class SurvivorResult:
    base: Decimal  # the previous year's urban per-capita disposable income ÷ 12
    funeral_grant: Decimal  # 丧葬补助金
    months: Decimal  # months of the base paid as survivor benefit
    survivor_benefit: Decimal  # 抚恤金
    total: Decimal
    explanation: Explanation
    provisional: bool


def _whole_months(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PolicyInputError(field, "must be a whole number of months, 0 or more")
    return value


def service_months(years: Decimal, schedule: dict) -> Decimal:
    """Months of survivor benefit for someone who dies in service after ``years`` of contributions."""
    if years < 5:
        return Decimal(schedule["months_under_5_years"])
    if years < 10:
        return Decimal(schedule["months_under_10_years"])
    over = min(years, Decimal(schedule["years_cap"])) - 15
    return Decimal(schedule["months_at_15_years"]) + max(over, Decimal(0)) * schedule["months_per_year_over_15"]


def survivor_benefits(
    *, date_of_death: date, contribution_months: int, retired: bool = False, months_drawn: int = 0
) -> SurvivorResult:
    """The one-off payments to the survivors of an insured person or retiree who died of illness or a non-work
    cause (人社部发〔2021〕18号, from 2021-09-01; Jilin 吉人社联〔2021〕168号).

    base = the province's previous-year urban per-capita disposable income ÷ 12; funeral grant = 2 × base;
    survivor benefit = base × months. In service the months follow cumulative contribution years (actual and
    deemed, counted to the month): under 5 years 3, under 10 years 6, 10 to 15 years 9, then one more per year
    up to 30 years (24 months). A retiree's months are reduced by one per year of pension drawn (counted to the
    month), to no fewer than 9. Example from the notice's commentary: 28 years 9 months of contributions and
    3 years 6 months drawn give 9 + 13.75 - 3.5 = 19.25 months.
    Not modelled here: a death while drawing unemployment benefit is paid by the unemployment fund instead
    (never twice), and only one funeral grant is paid across all schemes (社会保险法 第四十九条).
    """
    contribution_months = _whole_months(contribution_months, "contribution_months")
    months_drawn = _whole_months(months_drawn, "months_drawn")
    if months_drawn and not retired:
        raise PolicyInputError("months_drawn", "only a retiree has drawn a pension")
    ex = Explainer()
    schedule = ex.use("survivor_benefit_schedule", date_of_death, field_name="date_of_death")
    base = ex.use("survivor_income_base", date_of_death, field_name="date_of_death")
    ex.step("survivor.base", base=base, year=date_of_death.year - 1)
    funeral = round_fen(base * schedule["funeral_grant_months"])
    ex.step("survivor.funeral", base=base, months=schedule["funeral_grant_months"], amount=funeral)
    years = Decimal(contribution_months) / 12
    months = service_months(years, schedule)
    ex.step("survivor.service_months", contribution_months=contribution_months, years=round_places(years, 2),
            cap=schedule["years_cap"], months=months)
    if retired:
        drawn_years = Decimal(months_drawn) / 12
        reduced = months - drawn_years * schedule["retiree_months_less_per_year_drawn"]
        months = max(reduced, Decimal(schedule["retiree_minimum_months"]))
        ex.step("survivor.retiree_months", drawn=months_drawn, drawn_years=round_places(drawn_years, 2),
                minimum=schedule["retiree_minimum_months"], months=months)
    benefit = round_fen(base * months)
    ex.step("survivor.benefit", base=base, months=months, amount=benefit)
    total = funeral + benefit
    ex.step("survivor.total", funeral=funeral, benefit=benefit, total=total)
    explanation = ex.build()
    return SurvivorResult(base, funeral, months, benefit, total, explanation, explanation.provisional)
