"""Pure figures for supervisors: ratios, age bands, the fund's running balance and the enrolment plan.

No database and no clock. Counts are ints, money is integer fen in and Decimal yuan out where a page shows it;
a ratio is a Decimal rounded to four places (0.8125 = 81.25%), or None when there is nothing to divide by.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from portal.policy.parameters import Used, param
from portal.policy.regions import PROVINCE

# The lowest age of each band of the age and sex pyramid; the last band is open (60 and over).
AGE_BANDS = (16, 20, 25, 30, 35, 40, 45, 50, 55, 60)
RATIO_PLACES = Decimal("0.0001")


def ratio(numerator: int | Decimal, denominator: int | Decimal) -> Decimal | None:
    """numerator / denominator to four places (half up); None when the denominator is zero."""
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


def yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def average_money(total: Decimal, count: int) -> Decimal | None:
    """A total in yuan shared over ``count`` (to the fen, half up); None when there is nothing to share over."""
    if not count:
        return None
    return (total / count).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def band_label(low: int) -> str:
    """16 → "16–19", 60 → "60+"."""
    index = AGE_BANDS.index(low)
    if index == len(AGE_BANDS) - 1:
        return f"{low}+"
    return f"{low}–{AGE_BANDS[index + 1] - 1}"


def band_of(age: int) -> int:
    """The band an age falls in (ages under 16 go into the first band)."""
    found = AGE_BANDS[0]
    for low in AGE_BANDS:
        if age >= low:
            found = low
    return found


def months_between(earlier: date, later: date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class FlowMonth:
    month: date
    collections_in_fen: int
    payments_out_fen: int
    balance_fen: int  # running: every earlier month's collections less payments, this one included

    @property
    def collections_in(self) -> Decimal:
        return yuan(self.collections_in_fen)

    @property
    def payments_out(self) -> Decimal:
        return yuan(self.payments_out_fen)

    @property
    def balance(self) -> Decimal:
        return yuan(self.balance_fen)


def running_balance(months: Iterable[tuple[date, int, int]], *, opening_fen: int = 0) -> list[FlowMonth]:
    """(month, in, out) in any order → the months in order with the balance carried from ``opening_fen``."""
    balance = opening_fen
    flows = []
    for month, money_in, money_out in sorted(months):
        balance += money_in - money_out
        flows.append(FlowMonth(month, money_in, money_out, balance))
    return flows


@dataclass(frozen=True)
class PlanTarget:
    yearly: int | None  # new enrolments planned for the year, or None when the area has no plan
    monthly: Decimal | None  # a twelfth of it, to set against one month
    used: Used


def enrolment_plan(area: str, month: date) -> PlanTarget:
    """The area's plan for ``month``'s year; the province's is the sum of the prefectures'."""
    used = param("enrolment_plan").at(month)
    plans = used.value
    if area == PROVINCE:
        yearly: int | None = sum(int(value) for value in plans.values())
    else:
        yearly = int(plans[area]) if area in plans else None
    monthly = (Decimal(yearly) / 12).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if yearly is not None else None
    return PlanTarget(yearly, monthly, used)
