"""Late fee on unpaid contributions (滞纳金)."""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from portal.policy.dates import add_months, month_of
from portal.policy.errors import ParameterNotDefined, PolicyInputError
from portal.policy.explain import Explainer, Explanation
from portal.policy.money import ZERO, round_fen
from portal.policy.parameters import param

ONE_DAY = timedelta(days=1)
PAYERS = ("employer", "person")


@dataclass(frozen=True)
class LateFeeResult:
    amount: Decimal
    due_date: date
    paid_date: date
    days: int
    excluded_days: int
    fee: Decimal
    explanation: Explanation
    provisional: bool


def _merge(windows: Sequence[tuple[date, date]]) -> list[tuple[date, date]]:
    # Overlapping or touching windows are merged so no day is excluded twice.
    merged: list[tuple[date, date]] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1] + ONE_DAY:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def late_fee(
    amount: Decimal, due_date: date, paid_date: date, deferrals: Sequence[tuple[date, date]] = (),
    *, payer: str = "employer",
) -> LateFeeResult:
    """Late fee: 0.05% of the unpaid amount per day (社会保险法 第八十六条).

    The article addresses employers (用人单位). A person paying for themselves (``payer="person"``, a flexible
    worker) is charged only when the parameter ``flexible_late_fee_applies`` says so (low confidence: no basis
    was found, so by default no fee, and the result is provisional).

    Days run from the day after the due date through the payment date, both inclusive. Days inside a
    deferral or repayment window (inclusive ranges, see ``deferral_window``) are not counted: no late fee
    accrues during an approved deferral or repayment period (人社厅发〔2022〕50号). The fee is rounded to the
    fen, half up.
    """
    if amount < 0:
        raise PolicyInputError("amount", "must not be negative")
    if payer not in PAYERS:
        raise PolicyInputError("payer", f"must be one of {', '.join(PAYERS)}")
    for start, end in deferrals:
        if end < start:
            raise PolicyInputError("deferrals", f"window ends ({end}) before it starts ({start})")
    ex = Explainer()
    first_day = due_date + ONE_DAY
    if paid_date < first_day:
        ex.step("late_fee.on_time", due=due_date, paid=paid_date)
        explanation = ex.build()
        return LateFeeResult(amount, due_date, paid_date, 0, 0, ZERO, explanation, explanation.provisional)
    overdue = (paid_date - due_date).days
    if payer == "person" and ex.use("flexible_late_fee_applies", first_day, field_name="due_date") != "yes":
        ex.step("late_fee.person_not_charged", due=due_date, paid=paid_date, overdue=overdue)
        explanation = ex.build()
        return LateFeeResult(amount, due_date, paid_date, 0, 0, ZERO, explanation, explanation.provisional)
    excluded = 0
    for start, end in _merge(deferrals):
        clipped_start, clipped_end = max(start, first_day), min(end, paid_date)
        if clipped_start <= clipped_end:
            excluded += (clipped_end - clipped_start).days + 1
            ex.step("late_fee.window_excluded", start=start, end=end, days=(clipped_end - clipped_start).days + 1)
        _note_long_window(start, end, ex)
    days = overdue - excluded
    rate = ex.use("late_fee_daily_rate", first_day, field_name="due_date")
    fee = round_fen(amount * rate * days)
    ex.step("late_fee.fee", amount=amount, rate=rate, days=days, overdue=overdue, fee=fee)
    explanation = ex.build()
    return LateFeeResult(amount, due_date, paid_date, days, excluded, fee, explanation, explanation.provisional)


@dataclass(frozen=True)
class DeferralWindow:
    start: date
    end: date  # inclusive
    months: int
    explanation: Explanation
    provisional: bool


def deferral_window(approved_on: date) -> DeferralWindow:
    """The days on which an approved deferral earns no late fee: from the approval date, for the longest
    deferral in force then (parameter ``deferral_max_months``: Jilin's standing rule, one year for force
    majeure approved by the provincial department; six months under the 2020 relief). The window covers the
    months the approval names; days before the approval still earn the fee from each month's due date."""
    ex = Explainer()
    months = ex.use("deferral_max_months", approved_on, field_name="approved_on")
    target = add_months(month_of(approved_on), months)
    end = target.replace(day=min(approved_on.day, monthrange(target.year, target.month)[1])) - ONE_DAY
    ex.step("late_fee.deferral_window", approved=approved_on, months=months, start=approved_on, end=end)
    explanation = ex.build()
    return DeferralWindow(approved_on, end, months, explanation, explanation.provisional)


def _note_long_window(start: date, end: date, ex: Explainer) -> None:
    # A window longer than the 2020 relief's maximum is still honoured (2022 repayment windows ran to
    # end-2023), but the explanation says so, because staff should check which notice allows it.
    try:
        used = param("deferral_max_months").at(start)
    except ParameterNotDefined:
        return
    if end >= add_months(month_of(start), used.value) + (start - month_of(start)):
        ex.record(used)
        ex.step("late_fee.window_long", start=start, end=end, months=used.value)
