"""How a case's details (its payload) are shown to staff: typed values for the templates, never raw JSON.

Pure: no database, request or clock. The stored JSON is sorted into small typed values (a month, an amount of
money, a date, a yes/no, free text, a nested list or definition list); the templates under
templates/staff/payload/ format them with the portal's filters and carry every label, so the catalog picks the
labels up. Each kind with a partial template names the keys it shows itself (``KindSpec.shown``); any other key goes to a generic,
translated definition list beneath it. A kind without a partial gets the generic list alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from portal.queue import kinds

GENERIC = "staff/payload/generic.html"

# Keys whose values are amounts of money (strings of yuan, as the services store them).
MONEY_KEYS = frozenset({"amount", "base", "contributions", "employer_part", "individual_part", "late_fee",
                        "late_fee_to_quote_date", "personal_account", "total",
                        # a fund budget's lines (budget_review)
                        "income", "subsidy", "expenditure", "transfers_in", "transfers_out", "balance", "gap"})
# The columns of a back payment's months, in order.
BACK_PAYMENT_COLUMNS = ("month", "base", "employer_part", "individual_part", "personal_account",
                        "late_fee_to_quote_date")
MAX_DEPTH = 4  # deeper nesting is summarised, not rendered

_MONTH = re.compile(r"^\d{4}-\d{2}$", re.ASCII)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", re.ASCII)


@dataclass(frozen=True)
class Shown:
    """One value ready to format. ``type`` is one of: empty, text, number, money, month, date, datetime, yes_no,
    list (``value`` is a list of Shown), fields (``value`` is a list of Entry) and deeper (too deeply nested)."""

    type: str
    value: Any = None


@dataclass(frozen=True)
class Entry:
    key: str
    shown: Shown


@dataclass(frozen=True)
class PayloadView:
    template: str
    data: dict[str, Any] = field(default_factory=dict)  # what the kind's partial shows, already typed
    others: list[Entry] = field(default_factory=list)  # everything else, for the generic list


def month(value: Any) -> date | None:
    """A contribution month written as YYYY-MM (or a date), or None."""
    if isinstance(value, str) and _MONTH.match(value.strip()):
        year, number = value.strip().split("-")
        if 1 <= int(number) <= 12 and int(year) >= 1:
            return date(int(year), int(number), 1)
    return None


def day(value: Any) -> date | None:
    if isinstance(value, str) and _DAY.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def moment(value: Any) -> datetime | None:
    """An ISO date and time with its time zone (a naive one would be shown in the server's zone), or None."""
    if isinstance(value, str) and _MOMENT.match(value.strip()):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        return parsed if parsed.tzinfo is not None else None
    return None


def money(value: Any) -> Decimal | None:
    """An amount in yuan as the services store it ("1234.56", or a whole number), or None."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, ValueError):
        return None
    # Finite and below a trillion yuan: "1E+999999" is finite, but no amount format can round it.
    return amount if amount.is_finite() and abs(amount) < 10**12 else None


def _text(value: Any) -> Shown:
    if value is None or (isinstance(value, str) and not value.strip()):
        return Shown("empty")
    return Shown("text", value if isinstance(value, str) else str(value))


def shape(value: Any, key: str = "", depth: int = 0) -> Shown:
    """Any JSON value as something a template can show; the key tells money apart from other numbers."""
    if value is None or value == "" or value == [] or value == {}:
        return Shown("empty")
    if isinstance(value, bool):
        return Shown("yes_no", value)
    if key in MONEY_KEYS and (amount := money(value)) is not None:
        return Shown("money", amount)
    if isinstance(value, int):
        return Shown("number", value)
    if isinstance(value, str):
        for kind, parse in (("month", month), ("date", day), ("datetime", moment)):
            if (parsed := parse(value)) is not None:
                return Shown(kind, parsed)
        return _text(value)
    if isinstance(value, (list, tuple, dict)) and depth >= MAX_DEPTH:
        return Shown("deeper")
    if isinstance(value, (list, tuple)):
        return Shown("list", [shape(item, key, depth + 1) for item in value])
    if isinstance(value, dict):
        return Shown("fields", entries(value, depth=depth + 1))
    return _text(value)


def entries(mapping: dict, *, skip: frozenset[str] = frozenset(), depth: int = 0) -> list[Entry]:
    return [Entry(str(key), shape(value, str(key), depth)) for key, value in sorted(mapping.items(), key=_by_key)
            if key not in skip]


def _by_key(item: tuple) -> str:
    return str(item[0])


def _months_list(value: Any) -> list[Shown] | None:
    """A list of YYYY-MM months, in order; None when the value is not such a list."""
    if not isinstance(value, list) or not value:
        return None
    parsed = [month(item) for item in value]
    if any(item is None for item in parsed):
        return None
    return [Shown("month", item) for item in sorted(parsed)]


def _deferral(payload: dict, shown: frozenset[str]) -> tuple[dict, set[str]]:
    months = _months_list(payload.get("months"))
    windows = payload.get("windows") if isinstance(payload.get("windows"), dict) else {}
    data: dict[str, Any] = {"amount": shape(payload.get("amount"), "amount"), "reason": _text(payload.get("reason")),
                            "credit_code": _text(payload.get("credit_code")), "rows": []}
    handled = {"amount", "reason", "credit_code"}
    if months is not None:
        handled.add("months")
        for item in months:
            window = windows.get(item.value.strftime("%Y-%m"))
            start, end = (window if isinstance(window, list) and len(window) == 2 else (None, None))
            data["rows"].append({"month": item, "from": _day_or_text(start), "until": _day_or_text(end)})
        if all(isinstance(windows.get(m.value.strftime("%Y-%m")), list) for m in months) and set(windows) <= {
                m.value.strftime("%Y-%m") for m in months}:
            handled.add("windows")
    return data, handled


def _day_or_text(value: Any) -> Shown:
    parsed = day(value)
    return Shown("date", parsed) if parsed is not None else _text(value)


def _back_payment(payload: dict, shown: frozenset[str]) -> tuple[dict, set[str]]:
    handled = {"person_id", "person_name", "id_number", "spell_id", "first_month", "last_month", "contributions",
               "late_fee", "quoted_on", "credit_code"}
    contributions, late_fee = money(payload.get("contributions")), money(payload.get("late_fee"))
    data: dict[str, Any] = {
        "person_name": _text(payload.get("person_name")), "id_number": _text(payload.get("id_number")),
        "person_id": shape(payload.get("person_id")), "spell_id": shape(payload.get("spell_id")),
        "first_month": shape(payload.get("first_month")), "last_month": shape(payload.get("last_month")),
        "contributions": shape(payload.get("contributions"), "contributions"),
        "late_fee": shape(payload.get("late_fee"), "late_fee"),
        "total": Shown("money", contributions + late_fee) if contributions is not None and late_fee is not None
        else Shown("empty"),
        "quoted_on": day(payload.get("quoted_on")), "credit_code": _text(payload.get("credit_code")),
        "rows": [], "row_others": False,
    }
    items = payload.get("months")
    if isinstance(items, list) and items and all(isinstance(item, dict) for item in items):
        handled.add("months")
        for item in items:
            row = {column: shape(item.get(column), column, 1) for column in BACK_PAYMENT_COLUMNS}
            row["others"] = entries(item, skip=frozenset(BACK_PAYMENT_COLUMNS), depth=1)
            data["row_others"] = data["row_others"] or bool(row["others"])
            data["rows"].append(row)
    return data, handled


def _enrolment_correction(payload: dict, shown: frozenset[str]) -> tuple[dict, set[str]]:
    months = _months_list(payload.get("months"))
    what = payload.get("what")
    handled = {"details"} | ({"months"} if months is not None else set()) | ({"what"} if _code(what) else set())
    return {"months": months or [], "what": what if _code(what) else None, "details": _text(payload.get("details"))}, handled


def _flexible_exception(payload: dict, shown: frozenset[str]) -> tuple[dict, set[str]]:
    reason, percent = payload.get("reason"), payload.get("base_percent")
    whole = isinstance(percent, int) and not isinstance(percent, bool)
    return ({"reason": reason if _code(reason) else None, "details": _text(payload.get("details")),
             "start_month": shape(payload.get("start_month")), "base_percent": percent if whole else None,
             "open_spell_since": shape(payload.get("open_spell_since"))},
            {"details", "start_month", "open_spell_since"} | ({"reason"} if _code(reason) else set())
            | ({"base_percent"} if whole or percent is None else set()))


def _code(value: Any) -> bool:
    """A choice stored as a short code: its partial shows it as a phrase (an unknown code as plain text)."""
    return value is None or isinstance(value, str)


def _employer_verification(payload: dict, shown: frozenset[str]) -> tuple[dict, set[str]]:
    region = payload.get("region")
    return ({"credit_code": _text(payload.get("credit_code")), "name": _text(payload.get("name")),
             "region": region if isinstance(region, str) else None},
            {"credit_code", "name"} | ({"region"} if isinstance(region, str) or region is None else set()))


_BUILDERS = {
    "employer_verification": _employer_verification,
    "deferral": _deferral,
    "back_payment": _back_payment,
    "enrolment_correction": _enrolment_correction,
    "flexible_exception": _flexible_exception,
}


def view(kind: str, payload: dict) -> PayloadView:
    """What the case page shows of ``payload``: the kind's partial with its typed data, plus the other keys."""
    payload = payload if isinstance(payload, dict) else {}
    spec = kinds.registered().get(kind)
    if spec is None or spec.payload_template is None:
        return PayloadView(GENERIC, {}, entries(payload))
    data, handled = _BUILDERS.get(kind, _plain)(payload, spec.shown)
    handled &= set(spec.shown)
    return PayloadView(spec.payload_template, data, entries(payload, skip=frozenset(handled)))


def _plain(payload: dict, shown: frozenset[str]) -> tuple[dict, set[str]]:
    """A kind without a builder of its own: each shown key typed as ``shape`` types it."""
    return {key: shape(payload.get(key), key) for key in shown}, set(shown) & set(payload)
