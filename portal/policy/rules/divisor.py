"""Personal-account annuity divisor (计发月数)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from portal.policy.errors import PolicyInputError
from portal.policy.explain import Explainer, Explanation
from portal.policy.money import round_places
from portal.policy.rules.retirement import Age


@dataclass(frozen=True)
class DivisorResult:
    age: Age
    divisor: Decimal
    explanation: Explanation
    provisional: bool


def divisor_for(age: Age, on: date, ex: Explainer, field_name: str = "age_at_retirement") -> Decimal:
    """Looks the divisor up for ``age`` (years + months) and records the steps in ``ex``."""
    if not 0 <= age.months <= 11:
        raise PolicyInputError(field_name, "months must be 0 to 11")
    table = ex.use("annuity_divisor", on, field_name="retirement_month")
    youngest, oldest = min(table), max(table)
    if not youngest <= age.years <= oldest or (age.years == oldest and age.months):
        raise PolicyInputError(field_name, f"the divisor table covers ages {youngest} to {oldest}")
    if age.months == 0:
        divisor = round_places(Decimal(table[age.years]), 1)
        ex.step("divisor.whole_age", years=age.years, divisor=divisor)
        return divisor
    # Between whole ages the divisor falls linearly month by month (public calculators; official notice not found).
    places = ex.use("annuity_divisor_interpolation", on, field_name="retirement_month")
    lower, upper = Decimal(table[age.years]), Decimal(table[age.years + 1])
    divisor = round_places(lower - (lower - upper) * age.months / 12, places)
    ex.step(
        "divisor.interpolated", years=age.years, months=age.months, lower=lower, upper=upper, divisor=divisor
    )
    return divisor


def annuity_divisor(age: Age, on: date) -> DivisorResult:
    """The divisor for retirement at ``age``: the 国发〔2005〕38号 table for whole ages 40-70, interpolated
    linearly by month to one decimal in between (e.g. 60y1m = 139 - 7/12 = 138.4)."""
    ex = Explainer()
    divisor = divisor_for(age, on, ex)
    explanation = ex.build()
    return DivisorResult(age, divisor, explanation, explanation.provisional)
