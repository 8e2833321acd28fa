"""Yearly interest on the personal account (个人账户记账利息)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from portal.policy.errors import PolicyInputError
from portal.policy.explain import Explainer, Explanation
from portal.policy.money import round_fen

METHODS = ("monthly_product", "approximation")


@dataclass(frozen=True)
class InterestResult:
    year: int
    rate: Decimal
    opening_balance: Decimal
    contributions_total: Decimal
    opening_interest: Decimal
    contribution_interest: Decimal
    interest: Decimal
    closing_balance: Decimal
    explanation: Explanation
    provisional: bool


def account_interest(
    year: int,
    opening_balance: Decimal,
    contributions: Sequence[tuple[date, Decimal]],
    method: str = "monthly_product",
) -> InterestResult:
    """Interest credited to the personal account for ``year``.

    The opening balance earns a full year at the year's crediting rate (记账利率, set nationally since 2016).
    Each contribution earns part of a year by the monthly-product (月积数) method of 劳办发〔1997〕116号: the
    amount credited in month n (1-12) earns (13 - n) months, i.e. January 12/12 and December 1/12;
    contribution interest = Σ amount × (13 - n) × rate ÷ 12. ``method="approximation"`` uses the shortcut
    Σ amount × rate × 1.083 × ½ instead. Both conventions are unsourced for Jilin, so results are provisional.
    Each of the two interest parts is rounded to the fen; closing = opening + contributions + interest.
    """
    if method not in METHODS:
        raise PolicyInputError("method", f"must be one of {', '.join(METHODS)}")
    if isinstance(year, bool) or not isinstance(year, int):
        raise PolicyInputError("year", "must be a whole year such as 2024")
    if opening_balance < 0:
        raise PolicyInputError("opening_balance", "must not be negative")
    for month, amount in contributions:
        if month.year != year:
            raise PolicyInputError("contributions", f"month {month:%Y-%m} is not in {year}")
        if amount < 0:
            raise PolicyInputError("contributions", "amounts must not be negative")
    ex = Explainer()
    start = date(year, 1, 1)
    rate = ex.use("interest_rate", start, field_name="year")
    convention = ex.use("interest_monthly_product", start, field_name="year")
    opening_interest = round_fen(opening_balance * rate)
    ex.step("interest.opening", balance=opening_balance, rate=rate, amount=opening_interest)
    paid = sum((amount for _, amount in contributions), Decimal(0))
    if method == "monthly_product":
        first = convention["first_month_accrual_months"]
        product = sum((amount * (first + 1 - month.month) for month, amount in contributions), Decimal(0))
        contribution_interest = round_fen(product * rate / 12)
        ex.step("interest.monthly_product", product=product, rate=rate, amount=contribution_interest)
    else:
        factor = convention["approximation_factor"]
        contribution_interest = round_fen(paid * rate * factor)
        ex.step("interest.approximation", paid=paid, rate=rate, factor=factor, amount=contribution_interest)
    interest = opening_interest + contribution_interest
    closing = opening_balance + paid + interest
    ex.step("interest.closing", opening=opening_balance, paid=paid, interest=interest, closing=closing)
    explanation = ex.build()
    return InterestResult(
        year=year,
        rate=rate,
        opening_balance=opening_balance,
        contributions_total=paid,
        opening_interest=opening_interest,
        contribution_interest=contribution_interest,
        interest=interest,
        closing_balance=closing,
        explanation=explanation,
        provisional=explanation.provisional,
    )
