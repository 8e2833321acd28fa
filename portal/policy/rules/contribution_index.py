"""Average contribution index (平均缴费指数)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from portal.policy.dates import fmt_month
from portal.policy.errors import PolicyInputError
from portal.policy.explain import Explainer, Explanation
from portal.policy.money import round_places


@dataclass(frozen=True)
class IndexResult:
    average_index: Decimal
    months: int
    explanation: Explanation
    provisional: bool


def average_contribution_index(history: Sequence[tuple[date, Decimal]]) -> IndexResult:
    """The average contribution index over a monthly history of (month, base).

    Each month's index = base ÷ the average wage of that month's contribution year (July-June in Jilin); the
    result is the mean over months (equivalently, yearly indices weighted by months), rounded to two decimals as
    on Jilin benefit statements. There is no 0.60 floor: the 60% floor applies to a base when a month is billed,
    and bases billed under older rules give indices below it (a 2025 Tonghua statement shows 0.46). Above, a
    month counts at most 3.00, since no base can be billed above 300% of the average wage.
    """
    if not history:
        raise PolicyInputError("history", "must list at least one month")
    months = [month for month, _ in history]
    if len(set(months)) != len(months):
        raise PolicyInputError("history", "a month appears more than once")
    ex = Explainer()
    total = Decimal(0)
    by_year: dict[date, list[Decimal]] = {}
    for month, base in sorted(history):
        if base < 0:
            raise PolicyInputError("history", f"base for {fmt_month(month)} must not be negative")
        wage_used = ex.lookup("average_wage", month, field_name="history")
        wage = wage_used.value
        limits = ex.use("base_limit_percent", month, field_name="history")
        index = min(base / wage, Decimal(limits["cap"]) / 100)
        total += index
        by_year.setdefault(wage_used.effective_from, []).append(index)
    for year_start, indices in by_year.items():
        ex.step(
            "index.year",
            year=f"{year_start:%Y-%m}",
            months=len(indices),
            mean=round_places(sum(indices, Decimal(0)) / len(indices), 4),
        )
    average = round_places(total / len(history), 2)
    ex.step("index.average", months=len(history), index=average)
    explanation = ex.build()
    return IndexResult(average, len(history), explanation, explanation.provisional)
