"""Working days, and due dates that skip weekends, public holidays and paused time.

The calendar is data (data/working_days.yaml) because the State Council announces
holidays and swapped working weekends (调休) year by year. Day counting follows the
usual rule for administrative time limits: the start day itself is not counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml

DATA_FILE = Path(__file__).parent / "data" / "working_days.yaml"
_DAY = timedelta(days=1)


class CalendarError(ValueError):
    """The calendar file is malformed."""


class OutsideCalendar(CalendarError):
    """A date falls in a year the calendar does not cover, so its status is unknown."""


@dataclass(frozen=True)
class WorkingCalendar:
    first: date
    last: date
    holidays: frozenset[date]
    working_weekends: frozenset[date]

    def is_working_day(self, d: date) -> bool:
        if not self.first <= d <= self.last:
            raise OutsideCalendar(f"{d} is outside the calendar ({self.first}..{self.last})")
        if d in self.working_weekends:
            return True
        return d.weekday() < 5 and d not in self.holidays

    def add_working_days(self, start: date, n: int) -> date:
        """The date n working days after ``start`` (``start`` itself is not counted)."""
        if n < 0:
            raise ValueError("n must not be negative")
        return self.due_date(start, n, ())

    def working_days_between(self, a: date, b: date) -> int:
        """Working days d with a < d <= b; negative when b is before a."""
        if b < a:
            return -self.working_days_between(b, a)
        count, d = 0, a
        while d < b:
            d += _DAY
            count += self.is_working_day(d)
        return count

    def due_date(
        self, submitted_on: date, service_days: int, paused: Iterable[tuple[date, date]] = ()
    ) -> date:
        """Deadline for a case, with paused intervals not counting against the service time.

        A pause (start, end) is the day the case was returned to the applicant and the
        day they resubmitted. Working days after ``start`` up to and including ``end`` are
        not counted, just as the submission day is not. For a pause still running pass
        today as ``end``: the deadline is then the earliest it can be.
        """
        if service_days < 0:
            raise ValueError("service_days must not be negative")
        pauses = [(s, e) for s, e in paused]
        for s, e in pauses:
            if e < s:
                raise ValueError(f"pause ends before it starts: {s}..{e}")
        d, counted = submitted_on, 0
        while counted < service_days:
            d += _DAY
            if self.is_working_day(d) and not any(s < d <= e for s, e in pauses):
                counted += 1
        return d


def _as_date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise CalendarError(f"{where}: not a date: {value!r}") from None


def parse_calendar(data: Any) -> WorkingCalendar:
    if not isinstance(data, dict) or not isinstance(data.get("years"), dict) or not data["years"]:
        raise CalendarError("calendar data needs a non-empty 'years' mapping")
    years = sorted(int(y) for y in data["years"])
    # A gap would make every date in the missing year look like an ordinary week.
    if years != list(range(years[0], years[-1] + 1)):
        raise CalendarError(f"years must be consecutive, got {years}")
    holidays: set[date] = set()
    working: set[date] = set()
    for year_key, entry in data["years"].items():
        year = int(year_key)
        for h in entry.get("holidays") or []:
            start = _as_date(h.get("from"), f"{year} {h.get('name')}")
            end = _as_date(h.get("to"), f"{year} {h.get('name')}")
            if end < start or start.year != year or end.year != year:
                raise CalendarError(f"{year} {h.get('name')}: bad range {start}..{end}")
            d = start
            while d <= end:
                holidays.add(d)
                d += _DAY
        for value in entry.get("working_weekends") or []:
            d = _as_date(value, f"{year} working_weekends")
            if d.year != year or d.weekday() < 5:
                raise CalendarError(f"{year}: working weekend {d} is not a Saturday or Sunday of that year")
            working.add(d)
    clash = holidays & working
    if clash:
        raise CalendarError(f"dates both holiday and working: {sorted(clash)}")
    return WorkingCalendar(
        first=date(years[0], 1, 1),
        last=date(years[-1], 12, 31),
        holidays=frozenset(holidays),
        working_weekends=frozenset(working),
    )


def load_calendar(path: Path | str = DATA_FILE) -> WorkingCalendar:
    with open(path, encoding="utf-8") as f:
        return parse_calendar(yaml.safe_load(f))


@cache
def default_calendar() -> WorkingCalendar:
    return load_calendar()


def is_working_day(d: date) -> bool:
    return default_calendar().is_working_day(d)


def add_working_days(start: date, n: int) -> date:
    return default_calendar().add_working_days(start, n)


def working_days_between(a: date, b: date) -> int:
    return default_calendar().working_days_between(a, b)


def due_date(submitted_on: date, service_days: int, paused: list[tuple[date, date]] | None = None) -> date:
    return default_calendar().due_date(submitted_on, service_days, paused or ())
