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
from portal.policy.regions import PROVINCE, region_codes
from portal.policy.rules.divisor import divisor_for
from portal.policy.rules.retirement import REFORM_START, Age, minimum_for

BASE_KINDS = ("standard", "state_farm")
MAX_INDEX = Decimal("3.00")
# What the law allows a person short of the minimum at statutory age (社会保险法 第十六条; 国务院办法 第二条).
OPTION_CONTINUE = "continue_paying"
OPTION_REFORM = "reform_extend_or_lump_sum"
OPTION_RESIDENT = "resident_scheme"


@dataclass(frozen=True)
class PensionResult:
    region: str
    retirement_month: date
    cumulative_years: Decimal
    deemed_years: Decimal
    average_index: Decimal
    eligible: bool
    min_contribution_months: int
    missing_months: int  # 0 when eligible
    options: tuple[str, ...]  # what the person may do when not eligible (OPTION_*), empty when eligible
    # The money is None when the person is not eligible for a monthly pension.
    base_local: Decimal | None
    base_provincial: Decimal | None
    basic: Decimal | None
    extra: Decimal | None
    extra_parts: tuple[Decimal, ...]  # 增发 per bracket (years 21-25, 26-30, beyond 30), each rounded to the fen
    transitional: Decimal | None
    personal_account: Decimal | None
    total: Decimal | None
    divisor_months: Decimal | None
    explanation: Explanation
    provisional: bool


def _years(months: int) -> Decimal:
    # Benefit statements show years as months ÷ 12 rounded to two decimals and compute from that figure.
    return round_places(Decimal(months) / 12, 2)


def _bracket_years(years: Decimal, bracket: dict) -> Decimal:
    above = years - bracket["over"]
    if bracket["to"] is not None:
        above = min(above, Decimal(bracket["to"] - bracket["over"]))
    return max(above, Decimal(0))


def _extra_rate(years: Decimal, brackets: tuple) -> Decimal:
    return sum((_bracket_years(years, bracket) * bracket["rate"] for bracket in brackets), Decimal(0))


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
    statutory_month: date | None = None,
    base_kind: str = "standard",
) -> PensionResult:
    """The monthly pension of a Jilin enterprise retiree (国发〔2005〕38号; 社会保险法 第十五条; Jilin 核定表).

    - eligibility: actual + deemed months must reach the minimum of the retirement month's year, or of the
      statutory month's year when ``statutory_month`` shows the retirement is deferred (人社部发〔2024〕94号
      第七条); below it there is no monthly pension, only the options the law allows (社会保险法 第十六条);
    - basic = (B_local + B_prov × I) / 2 × N × 1%, N = cumulative years (actual + deemed);
    - extra (增发, Jilin) = (B_local + B_prov × I) / 2 × (0.15%/yr for years 21-25, 0.20% for 26-30,
      0.25% beyond 30, part-years pro rata), each bracket rounded to the fen and added up, as on 核定表;
    - transitional = B_prov × deemed years × I × 1.4%;
    - personal account = balance ÷ divisor (计发月数).
    B_local is the Changchun base for Changchun retirees and the province-wide base otherwise; B_prov is always
    the province-wide base; ``base_kind="state_farm"`` uses the 农垦 enterprises' base instead. Years are
    months ÷ 12 and I is rounded to two decimals first; each component is rounded to the fen and the total is
    their sum. A year whose base is not yet published uses the latest base (paid provisionally, 预发) and the
    result is marked provisional.
    """
    if region not in region_codes(retirement_month):
        raise PolicyInputError("region", "must be a Jilin province or prefecture code such as 220100")
    if base_kind not in BASE_KINDS:
        raise PolicyInputError("base_kind", f"must be one of {', '.join(BASE_KINDS)}")
    for name, value in (("actual_months", actual_months), ("deemed_months", deemed_months)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise PolicyInputError(name, "must be a whole number of months, 0 or more")
    for name, amount in (("average_index", average_index), ("account_balance", account_balance)):
        if amount < 0:
            raise PolicyInputError(name, "must not be negative")
    if average_index > MAX_INDEX:
        raise PolicyInputError("average_index", "must not be above 3.00 (bases are capped at 300% of the average wage)")
    ex = Explainer()
    index = round_places(average_index, 2)
    years = _years(actual_months + deemed_months)
    deemed_years = _years(deemed_months)
    ex.step("pension.years", actual=actual_months, deemed=deemed_months, years=years, index=index)

    minimum = minimum_for(retirement_month, statutory_month, ex, field_name="retirement_month")
    missing = max(0, minimum - actual_months - deemed_months)
    if missing:
        options = _options(statutory_month or retirement_month, ex, counted=actual_months + deemed_months,
                           minimum=minimum, missing=missing)
        explanation = ex.build()
        return PensionResult(
            region=region, retirement_month=retirement_month, cumulative_years=years, deemed_years=deemed_years,
            average_index=index, eligible=False, min_contribution_months=minimum, missing_months=missing,
            options=options, base_local=None, base_provincial=None, basic=None, extra=None, extra_parts=(),
            transitional=None, personal_account=None, total=None, divisor_months=None, explanation=explanation,
            provisional=explanation.provisional,
        )

    month_text = fmt_month(retirement_month)
    base_local, base_provincial = _bases(region, retirement_month, base_local, base_provincial, base_kind, ex)
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
    extra_parts = []
    for bracket in brackets:
        in_bracket = _bracket_years(extra_years, bracket)
        if in_bracket <= 0:
            continue
        # Official statements round each bracket to the fen and add the rounded parts.
        part = round_fen(mean_base * in_bracket * bracket["rate"])
        extra_parts.append(part)
        ex.step("pension.extra_bracket", start=bracket["over"] + 1, end=bracket["to"] or "-", years=in_bracket,
                rate=bracket["rate"], amount=part)
    extra = sum(extra_parts, ZERO)
    ex.step("pension.extra", years=extra_years, rate=_extra_rate(extra_years, brackets), amount=extra)

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
        eligible=True,
        min_contribution_months=minimum,
        missing_months=0,
        options=(),
        base_local=base_local,
        base_provincial=base_provincial,
        basic=basic,
        extra=extra,
        extra_parts=tuple(extra_parts),
        transitional=transitional,
        personal_account=account,
        total=total,
        divisor_months=divisor,
        explanation=explanation,
        provisional=explanation.provisional,
    )


def _bases(region: str, month: date, base_local: Decimal | None, base_provincial: Decimal | None, base_kind: str,
           ex: Explainer) -> tuple[Decimal, Decimal]:
    """The local and province-wide bases: given as input, the state-farm base, or the published tables."""
    if base_kind == "state_farm" and base_local is None and base_provincial is None:
        farm = ex.use("pension_base_state_farm", month, field_name="retirement_month")
        scope = ex.use("pension_base_state_farm_scope", month, field_name="retirement_month")
        provincial = ex.use("pension_base", month, region=PROVINCE, field_name="retirement_month")
        local_base, provincial_base = (farm, farm) if scope == "both" else (farm, provincial)
        ex.step("pension.state_farm_base", base=farm, local=local_base, provincial=provincial_base)
        return local_base, provincial_base
    provincial_overridden = base_provincial is not None
    if base_provincial is None:
        base_provincial = ex.use("pension_base", month, region=PROVINCE, field_name="retirement_month")
    else:
        ex.step("pension.base_override", which="base_provincial", base=base_provincial)
    if base_local is None:
        has_own_base = region != PROVINCE and region in param("pension_base").regions
        if provincial_overridden and not has_own_base:
            # Outside Changchun the local base is the province-wide base, so the override applies to both.
            base_local = base_provincial
        else:
            base_local = ex.use("pension_base", month, region=region, field_name="retirement_month")
    else:
        ex.step("pension.base_override", which="base_local", base=base_local)
    return base_local, base_provincial


def _options(statutory_month: date, ex: Explainer, *, counted: int, minimum: int, missing: int) -> tuple[str, ...]:
    """What a person below the minimum may do, and the explanation steps that say so."""
    ex.step("pension.not_eligible", counted=counted, minimum=minimum, missing=missing)
    options = [OPTION_CONTINUE]
    ex.step("pension.option_continue", missing=missing)
    if statutory_month >= REFORM_START:
        options.append(OPTION_REFORM)
        ex.step("pension.option_reform")
    options.append(OPTION_RESIDENT)
    ex.step("pension.option_resident")
    return tuple(options)
