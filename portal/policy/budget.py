"""The fund budget (基金预算, 吉政发〔2020〕2号 §三(三)): a draft for a year from the evidence of the years before, the
sharing of any gap (§三(四), the ``gap_sharing`` parameter through rules.gap_sharing), and execution against it.

Pure. The draft extends the straight-line trend (least squares) of each figure over the last complete years on
record to the year drafted; a figure is never projected below zero. With one year of evidence the draft repeats it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from portal.policy.rules.gap_sharing import GapShareResult, share_gap

TREND_YEARS = 5  # the most recent complete years the trend is drawn through
CENT = Decimal("0.01")


@dataclass(frozen=True)
class YearFigures:
    year: int
    income: Decimal  # contributions collected into the fund (yuan)
    expenditure: Decimal  # benefits paid out (yuan)
    contributors: Decimal  # average a month
    pensioners: Decimal  # average a month

    @property
    def balance(self) -> Decimal:
        return self.income - self.expenditure


def trend(points: Sequence[tuple[int, Decimal]], at: int) -> Decimal | None:
    """The least-squares straight line through (year, value), read at year ``at``; at least zero, to the cent.

    None without points; one point is repeated as it is."""
    if not points:
        return None
    if len(points) == 1:
        return max(points[0][1], Decimal(0)).quantize(CENT, rounding=ROUND_HALF_UP)
    count = Decimal(len(points))
    mean_x = sum(Decimal(x) for x, _ in points) / count
    mean_y = sum(y for _, y in points) / count
    spread = sum((Decimal(x) - mean_x) ** 2 for x, _ in points)
    slope = sum((Decimal(x) - mean_x) * (y - mean_y) for x, y in points) / spread
    value = mean_y + slope * (Decimal(at) - mean_x)
    return max(value, Decimal(0)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Draft:
    year: int
    evidence: tuple[YearFigures, ...]  # the complete years the trend was drawn through, oldest first
    income: Decimal
    expenditure: Decimal
    contributors: Decimal
    pensioners: Decimal
    gap: Decimal  # expenditure above income, or zero
    sharing: GapShareResult | None  # how the gap is covered (80% the fund's surplus, 20% governments), provisional

    @property
    def balance(self) -> Decimal:
        return self.income - self.expenditure


def draft(year: int, history: Iterable[YearFigures]) -> Draft | None:
    """The budget for ``year`` from the last TREND_YEARS complete years before it; None without any."""
    evidence = tuple(sorted((item for item in history if item.year < year), key=lambda item: item.year))[-TREND_YEARS:]
    if not evidence:
        return None

    def projected(name: str) -> Decimal:
        return trend([(item.year, getattr(item, name)) for item in evidence], year)

    income, expenditure = projected("income"), projected("expenditure")
    gap = max(expenditure - income, Decimal(0))
    return Draft(year, evidence, income, expenditure, projected("contributors"), projected("pensioners"), gap,
                 share_gap(gap, year) if gap else None)


@dataclass(frozen=True)
class ExecutionMonth:
    month: date
    budget_income: Decimal
    income: Decimal
    budget_expenditure: Decimal
    expenditure: Decimal

    @property
    def income_variance(self) -> Decimal:
        return self.income - self.budget_income

    @property
    def expenditure_variance(self) -> Decimal:
        return self.expenditure - self.budget_expenditure


def execution(budget: Draft, actual: Iterable[tuple[date, Decimal, Decimal]]) -> list[ExecutionMonth]:
    """Each month of the budget's year with (income, expenditure) on record against a twelfth of the budget."""
    income = (budget.income / 12).quantize(CENT, rounding=ROUND_HALF_UP)
    expenditure = (budget.expenditure / 12).quantize(CENT, rounding=ROUND_HALF_UP)
    return [ExecutionMonth(month, income, money_in, expenditure, money_out)
            for month, money_in, money_out in sorted(actual) if month.year == budget.year]
