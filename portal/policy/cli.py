"""Command line for the policy rules: one JSON object in, one JSON object out.

    python -m portal.policy.cli pension < person.json
    python -m portal.policy.cli contribution --jsonl < months.jsonl

Commands: pension, retirement, contribution, late-fee, transfer, claim-place, interest, survivor. Money is a
decimal string with exactly two places ("1234.50"), months are "YYYY-MM" and dates "YYYY-MM-DD"; numbers are
never read as floats. Invalid input prints a message naming the field on stderr and exits with 2. With --jsonl each
input line gives one output line, in order; an invalid line gives {"error": ...} in its place, the message
goes to stderr, the remaining lines are still processed and the exit status is 2.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, TextIO

from portal.policy.dates import add_months, fmt_month, parse_month
from portal.policy.errors import PolicyInputError
from portal.policy.money import fmt_money
from portal.policy.parameters import param
from portal.policy.rules.contribution import employee_contribution, flexible_contribution
from portal.policy.rules.interest import account_interest
from portal.policy.rules.late_fee import late_fee
from portal.policy.rules.pension import pension_award
from portal.policy.rules.retirement import Age, retirement
from portal.policy.rules.survivor import survivor_benefits
from portal.policy.rules.transfer import InsuredPeriod, claim_place, transfer_amounts

USAGE = ("usage: python -m portal.policy.cli {pension|retirement|contribution|late-fee|transfer|claim-place|interest|"
         "survivor} [--jsonl]")
_MONEY = re.compile(r"^\d+\.\d{2}$")
_DECIMAL = re.compile(r"^\d+(\.\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# --- reading fields -----------------------------------------------------------------------------------------

def _fields(data: Any, field: str, required: set[str], optional: set[str] = frozenset()) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise PolicyInputError(field or "input", "must be a JSON object")
    prefix = f"{field}." if field else ""
    for key in data:
        if key not in required | optional:
            raise PolicyInputError(prefix + key, "unknown field")
    for key in sorted(required):
        if key not in data:
            raise PolicyInputError(prefix + key, "is required")
    return data


def _money(value: Any, field: str) -> Decimal:
    if not isinstance(value, str) or not _MONEY.match(value):
        raise PolicyInputError(field, 'must be a decimal string with exactly two places, e.g. "1234.50"')
    return Decimal(value)


def _decimal(value: Any, field: str) -> Decimal:
    # JSON numbers arrive as int or Decimal (parse_float=Decimal), never as float.
    if isinstance(value, Decimal) or (isinstance(value, int) and not isinstance(value, bool)):
        if value < 0:
            raise PolicyInputError(field, "must not be negative")
        return Decimal(value)
    if not isinstance(value, str) or not _DECIMAL.match(value):
        raise PolicyInputError(field, 'must be a non-negative decimal such as "1.00"')
    return Decimal(value)


def _int(value: Any, field: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise PolicyInputError(field, f"must be a whole number, {minimum} or more")
    return value


def _month(value: Any, field: str) -> date:
    try:
        return parse_month(value)
    except ValueError:
        raise PolicyInputError(field, 'must be a month "YYYY-MM"') from None


def _date(value: Any, field: str) -> date:
    if isinstance(value, str) and _DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise PolicyInputError(field, 'must be a date "YYYY-MM-DD"')


def _list(value: Any, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise PolicyInputError(field, "must be a list")
    return value


def _age(age: Age) -> dict[str, int]:
    return {"years": age.years, "months": age.months}


def _with_explanation(output: dict[str, Any], result: Any) -> dict[str, Any]:
    output["provisional"] = result.provisional
    output["explanation"] = result.explanation.to_dict()
    return output


# --- commands -----------------------------------------------------------------------------------------------

def _pension(data: Any) -> dict[str, Any]:
    required = {"region", "retirement_month", "age_at_retirement", "actual_months", "deemed_months",
                "average_index", "account_balance"}
    data = _fields(data, "", required, {"base_local", "base_provincial", "statutory_month", "base_kind"})
    age = _fields(data["age_at_retirement"], "age_at_retirement", {"years", "months"})
    if not isinstance(data["region"], str):
        raise PolicyInputError("region", "must be a region code string such as \"220100\"")
    if not isinstance(data.get("base_kind", "standard"), str):
        raise PolicyInputError("base_kind", "must be standard or state_farm")
    result = pension_award(
        region=data["region"],
        retirement_month=_month(data["retirement_month"], "retirement_month"),
        age_at_retirement=Age(_int(age["years"], "age_at_retirement.years"),
                              _int(age["months"], "age_at_retirement.months")),
        actual_months=_int(data["actual_months"], "actual_months"),
        deemed_months=_int(data["deemed_months"], "deemed_months"),
        average_index=_decimal(data["average_index"], "average_index"),
        account_balance=_money(data["account_balance"], "account_balance"),
        base_local=_money(data["base_local"], "base_local") if "base_local" in data else None,
        base_provincial=_money(data["base_provincial"], "base_provincial") if "base_provincial" in data else None,
        statutory_month=_month(data["statutory_month"], "statutory_month") if "statutory_month" in data else None,
        base_kind=data.get("base_kind", "standard"),
    )
    return _with_explanation({
        "eligible": result.eligible,
        "min_contribution_months": result.min_contribution_months,
        "missing_months": result.missing_months,
        "basic": _money_or_none(result.basic),
        "extra": _money_or_none(result.extra),
        "transitional": _money_or_none(result.transitional),
        "personal_account": _money_or_none(result.personal_account),
        "total": _money_or_none(result.total),
        "divisor_months": None if result.divisor_months is None else str(result.divisor_months),
    }, result)


def _money_or_none(amount: Decimal | None) -> str | None:
    return None if amount is None else fmt_money(amount)


def _retirement(data: Any) -> dict[str, Any]:
    data = _fields(data, "", {"birth_date", "category"}, {"chosen_month"})
    if not isinstance(data["category"], str):
        raise PolicyInputError("category", "must be male, female_worker or female_cadre")
    chosen = _month(data["chosen_month"], "chosen_month") if "chosen_month" in data else None
    result = retirement(_date(data["birth_date"], "birth_date"), data["category"], chosen)
    return _with_explanation({
        "original_age": _age(result.original_age),
        "statutory_age": _age(result.statutory_age),
        "statutory_month": fmt_month(result.statutory_month),
        "earliest_month": fmt_month(result.earliest_month),
        "latest_month": fmt_month(result.latest_month),
        "chosen_month": fmt_month(result.chosen_month),
        "min_contribution_months": result.min_contribution_months,
        "early_notice_months": result.early_notice_months,
        "deferral_agreement_months": result.deferral_agreement_months,
    }, result)


def _contribution(data: Any) -> dict[str, Any]:
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind == "employee":
        data = _fields(data, "", {"kind", "wage", "month"})
        result = employee_contribution(_money(data["wage"], "wage"), _month(data["month"], "month"))
    elif kind == "flexible":
        data = _fields(data, "", {"kind", "base_percent", "month"})
        percent = data["base_percent"]
        if isinstance(percent, bool) or not isinstance(percent, int):
            raise PolicyInputError("base_percent", "must be a whole percent from 60 to 300")
        result = flexible_contribution(percent, _month(data["month"], "month"))
    else:
        _fields(data, "", {"kind"}, {"wage", "base_percent", "month"})
        raise PolicyInputError("kind", 'must be "employee" or "flexible"')
    return _with_explanation({
        "base": fmt_money(result.base),
        "clamped": result.clamped,
        "employer": fmt_money(result.employer),
        "individual": fmt_money(result.individual),
        "personal_account": fmt_money(result.personal_account),
        "total": fmt_money(result.total),
    }, result)


def _late_fee(data: Any) -> dict[str, Any]:
    data = _fields(data, "", {"amount", "due_date", "paid_date"}, {"deferrals", "payer"})
    payer = data.get("payer", "employer")
    if not isinstance(payer, str):
        raise PolicyInputError("payer", "must be employer or person")
    windows = []
    for number, window in enumerate(_list(data.get("deferrals", []), "deferrals")):
        field = f"deferrals[{number}]"
        window = _fields(window, field, {"from", "to"})
        windows.append((_date(window["from"], f"{field}.from"), _date(window["to"], f"{field}.to")))
    result = late_fee(
        _money(data["amount"], "amount"),
        _date(data["due_date"], "due_date"),
        _date(data["paid_date"], "paid_date"),
        windows,
        payer=payer,
    )
    return _with_explanation({"days": result.days, "fee": fmt_money(result.fee)}, result)


def _history(value: Any, field: str, amount_key: str) -> list[tuple[date, Decimal]]:
    rows = []
    for number, row in enumerate(_list(value, field)):
        where = f"{field}[{number}]"
        row = _fields(row, where, {"month", amount_key})
        rows.append((_month(row["month"], f"{where}.month"), _money(row[amount_key], f"{where}.{amount_key}")))
    return rows


def _transfer(data: Any) -> dict[str, Any]:
    data = _fields(data, "", {"history", "account_balance"},
                   {"personal_account_before_1998", "own_contributions_before_1998"})
    history = _history(data["history"], "history", "base")
    # The command has no transfer date: the 66号 rules in force after the last month are used (they have
    # applied to every transfer since 2010, including histories that ended earlier).
    first = param("pooled_transfer").values()[0].effective_from
    on = max([first] + [add_months(month, 1) for month, _ in history])
    before = {name: _money(data[name], name) for name in ("personal_account_before_1998",
                                                           "own_contributions_before_1998") if name in data}
    result = transfer_amounts(history, _money(data["account_balance"], "account_balance"), on, **before)
    return _with_explanation({
        "personal_account": fmt_money(result.personal_account),
        "account_from_1998": fmt_money(result.account_from_1998),
        "account_before_1998": fmt_money(result.account_before_1998),
        "pooled": fmt_money(result.pooled),
        "pooled_months": result.pooled_months,
    }, result)


_PLACE = re.compile(r"^\d{6}$")


def _place(value: Any, field: str) -> str:
    if not isinstance(value, str) or not _PLACE.match(value):
        raise PolicyInputError(field, 'must be a 6-digit division code, e.g. "110000"')
    return value


def _claim_place(data: Any) -> dict[str, Any]:
    data = _fields(data, "", {"on", "hukou_place", "periods"})
    periods = []
    for number, row in enumerate(_list(data["periods"], "periods")):
        where = f"periods[{number}]"
        row = _fields(row, where, {"place", "months"})
        periods.append(InsuredPeriod(_place(row["place"], f"{where}.place"), _int(row["months"], f"{where}.months")))
    result = claim_place(periods, _place(data["hukou_place"], "hukou_place"), _date(data["on"], "on"))
    return _with_explanation({"place": result.place, "rule": result.rule}, result)


def _interest(data: Any) -> dict[str, Any]:
    data = _fields(data, "", {"year", "opening_balance", "contributions"})
    result = account_interest(
        _int(data["year"], "year", minimum=1),
        _money(data["opening_balance"], "opening_balance"),
        _history(data["contributions"], "contributions", "amount"),
    )
    return _with_explanation(
        {"interest": fmt_money(result.interest), "closing_balance": fmt_money(result.closing_balance)}, result
    )


SURVIVOR_STATUSES = {"insured": False, "retiree": True}


def _survivor(data: Any) -> dict[str, Any]:
    """Issue 14's form: ``death_date`` and ``status`` ("insured" | "retiree"); the first form's ``date_of_death`` and
    ``retired`` (true | false) are still read. The output gives both forms' names."""
    if isinstance(data, dict) and ("death_date" in data or "status" in data):
        data = _fields(data, "", {"death_date", "status", "contribution_months"}, {"months_drawn"})
        if data["status"] not in SURVIVOR_STATUSES:
            raise PolicyInputError("status", 'must be "insured" or "retiree"')
        died, retired = _date(data["death_date"], "death_date"), SURVIVOR_STATUSES[data["status"]]
    else:
        data = _fields(data, "", {"date_of_death", "contribution_months"}, {"retired", "months_drawn"})
        retired = data.get("retired", False)
        if not isinstance(retired, bool):
            raise PolicyInputError("retired", "must be true or false")
        died = _date(data["date_of_death"], "date_of_death")
    result = survivor_benefits(
        date_of_death=died,
        contribution_months=_int(data["contribution_months"], "contribution_months"),
        retired=retired,
        months_drawn=_int(data.get("months_drawn", 0), "months_drawn"),
    )
    return _with_explanation({
        "monthly_base": fmt_money(result.base),
        "base": fmt_money(result.base),
        "funeral_grant": fmt_money(result.funeral_grant),
        "survivor_months": f"{result.months.quantize(Decimal('0.01'))}",
        "months": str(result.months),
        "survivor_benefit": fmt_money(result.survivor_benefit),
        "total": fmt_money(result.total),
    }, result)


COMMANDS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "pension": _pension,
    "retirement": _retirement,
    "contribution": _contribution,
    "late-fee": _late_fee,
    "transfer": _transfer,
    "claim-place": _claim_place,
    "interest": _interest,
    "survivor": _survivor,
}


def _reject_constant(name: str) -> Any:
    # json would otherwise turn NaN / Infinity into floats.
    raise PolicyInputError("input", f"{name} is not allowed")


def _run_one(command: str, text: str) -> dict[str, Any]:
    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        message = f"not valid JSON ({error.msg} at line {error.lineno} column {error.colno})"
        raise PolicyInputError("input", message) from None
    return COMMANDS[command](data)


def _dump(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False)


def main(argv: list[str], stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout, stderr: TextIO = sys.stderr) -> int:
    """Runs one command; returns the exit status (0 ok, 2 invalid input or usage)."""
    args = list(argv)
    jsonl = "--jsonl" in args
    args = [arg for arg in args if arg != "--jsonl"]
    if len(args) != 1 or args[0] not in COMMANDS:
        print(USAGE, file=stderr)
        return 2
    command = args[0]
    if not jsonl:
        try:
            output = _run_one(command, stdin.read())
        except PolicyInputError as error:
            print(f"{command}: invalid input: field '{error.field}': {error.message}", file=stderr)
            return 2
        print(_dump(output), file=stdout)
        return 0
    status = 0
    for number, line in enumerate(stdin, start=1):
        if not line.strip():
            continue
        try:
            output = _run_one(command, line)
        except PolicyInputError as error:
            print(f"{command}: line {number}: invalid input: field '{error.field}': {error.message}", file=stderr)
            output = {"error": {"line": number, "field": error.field, "message": error.message}}
            status = 2
        print(_dump(output), file=stdout)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
