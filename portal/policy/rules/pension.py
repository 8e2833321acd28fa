"""Jilin monthly pension award (基本养老金核定)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from portal.policy.dates import fmt_month
from portal.policy.errors import PolicyInputError
from portal.policy.explain import Explainer, Explanation
from portal.policy.money import ZERO, round_fen, round_places
from portal.policy.parameters import param
from portal.policy.rules.divisor import divisor_for
from portal.policy.rules.retirement import Age

PROVINCE = "220000"


@dataclass(frozen=True)
class PensionResult:
    region: str
    retirement_month: date
    cumulative_years: Decimal
    deemed_years: Decimal
    average_index: Decimal
    base_local: Decimal
    base_provincial: Decimal
    basic: Decimal
    extra: Decimal
    transitional: Decimal
    personal_account: Decimal
    total: Decimal
    divisor_months: Decimal
    explanation: Explanation
    provisional: bool


def region_codes(on: date) -> dict[str, dict[str, str]]:
    """Jilin province and prefecture codes in force on ``on``, with their names: {code: {"zh", "en"}}."""
    return {row["code"]: {"zh": row["zh"], "en": row["en"]} for row in param("prefectures").at(on).value}


def _years(months: int) -> Decimal:
    # Benefit statements show years as months ÷ 12 rounded to two decimals and compute from that figure.
    return round_places(Decimal(months) / 12, 2)


def _extra_rate(years: Decimal, brackets: tuple) -> Decimal:
    total = Decimal(0)
    for bracket in brackets:
        above = years - bracket["over"]
        if bracket["to"] is not None:
            above = min(above, Decimal(bracket["to"] - bracket["over"]))
        if above > 0:
            total += above * bracket["rate"]
    return total


def pension_award(
    *,
    region: str,
    retirement_month: date,
    age_at_retirement: Age,
    actual_months: int,
    deemed_months: int,
    average_index: Decimal,
    account_balance: Decimal,
    base_local: Decimal | None = None,
    base_provincial: Decimal | None = None,
) -> PensionResult:
    """The monthly pension of a Jilin enterprise retiree (国发〔2005〕38号; 社会保险法 第十五条; Jilin 核定表).

    - basic = (B_local + B_prov × I) / 2 × N × 1%, N = cumulative years (actual + deemed);
    - extra (增发, Jilin) = (B_local + B_prov × I) / 2 × (0.15%/yr for years 21-25, 0.20% for 26-30,
      0.25% beyond 30, part-years pro rata);
    - transitional = B_prov × deemed years × I × 1.4%;
    - personal account = balance ÷ divisor (计发月数).
    B_local is the Changchun base for Changchun retirees and the province-wide base otherwise; B_prov is always
    the province-wide base. Years are months ÷ 12 and I is rounded to two decimals first; each component is
    rounded to the fen and the total is their sum. A year whose base is not yet published uses the latest
    base (paid provisionally, 预发) and the result is marked provisional.
    """
    if region not in region_codes(retirement_month):
        raise PolicyInputError("region", "must be a Jilin province or prefecture code such as 220100")
    for name, value in (("actual_months", actual_months), ("deemed_months", deemed_months)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise PolicyInputError(name, "must be a whole number of months, 0 or more")
    for name, amount in (("average_index", average_index), ("account_balance", account_balance)):
        if amount < 0:
            raise PolicyInputError(name, "must not be negative")
    ex = Explainer()
    index = round_places(average_index, 2)
    years = _years(actual_months + deemed_months)
    deemed_years = _years(deemed_months)
    ex.step("pension.years", actual=actual_months, deemed=deemed_months, years=years, index=index)

    month_text = fmt_month(retirement_month)
    provincial_overridden = base_provincial is not None
    if base_provincial is None:
        base_provincial = ex.use("pension_base", retirement_month, region=PROVINCE, field_name="retirement_month")
    else:
        ex.step("pension.base_override", which="base_provincial", base=base_provincial)
    if base_local is None:
        has_own_base = region != PROVINCE and region in param("pension_base").regions
        if provincial_overridden and not has_own_base:
            # Outside Changchun the local base is the province-wide base, so the override applies to both.
            base_local = base_provincial
        else:
            base_local = ex.use("pension_base", retirement_month, region=region, field_name="retirement_month")
    else:
        ex.step("pension.base_override", which="base_local", base=base_local)
    ex.step("pension.bases", local=base_local, provincial=base_provincial, month=month_text, region=region)

    mean_base = (base_local + base_provincial * index) / 2
    rate = ex.use("basic_pension_rate_per_year", retirement_month, field_name="retirement_month")
    basic = round_fen(mean_base * years * rate)
    ex.step("pension.basic", local=base_local, provincial=base_provincial, index=index, years=years, amount=basic)

    brackets = ex.use("extra_pension_brackets", retirement_month, field_name="retirement_month")
    extra_years = years
    if _extra_rate(years, brackets) != _extra_rate(_years(actual_months), brackets):
        # Only when deemed years change the answer does the (low-confidence) trigger matter, so only then is
        # it recorded and the result marked provisional.
        trigger = ex.use("extra_pension_trigger", retirement_month, field_name="retirement_month")
        extra_years = years if trigger == "cumulative" else _years(actual_months)
    extra_rate = _extra_rate(extra_years, brackets)
    extra = round_fen(mean_base * extra_rate)
    ex.step("pension.extra", years=extra_years, rate=extra_rate, amount=extra)

    if deemed_months:
        coefficient = ex.use("transitional_coefficient", retirement_month, field_name="retirement_month")
        transitional = round_fen(base_provincial * deemed_years * index * coefficient)
        ex.step(
            "pension.transitional",
            provincial=base_provincial,
            deemed=deemed_years,
            index=index,
            coefficient=coefficient,
            amount=transitional,
        )
    else:
        transitional = ZERO
        ex.step("pension.no_transitional")

    divisor = divisor_for(age_at_retirement, retirement_month, ex)
    account = round_fen(account_balance / divisor)
    ex.step("pension.personal_account", balance=account_balance, divisor=divisor, amount=account)
    total = basic + extra + transitional + account
    ex.step("pension.total", basic=basic, extra=extra, transitional=transitional, account=account, total=total)
    explanation = ex.build()
    return PensionResult(
        region=region,
        retirement_month=retirement_month,
        cumulative_years=years,
        deemed_years=deemed_years,
        average_index=index,
        base_local=base_local,
        base_provincial=base_provincial,
        basic=basic,
        extra=extra,
        transitional=transitional,
        personal_account=account,
        total=total,
        divisor_months=divisor,
        explanation=explanation,
        provisional=explanation.provisional,
    )
