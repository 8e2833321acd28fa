"""Annuity divisor and the Jilin pension award."""

from datetime import date
from decimal import Decimal

import pytest

from portal.policy.errors import PolicyInputError
from portal.policy.rules.divisor import annuity_divisor
from portal.policy.rules.pension import pension_award
from portal.policy.rules.retirement import Age

D = Decimal


@pytest.mark.parametrize(
    ("age", "divisor", "provisional"),
    [
        (Age(60, 0), "139.0", False),
        (Age(60, 1), "138.4", False),  # 139 - 7/12, as on official statements
        (Age(60, 2), "137.8", False),
        (Age(60, 3), "137.3", False),
        (Age(60, 8), "134.3", False),  # 139 - 56/12 = 134.33
        (Age(55, 0), "170.0", False),
        (Age(55, 1), "169.5", False),
        (Age(50, 1), "194.6", False),
        (Age(50, 6), "192.5", False),
        (Age(63, 0), "117.0", False),
        (Age(69, 11), "56.8", False),
        (Age(70, 0), "56.0", False),
    ],
)
def test_the_divisor_is_the_table_value_or_a_monthly_interpolation_to_one_decimal(age, divisor, provisional):
    result = annuity_divisor(age, date(2026, 1, 1))
    assert result.divisor == D(divisor)
    # Official statements of other provinces confirm the interpolated values (medium-high), so not provisional.
    assert result.provisional is provisional


@pytest.mark.parametrize("age", [Age(39, 11), Age(70, 1), Age(60, 12)])
def test_ages_outside_the_table_are_refused(age):
    with pytest.raises(PolicyInputError) as error:
        annuity_divisor(age, date(2026, 1, 1))
    assert error.value.field == "age_at_retirement"


def award(**changes):
    inputs = dict(
        region="220300",
        retirement_month=date(2025, 3, 1),
        age_at_retirement=Age(60, 0),
        actual_months=300,
        deemed_months=60,
        average_index=D("0.85"),
        account_balance=D("60000.00"),
    )
    inputs.update(changes)
    return pension_award(**inputs)


def test_a_siping_retiree_in_2025_uses_the_province_wide_base_for_both_parts():
    result = award()
    assert result.base_local == result.base_provincial == D("7322.08")
    # (7322.08 + 7322.08 × 0.85) / 2 × 30.00 × 1% = 2031.88
    assert result.basic == D("2031.88")
    # 10 years beyond 20: 5 × 0.15% + 5 × 0.20% = 1.75% of 6772.924
    assert result.extra == D("118.53")
    # 7322.08 × 5.00 × 0.85 × 1.4%
    assert result.transitional == D("435.66")
    assert result.personal_account == D("431.65")  # 60000 / 139
    assert result.total == result.basic + result.extra + result.transitional + result.personal_account
    assert result.divisor_months == D("139.0")
    # Deemed years take service past 20, and whether they count for the extra pension is low confidence.
    assert result.provisional
    assert "extra_pension_trigger" in {used.name for used in result.explanation.parameters}


def test_a_2025_award_on_published_figures_at_a_whole_age_is_not_provisional():
    result = award(actual_months=360, deemed_months=0)
    assert not result.provisional


def test_a_changchun_retiree_uses_the_changchun_base_for_the_local_part_only():
    result = award(region="220100")
    assert result.base_local == D("7978.25") and result.base_provincial == D("7322.08")
    assert result.basic == D("2130.30")  # (7978.25 + 6223.768) / 2 × 30 × 1%
    assert result.transitional == D("435.66")  # the transitional part always uses the province-wide base


@pytest.mark.parametrize(
    ("months", "extra_rate_note", "extra"),
    [
        (240, "exactly 20 years earns nothing extra", "0.00"),
        (246, "half a year beyond 20 earns half of 0.15%", "5.08"),  # 6772.924 × 0.00075
        (300, "25 years: 5 × 0.15%", "50.80"),
        (372, "31 years: 0.75% + 1.00% + 0.25%", "135.46"),
    ],
)
def test_the_extra_pension_rises_by_brackets_beyond_20_years(months, extra_rate_note, extra):
    result = award(actual_months=months, deemed_months=0)
    assert result.extra == D(extra), extra_rate_note


def test_years_are_rounded_to_two_decimals_before_use():
    result = award(actual_months=301, deemed_months=0)  # 25.0833 -> 25.08
    assert result.cumulative_years == D("25.08")


def test_the_index_is_rounded_to_two_decimals_before_use():
    assert award(average_index=D("0.8549")).basic == award(average_index=D("0.85")).basic


def test_without_deemed_years_there_is_no_transitional_pension():
    assert award(deemed_months=0).transitional == D("0.00")


def test_a_2026_retirement_uses_the_2026_base_and_is_provisional():
    result = award(retirement_month=date(2026, 3, 1))
    assert result.base_provincial == D("7481.50") and result.provisional


def test_changchun_in_2026_carries_the_2025_base_forward_and_is_provisional():
    result = award(region="220100", retirement_month=date(2026, 3, 1))
    assert result.base_local == D("7978.25") and result.provisional
    assert any(used.carried_forward for used in result.explanation.parameters)


def test_a_base_override_replaces_the_table_and_outside_changchun_applies_to_both_parts():
    result = award(base_provincial=D("8000.00"))
    assert result.base_local == result.base_provincial == D("8000.00")
    result = award(region="220100", base_provincial=D("8000.00"))
    assert result.base_local == D("7978.25")
    result = award(region="220100", base_local=D("9000.00"))
    assert result.base_local == D("9000.00") and result.base_provincial == D("7322.08")


def test_an_unknown_region_is_refused():
    with pytest.raises(PolicyInputError) as error:
        award(region="110000")
    assert error.value.field == "region"


def test_every_step_has_chinese_and_english_text_and_every_parameter_a_source():
    result = award()
    assert [step.key for step in result.explanation.steps][-1] == "pension.total"
    for step in result.explanation.steps:
        assert step.text_zh and step.text_en and "{" not in step.text_en + step.text_zh
    for used in result.explanation.parameters:
        assert used.source and used.confidence and used.effective_from


def test_the_extra_pension_is_rounded_per_bracket_and_the_parts_are_added_as_on_benefit_statements():
    result = award(actual_months=303, deemed_months=0)  # 25.25 years, mean base 6772.924
    # 5 × 0.15% → 50.797 → 50.80; 0.25 × 0.20% → 3.386 → 3.39; rounding the sum once would give 54.18.
    assert result.extra_parts == (D("50.80"), D("3.39"))
    assert result.extra == D("54.19")
    brackets = [step for step in result.explanation.steps if step.key == "pension.extra_bracket"]
    assert [dict(step.params)["amount"] for step in brackets] == ["50.80", "3.39"]


def test_179_months_in_2025_is_one_month_short_and_not_eligible_with_the_options_the_law_allows():
    result = award(actual_months=179, deemed_months=0)
    assert not result.eligible
    assert (result.min_contribution_months, result.missing_months) == (180, 1)
    assert result.total is None and result.basic is None and result.personal_account is None
    assert result.options == ("continue_paying", "reform_extend_or_lump_sum", "resident_scheme")
    keys = [step.key for step in result.explanation.steps]
    assert {"pension.not_eligible", "pension.option_continue", "pension.option_resident"} <= set(keys)


def test_deemed_months_count_towards_the_minimum():
    result = award(actual_months=120, deemed_months=60)
    assert result.eligible and result.missing_months == 0 and result.min_contribution_months == 180


def test_the_2030_minimum_is_186_months_so_185_months_in_2030_03_is_not_eligible():
    short = award(retirement_month=date(2030, 3, 1), actual_months=185, deemed_months=0)
    assert not short.eligible and (short.min_contribution_months, short.missing_months) == (186, 1)
    assert award(retirement_month=date(2030, 3, 1), actual_months=186, deemed_months=0).eligible


def test_a_deferred_retirement_uses_the_minimum_of_the_statutory_year():
    # Statutory age in 2029-12 (minimum 180), retiring deferred in 2030-06: 180 months is enough.
    deferred = award(retirement_month=date(2030, 6, 1), statutory_month=date(2029, 12, 1), actual_months=180,
                     deemed_months=0, age_at_retirement=Age(61, 0))
    assert deferred.eligible and deferred.min_contribution_months == 180
    # Without the statutory month the retirement month's own year applies.
    assert award(retirement_month=date(2030, 6, 1), actual_months=180, deemed_months=0).min_contribution_months == 186


def test_before_the_reform_the_lump_sum_arrangement_is_not_offered():
    result = award(retirement_month=date(2024, 6, 1), actual_months=100, deemed_months=0)
    assert result.options == ("continue_paying", "resident_scheme")


@pytest.mark.parametrize(("field", "changes"), [
    ("average_index", {"average_index": D("3.01")}),
    ("account_balance", {"account_balance": D("-0.01")}),
    ("average_index", {"average_index": D("-0.10")}),
    ("base_kind", {"base_kind": "army"}),
])
def test_inputs_out_of_range_are_refused_naming_the_field(field, changes):
    with pytest.raises(PolicyInputError) as error:
        award(**changes)
    assert error.value.field == field


def test_an_index_of_exactly_3_and_one_below_0_60_are_accepted():
    assert award(average_index=D("3.00")).eligible
    assert award(average_index=D("0.46")).average_index == D("0.46")


def test_a_state_farm_retiree_uses_the_state_farm_base_and_the_result_says_it_is_assumed():
    result = award(base_kind="state_farm", actual_months=360, deemed_months=0)
    assert result.base_local == result.base_provincial == D("2223.42")
    # (2223.42 + 2223.42 × 0.85) / 2 × 30 × 1%
    assert result.basic == D("617.00")
    assert result.provisional
    assert "pension_base_state_farm_scope" in {used.name for used in result.explanation.parameters}
