"""The contribution year (缴费年度): Jilin's runs July → June, named by the year of its July.

Source: 吉人社联〔2025〕97号 (2025-07-01 → 2026-06-30); for earlier years the start month is unverified and assumed
the same. Declared bases, the flexible workers' base choice and the base limits follow it.
"""

from __future__ import annotations

from datetime import date

from portal.policy.dates import add_months

FIRST_CALENDAR_MONTH = 7  # July


def contribution_year(month: date) -> int:
    """The contribution year containing ``month``: 2026-03 → 2025, 2026-07 → 2026."""
    return month.year if month.month >= FIRST_CALENDAR_MONTH else month.year - 1


def first_month(year: int) -> date:
    """The first month of contribution year ``year``: 2026 → 2026-07."""
    return date(year, FIRST_CALENDAR_MONTH, 1)


def last_month(year: int) -> date:
    """The last month of contribution year ``year``: 2026 → 2027-06."""
    return add_months(first_month(year + 1), -1)
