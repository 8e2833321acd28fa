"""Working days, and due dates that skip weekends, public holidays and paused time.

The calendar is data (data/working_days.yaml) because the State Council announces
holidays and swapped working weekends (调休) year by year. Day counting follows the
usual rule for administrative time limits: the start day itself is not counted.

A year whose notice is not encoded yet (next year, until the State Council publishes it
each November) is counted with the statutory holidays the ``holidays`` library computes
from the lunar calendar. Such a year is provisional: a date counted through it may move
once the notice is encoded, so callers ask ``provisional_years`` and say so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import holidays as holiday_library
import yaml

DATA_FILE = Path(__file__).parent / "data" / "working_days.yaml"
_DAY = timedelta(days=1)
# The years the library can compute China's holidays for; a date beyond them is surely a typo.
FIRST_YEAR = holiday_library.China.start_year
LAST_YEAR = holiday_library.China.end_year


class CalendarError(ValueError):
    """The calendar file is malformed."""


class OutsideCalendar(CalendarError):
    """A date falls in a year nobody can know the holidays of (before 1950 or after 2100)."""


@cache
def statutory_days(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """The library's days off in ``year`` and the weekend days it knows are worked.

    Its days off include substitute days (补休) for holidays on a weekend, as the statutory
    rules give them. For a year whose notice it already carries they also include the days
    swapped against worked weekends, so those weekends are taken from it too; for a year not
    yet announced it knows none, and every weekend is a rest day.
    """
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise OutsideCalendar(f"the working-day calendar covers {FIRST_YEAR}..{LAST_YEAR}, not {year}")
    china = holiday_library.China(years=year)
    worked = frozenset(d for d in china.weekend_workdays if d.year == year)
    return frozenset(china), worked


@dataclass(frozen=True)
class WorkingCalendar:
    """The announced years ``first``..``last`` from the notices; any other year from the library."""

    first: date
    last: date
    holidays: frozenset[date]
    working_weekends: frozenset[date]

    def is_announced(self, year: int) -> bool:
        return self.first.year <= year <= self.last.year

    def is_working_day(self, d: date) -> bool:
        if self.first <= d <= self.last:
            holidays, working = self.holidays, self.working_weekends
        else:
            holidays, working = statutory_days(d.year)
        if d in working:
            return True
        return d.weekday() < 5 and d not in holidays

    def provisional_years(self, a: date, b: date) -> tuple[int, ...]:
        """The years without an announced notice among the days counted from ``a`` to ``b``.

        Counted days are those after ``a`` up to and including ``b``, as in a due date, so a
        due date with no such year is final and one with any may still move.
        """
        if b <= a:
            return ()
        return tuple(y for y in range((a + _DAY).year, b.year + 1) if not self.is_announced(y))

    def is_provisional(self, a: date, b: date) -> bool:
        return bool(self.provisional_years(a, b))

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
    # Announced years are first..last: a gap would count its year as announced, with no holidays at all.
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


def provisional_years(a: date, b: date) -> tuple[int, ...]:
    return default_calendar().provisional_years(a, b)


def is_provisional(a: date, b: date) -> bool:
    return default_calendar().is_provisional(a, b)
