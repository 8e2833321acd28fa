"""Month arithmetic. A month is represented by the date of its first day."""

import re
from datetime import date

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def month_of(day: date) -> date:
    """The first day of the month containing ``day``."""
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    """Adds ``count`` months to a month (first-of-month date)."""
    index = month.year * 12 + (month.month - 1) + count
    return date(index // 12, index % 12 + 1, 1)


def months_between(start: date, end: date) -> int:
    """Whole months from the month of ``start`` to the month of ``end`` (negative if end is earlier)."""
    return (end.year - start.year) * 12 + (end.month - start.month)


def parse_month(text: str) -> date:
    """Parses "YYYY-MM" into the first day of that month; raises ValueError otherwise."""
    match = _MONTH.match(text) if isinstance(text, str) else None
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"not a month in YYYY-MM form: {text!r}")
    return date(int(match.group(1)), int(match.group(2)), 1)


def fmt_month(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"
