"""Contribution base and contributions (缴费基数与缴费额).

Rounding: every component is rounded to the fen, half up, on its own (employer, individual, personal account);
the employee total is the sum of the rounded components, so the parts always add up to the total shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from portal.policy.dates import fmt_month
from portal.policy.errors import PolicyInputError
from portal.policy.explain import Explainer, Explanation
from portal.policy.money import ZERO, round_fen
from portal.policy.parameters import param


@dataclass(frozen=True)
class BaseResult:
    declared: Decimal
    base: Decimal
    clamped: str | None  # "floor", "cap" or None
    floor: Decimal
    cap: Decimal
    explanation: Explanation
    provisional: bool


@dataclass(frozen=True)
class ContributionResult:
    kind: str  # "employee" or "flexible"
    month: date
    base: Decimal
    clamped: str | None
    employer: Decimal
    individual: Decimal
    personal_account: Decimal
    total: Decimal
    explanation: Explanation
    provisional: bool


def _clamp(wage: Decimal, month: date, ex: Explainer) -> tuple[Decimal, str | None, Decimal, Decimal]:
    floor = ex.use("base_floor", month, field_name="month")
    cap = ex.use("base_cap", month, field_name="month")
    if wage < floor:
        ex.step("base.raised_to_floor", wage=wage, floor=floor, month=fmt_month(month))
        return floor, "floor", floor, cap
    if wage > cap:
        ex.step("base.lowered_to_cap", wage=wage, cap=cap, month=fmt_month(month))
        return cap, "cap", floor, cap
    ex.step("base.within_limits", wage=wage, floor=floor, cap=cap, month=fmt_month(month))
    return wage, None, floor, cap


def contribution_base(wage: Decimal, month: date) -> BaseResult:
    """The contribution base for a declared monthly wage: the wage clamped to the year's floor and cap.

    Rule: the base may not be below 60% nor above 300% of the province's average wage (国办发〔2019〕13号);
    the published Jilin floor and cap of the contribution year (July-June) containing ``month`` are used as
    published, not recomputed.
    """
    if wage < 0:
        raise PolicyInputError("wage", "must not be negative")
    ex = Explainer()
    base, clamped, floor, cap = _clamp(wage, month, ex)
    explanation = ex.build()
    return BaseResult(wage, base, clamped, floor, cap, explanation, explanation.provisional)


def employee_contribution(wage: Decimal, month: date) -> ContributionResult:
    """Contributions for an employee: employer 16% and individual 8% of the clamped base (国办发〔2019〕13号;
    社会保险法 第十二条); the individual 8% is credited in full to the personal account (国发〔2005〕38号)."""
    if wage < 0:
        raise PolicyInputError("wage", "must not be negative")
    ex = Explainer()
    base, clamped, _, _ = _clamp(wage, month, ex)
    employer_rate = ex.use("employer_rate", month, field_name="month")
    individual_rate = ex.use("individual_rate", month, field_name="month")
    account_rate = ex.use("personal_account_rate", month, field_name="month")
    employer = round_fen(base * employer_rate)
    individual = round_fen(base * individual_rate)
    account = round_fen(base * account_rate)
    ex.step("contribution.employer", base=base, rate=employer_rate, amount=employer)
    ex.step("contribution.individual", base=base, rate=individual_rate, amount=individual)
    ex.step("contribution.personal_account", base=base, rate=account_rate, amount=account)
    total = employer + individual
    ex.step("contribution.total", total=total)
    explanation = ex.build()
    return ContributionResult(
        "employee", month, base, clamped, employer, individual, account, total, explanation, explanation.provisional
    )


def flexible_base_bounds(month: date) -> tuple[int, int]:
    """The lowest and highest whole percent of the average wage a flexible worker may choose as the base."""
    bounds = param("flexible_base_percent").at(month).value
    return int(bounds["min"]), int(bounds["max"])


def flexible_base_allowed(base_percent: object, month: date) -> bool:
    """Whether ``base_percent`` is a whole percent a flexible worker may choose for ``month``."""
    low, high = flexible_base_bounds(month)
    return isinstance(base_percent, int) and not isinstance(base_percent, bool) and low <= base_percent <= high


def flexible_contribution(base_percent: int, month: date) -> ContributionResult:
    """Contributions for a flexible worker: 20% of the chosen base, all paid by the person, 8% of the base to
    the personal account (国发〔2005〕38号). The base is a whole percent, 60-300, of the average wage
    (国办发〔2019〕13号).

    The average wage used is the one Jilin used for the published limits, i.e. floor ÷ 60%: for 2025 that is
    7,322 (not 7,322.08), so 60% gives exactly the published floor 4,393.20 and 300% the published cap.
    """
    if isinstance(base_percent, bool) or not isinstance(base_percent, int):
        raise PolicyInputError("base_percent", "must be a whole percent")
    ex = Explainer()
    bounds = ex.use("flexible_base_percent", month, field_name="month")
    if not bounds["min"] <= base_percent <= bounds["max"]:
        raise PolicyInputError("base_percent", f"must be a whole percent from {bounds['min']} to {bounds['max']}")
    floor = ex.use("base_floor", month, field_name="month")
    floor_percent = ex.use("base_limit_percent", month, field_name="month")["floor"]
    limits_average = floor * 100 / floor_percent
    base = round_fen(limits_average * base_percent / 100)
    ex.step("contribution.flexible_base", percent=base_percent, average=round_fen(limits_average), base=base)
    total_rate = ex.use("flexible_total_rate", month, field_name="month")
    account_rate = ex.use("flexible_personal_account_rate", month, field_name="month")
    total = round_fen(base * total_rate)
    account = round_fen(base * account_rate)
    ex.step("contribution.flexible_total", base=base, rate=total_rate, amount=total)
    ex.step("contribution.personal_account", base=base, rate=account_rate, amount=account)
    explanation = ex.build()
    return ContributionResult(
        "flexible", month, base, None, ZERO, total, account, total, explanation, explanation.provisional
    )
