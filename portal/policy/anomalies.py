"""Smart monitoring (智能监控, 吉政发〔2020〕2号 §三(七)): the anomaly rules over monthly series, pure.

Each rule has a code, and its thresholds are the ``anomaly_rules`` parameter (unsourced, so provisional). The rules
over the records themselves (enrolments near retirement age, pensions after a death, shared bank cards, bases far
below the year before) are set-based SQL in portal/services/anomalies.py with the same thresholds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from portal.policy.monitoring import add_months, ratio
from portal.policy.parameters import Used, param

RULES = ("collection_rate_drop", "back_payment_spike", "enrolment_near_retirement", "pension_after_death",
         "shared_bank_account", "base_drop")


def thresholds(on: date) -> Used:
    return param("anomaly_rules").at(on)


@dataclass(frozen=True)
class RateDrop:
    month: date
    before: Decimal  # the collection rate of the month before
    rate: Decimal  # this month's


def collection_rate_drops(series: Iterable[tuple[date, int, int]], *, points: Decimal,
                          minimum_due_fen: int) -> list[RateDrop]:
    """(month, due, collected) → the months whose collection rate fell by ``points`` percentage points or more
    from the month before, when the month before had at least ``minimum_due_fen`` due."""
    by_month = {month: (due, collected) for month, due, collected in series}
    found = []
    for month in sorted(by_month):
        previous = by_month.get(add_months(month, -1))
        if previous is None or previous[0] < minimum_due_fen:
            continue
        before, now = ratio(previous[1], previous[0]), ratio(by_month[month][1], by_month[month][0])
        if before is not None and now is not None and (before - now) * 100 >= points:
            found.append(RateDrop(month, before, now))
    return found


@dataclass(frozen=True)
class Spike:
    month: date
    count: int
    average: Decimal  # of the window's months before (months without any count as none)


def back_payment_spikes(series: Iterable[tuple[date, int]], *, factor: Decimal, minimum: int,
                        window: int) -> list[Spike]:
    """(month, back-paid months recorded) → the months with at least ``minimum`` and at least ``factor`` times the
    average of the ``window`` months before."""
    counts = dict(series)
    found = []
    for month in sorted(counts):
        count = counts[month]
        if count < minimum:
            continue
        total = sum(counts.get(add_months(month, -back), 0) for back in range(1, window + 1))
        average = (Decimal(total) / window).quantize(Decimal("0.01"))
        if count >= factor * average:
            found.append(Spike(month, count, average))
    return found


def mask_card(number: str) -> str:
    """A bank card shown by its last four digits only."""
    return "•••• " + number[-4:] if len(number) >= 4 else "••••"
