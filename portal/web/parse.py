"""Integers and dates from a request, parsed once at the edge and bounded.

Path ids go through the ``id`` route converter: only ASCII digits up to the largest key match, so a
larger or foreign number is simply no page (404) and never reaches the database. Numbers typed in a query
or a form go through ``whole_number``: ``str.isdigit`` and ``int`` accept ``²``, ``①``, ``١٢`` and
``1_000``, which is why the pattern is explicit.
"""

from __future__ import annotations

import re
from datetime import date

from starlette.convertors import Convertor, register_url_convertor

from portal import i18n
from portal.errors import N_, Msg, PortalError, ValidationFailed

# The largest key: every primary key is an INTEGER column, 64-bit on SQLite but 32-bit on PostgreSQL, where a
# larger value fails the query ("integer out of range") instead of finding nothing.
MAX_ID = 2**31 - 1
MAX_PAGE = 100_000  # pages of a list; further is refused rather than turned into a huge OFFSET


def _at_most(limit: int) -> str:
    """A regular expression for the decimal numbers 1..limit, without leading zeros."""
    text = str(limit)
    shorter = f"[1-9][0-9]{{0,{len(text) - 2}}}" if len(text) > 1 else ""
    same_length = []
    for position, digit in enumerate(text):
        lowest = "1" if position == 0 else "0"
        if digit > lowest:
            rest = len(text) - position - 1
            same_length.append(f"{text[:position]}[{lowest}-{int(digit) - 1}][0-9]{{{rest}}}")
    same_length.append(text)
    return "|".join(filter(None, [shorter, *same_length]))


class IdConvertor(Convertor[int]):
    """``{name:id}``: a database key, 1..MAX_ID in ASCII digits; anything else does not match (404)."""

    regex = f"(?:{_at_most(MAX_ID)})"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        if not 0 < int(value) <= MAX_ID:
            raise ValueError(f"not a key: {value}")
        return str(int(value))


def register() -> None:
    """Called once when ``portal.web`` is imported, before any route is compiled."""
    register_url_convertor("id", IdConvertor())


class BadNumber(PortalError):
    """A number in the address that is not a whole number in range: the page says which and how."""

    status_code = 400


_DIGITS = re.compile(r"[0-9]{1,19}", re.ASCII)


def whole_number(text: str | None, *, low: int, high: int) -> int | None:
    """``text`` as an int when it is ASCII digits only and within [low, high]; otherwise None."""
    if text is None:
        return None
    text = text.strip()
    if not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def range_message(low: int, high: int) -> Msg:
    return Msg(N_("Enter a whole number from %(low)s to %(high)s, in digits 0 to 9."), {"low": low, "high": high})


def query_int(params, name: str, *, default: int, low: int, high: int) -> int:
    """A number from the query string: ``default`` when absent or empty, BadNumber (400) when malformed."""
    text = params.get(name)
    if text is None or not text.strip():
        return default
    value = whole_number(text, low=low, high=high)
    if value is None:
        raise BadNumber(range_message(low, high))
    return value


def form_int(value: str, field: str, *, low: int, high: int, message: Msg | None = None) -> int:
    """A number typed in a form field: ValidationFailed naming the field (the form keeps what was typed)."""
    parsed = whole_number(value, low=low, high=high)
    if parsed is None:
        raise ValidationFailed({field: message or range_message(low, high)})
    return parsed


# --- Dates ------------------------------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", re.ASCII)
_ISO_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})", re.ASCII)


def _bounds_message(kind: str, low: date, high: date) -> Msg:
    if kind == "month":
        return Msg(N_("Choose a month from %(low)s to %(high)s."),
                   {"low": i18n.format_month(low), "high": i18n.format_month(high)})
    return Msg(N_("Choose a date from %(low)s to %(high)s."), {"low": i18n.format_date(low),
                                                                  "high": i18n.format_date(high)})


def form_date(text: str | None, field: str, *, low: date, high: date) -> date:
    """A date typed as YYYY-MM-DD (what <input type=date> sends), a real day within [low, high]; otherwise
    ValidationFailed naming the field, so the form shows the message beside what was typed. Never a default."""
    found = _ISO_DATE.fullmatch((text or "").strip())
    try:
        value = date(int(found.group(1)), int(found.group(2)), int(found.group(3))) if found else None
    except ValueError:  # 2025-02-30
        value = None
    if value is None:
        raise ValidationFailed({field: Msg(N_("Enter a real date as year-month-day, for example %(example)s."),
                                           {"example": low.isoformat()})})
    if not low <= value <= high:
        raise ValidationFailed({field: _bounds_message("date", low, high)})
    return value


def form_month(text: str | None, field: str, *, low: date, high: date) -> date:
    """A month typed as YYYY-MM (what <input type=month> sends) within [low, high], as its first day; otherwise
    ValidationFailed naming the field."""
    found = _ISO_MONTH.fullmatch((text or "").strip())
    value = date(int(found.group(1)), int(found.group(2)), 1) if found and 1 <= int(found.group(2)) <= 12 else None
    if value is None:
        raise ValidationFailed({field: Msg(N_("Enter the month as year and month, for example %(example)s."),
                                           {"example": f"{high:%Y-%m}"})})
    if not low.replace(day=1) <= value <= high.replace(day=1):
        raise ValidationFailed({field: _bounds_message("month", low, high)})
    return value
