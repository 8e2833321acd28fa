"""The public pension estimator: the rules applied to a person's figures, with stated assumptions.

    result = estimate(birth_date=date(1970, 3, 15), category="male", region="220100", months_paid=300,
                      months_expected=60, average_index=Decimal("1.00"), account_balance=Decimal("80000.00"),
                      today=date(2025, 9, 1))
    result.pension              # PensionResult at the chosen month (the statutory month unless ``chosen_month``
                                # is given), or None when the minimum is not met
    result.what_if              # one WhatIfRow a year across the flexible window
    result.explanation.steps    # assumptions first, then the retirement and pension steps

Assumptions (also the first explanation step): the expected months are paid one after another from the month
after ``today`` up to the month before retirement; after the statutory month a later retirement keeps paying
every month; contributions continue at the same index, each month adding 8% × index × today's average wage to
the account; no interest, wage growth or base growth is projected (a year whose 计发基数 is not published uses
the latest, so those figures are provisional).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from portal.policy.dates import add_months, fmt_month, month_of, months_between
from portal.policy.errors import PolicyInputError
from portal.policy.explain import Explainer, Explanation
from portal.policy.money import round_fen, round_places
from portal.policy.rules.pension import MAX_INDEX, PensionResult, pension_award
from portal.policy.rules.retirement import Age, RetirementResult, retirement


@dataclass(frozen=True)
class WhatIfRow:
    retirement_month: date
    age: Age
    months_counted: int  # paid months counted at that retirement month (deemed months not included)
    meets_minimum: bool
    short_months: int  # months missing to reach the minimum (0 when met)
    total: Decimal | None  # None when the minimum contribution months are not met
    pension: PensionResult | None
    is_statutory: bool
    explanation: Explanation
    provisional: bool
    minimum: int = 0  # the minimum for this month: its own year's if early, the statutory year's if deferred
    is_chosen: bool = False


@dataclass(frozen=True)
class Estimate:
    retirement: RetirementResult
    pension: PensionResult | None
    months_counted: int
    meets_minimum: bool
    what_if: tuple[WhatIfRow, ...]
    chosen: WhatIfRow
    explanation: Explanation
    provisional: bool


def _row_months(rows_from: date, statutory: date, earliest: date, latest: date, chosen: date) -> list[date]:
    # One row a year anchored on the statutory month, plus both ends of the window and the chosen month.
    months = {earliest, latest, statutory, chosen}
    for years in range(-10, 11):
        month = add_months(statutory, 12 * years)
        if earliest <= month <= latest:
            months.add(month)
    return sorted(month for month in months if month >= rows_from or month in (statutory, chosen))


def estimate(
    *,
    birth_date: date,
    category: str,
    region: str,
    months_paid: int,
    months_expected: int,
    average_index: Decimal,
    account_balance: Decimal,
    today: date,
    deemed_months: int = 0,
    chosen_month: date | None = None,
) -> Estimate:
    """Estimates the pension at the chosen (by default the statutory) month and across the flexible window."""
    for name, value in (("months_paid", months_paid), ("months_expected", months_expected),
                        ("deemed_months", deemed_months)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise PolicyInputError(name, "must be a whole number of months, 0 or more")
    if average_index < 0:
        raise PolicyInputError("average_index", "must not be negative")
    if average_index > MAX_INDEX:
        raise PolicyInputError("average_index", "must not be above 3.00 (bases are capped at 300% of the average wage)")
    if account_balance < 0:
        raise PolicyInputError("account_balance", "must not be negative")
    ret = retirement(birth_date, category, chosen_month)
    ex = Explainer()
    today_month = month_of(today)
    wage = ex.use("average_wage", today, field_name="today")
    account_rate = ex.use("personal_account_rate", today, field_name="today")
    ex.step("estimate.assumptions", wage=wage, deemed=deemed_months)
    # The pension rule uses the index to two decimals; the account projection uses the same figure.
    per_month = account_rate * round_places(average_index, 2) * wage
    available = max(0, months_between(today_month, ret.statutory_month) - 1)
    before_statutory = min(months_expected, available)
    if months_expected > available:
        ex.step("estimate.expected_capped", expected=months_expected, available=available)

    def future_months(month: date) -> int:
        paid_by_then = min(before_statutory, max(0, months_between(today_month, month) - 1))
        return paid_by_then + max(0, months_between(ret.statutory_month, month))

    birth_month = month_of(birth_date)
    rows: list[WhatIfRow] = []
    months = _row_months(add_months(today_month, 1), ret.statutory_month, ret.earliest_month, ret.latest_month,
                         ret.chosen_month)
    for month in months:
        rows.append(
            _row(month, birth_month, ret, region, months_paid, future_months(month), deemed_months,
                 average_index, account_balance, per_month)
        )
    chosen_row = next(row for row in rows if row.is_chosen)
    ex.step(
        "estimate.months",
        month=fmt_month(ret.chosen_month),
        counted=chosen_row.months_counted,
        paid=months_paid,
        future=chosen_row.months_counted - months_paid,
    )
    for step in ret.explanation.steps + chosen_row.explanation.steps:
        ex.steps.append(step)
    for used in ret.explanation.parameters + chosen_row.explanation.parameters:
        ex.record(used)
    explanation = ex.build()
    return Estimate(
        retirement=ret,
        pension=chosen_row.pension,
        months_counted=chosen_row.months_counted,
        meets_minimum=chosen_row.meets_minimum,
        what_if=tuple(rows),
        chosen=chosen_row,
        explanation=explanation,
        provisional=explanation.provisional,
    )


def _row(
    month: date,
    birth_month: date,
    ret: RetirementResult,
    region: str,
    months_paid: int,
    future: int,
    deemed_months: int,
    average_index: Decimal,
    account_balance: Decimal,
    per_month: Decimal,
) -> WhatIfRow:
    age = Age.from_months(months_between(birth_month, month))
    counted = months_paid + future
    is_statutory = month == ret.statutory_month
    is_chosen = month == ret.chosen_month
    pension = pension_award(
        region=region,
        retirement_month=month,
        age_at_retirement=age,
        actual_months=counted,
        deemed_months=deemed_months,
        average_index=average_index,
        account_balance=round_fen(account_balance + per_month * future),
        statutory_month=ret.statutory_month,
    )
    if not pension.eligible:
        ex = Explainer()
        ex.step("estimate.minimum_not_met", month=fmt_month(month), counted=counted + deemed_months,
                minimum=pension.min_contribution_months, short=pension.missing_months)
        for step in pension.explanation.steps:
            ex.steps.append(step)
        for used in pension.explanation.parameters:
            ex.record(used)
        explanation = ex.build()
        return WhatIfRow(month, age, counted, False, pension.missing_months, None, None, is_statutory, explanation,
                         explanation.provisional, pension.min_contribution_months, is_chosen)
    return WhatIfRow(month, age, counted, True, 0, pension.total, pension, is_statutory, pension.explanation,
                     pension.provisional, pension.min_contribution_months, is_chosen)
