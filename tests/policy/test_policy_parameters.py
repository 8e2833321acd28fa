"""Parameter files: loading, validation, date-keyed lookups, sources and confidence."""

import textwrap
from datetime import date
from decimal import Decimal

import pytest

from portal.policy.errors import ParameterFileError, ParameterNotDefined
from portal.policy.parameters import CONFIDENCE_LEVELS, all_parameters, load_directory, load_file, param

REQUIRED = {
    "employer_rate", "individual_rate", "personal_account_rate", "flexible_total_rate",
    "flexible_personal_account_rate", "flexible_base_percent", "base_floor", "base_cap", "average_wage",
    "pension_base", "basic_pension_rate_per_year", "extra_pension_brackets", "transitional_coefficient",
    "account_start_month", "annuity_divisor", "annuity_divisor_interpolation", "interest_rate",
    "interest_monthly_product", "retirement_original_age", "retirement_reform", "flexible_retirement_window",
    "min_contribution_months", "late_fee_daily_rate", "pooled_transfer", "claim_place_years",
    "temporary_account_age", "gap_sharing", "deferral_max_months", "certification_cycle_months",
    "survivor_benefit_schedule", "survivor_income_base", "prefectures",
}


def test_every_required_parameter_has_a_file():
    names = {parameter.name for parameter in all_parameters()}
    assert REQUIRED <= names


def test_every_parameter_and_every_value_lists_a_source_and_a_confidence():
    listing = []
    for parameter in all_parameters():
        assert parameter.source.strip(), parameter.name
        assert parameter.confidence in CONFIDENCE_LEVELS, parameter.name
        assert parameter.description_zh and parameter.description_en and parameter.unit, parameter.name
        for values in parameter.series.values():
            for value in values:
                assert value.source.strip(), (parameter.name, value.effective_from)
                assert value.confidence in CONFIDENCE_LEVELS, (parameter.name, value.effective_from)
        listing.append(parameter.to_dict())
    assert all(row["source"] and row["confidence"] for row in listing)


@pytest.mark.parametrize(
    ("name", "on", "expected", "confidence"),
    [
        ("employer_rate", date(2019, 4, 30), Decimal("0.20"), "unsourced"),
        ("employer_rate", date(2019, 5, 1), Decimal("0.16"), "medium"),
        ("personal_account_rate", date(2005, 12, 31), Decimal("0.11"), "medium"),
        ("personal_account_rate", date(2006, 1, 1), Decimal("0.08"), "high"),
        ("base_floor", date(2025, 6, 30), Decimal("4307.10"), "medium-high"),
        ("base_floor", date(2025, 7, 1), Decimal("4393.20"), "medium-high"),
        ("base_cap", date(2025, 6, 30), Decimal("21535.50"), "medium-high"),
        ("base_cap", date(2025, 7, 1), Decimal("21966.00"), "medium-high"),
        ("base_floor", date(2026, 7, 1), Decimal("4488.90"), "medium"),  # 吉人社联〔2026〕74号
        ("average_wage", date(2025, 7, 1), Decimal("7322.08"), "medium-high"),
        ("interest_rate", date(2024, 6, 1), Decimal("0.0262"), "high"),
        ("interest_rate", date(2012, 6, 1), Decimal("0.025"), "low"),
        ("min_contribution_months", date(2029, 12, 1), 180, "high"),
        ("min_contribution_months", date(2030, 1, 1), 186, "high"),
        ("min_contribution_months", date(2045, 1, 1), 240, "high"),
    ],
)
def test_a_value_holds_from_its_date_until_the_next(name, on, expected, confidence):
    used = param(name).at(on)
    assert used.value == expected
    assert used.confidence == confidence
    assert used.effective_from <= on


def test_money_values_are_decimal_not_float():
    for name in ("base_floor", "base_cap", "average_wage", "pension_base", "interest_rate"):
        for values in param(name).series.values():
            assert all(isinstance(value.value, Decimal) for value in values), name


def test_the_changchun_base_differs_from_the_province_wide_base_and_other_prefectures_use_the_province_wide():
    on = date(2025, 5, 1)
    assert param("pension_base").at(on, region="220100").value == Decimal("7978.25")
    assert param("pension_base").at(on, region="220000").value == Decimal("7322.08")
    siping = param("pension_base").at(on, region="220300")
    assert siping.value == Decimal("7322.08") and siping.region == "220000"


def test_a_year_without_a_published_base_carries_the_latest_forward_and_is_provisional():
    used = param("pension_base").at(date(2027, 3, 1))
    assert used.value == Decimal("7481.50") and used.carried_forward and used.provisional
    changchun_2026 = param("pension_base").at(date(2026, 3, 1), region="220100")
    assert changchun_2026.value == Decimal("7978.25") and changchun_2026.carried_forward


def test_a_published_high_confidence_year_is_not_provisional():
    used = param("base_floor").at(date(2025, 7, 1))
    assert not used.carried_forward and not used.provisional


def test_a_date_before_the_first_value_is_not_defined():
    with pytest.raises(ParameterNotDefined):
        param("base_floor").at(date(2020, 6, 30))


def _write(tmp_path, name, body):
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


GOOD_HEAD = """\
description: {zh: 测试, en: test}
unit: rate
type: decimal
source: "test source"
confidence: high
"""


def test_an_explicit_null_ends_a_parameter(tmp_path):
    path = _write(tmp_path, "ending", GOOD_HEAD + """\
values:
  2019-05-01: {value: 0.40}
  2021-01-01: {value: null}
""")
    parameter = load_file(path)
    assert parameter.at(date(2020, 12, 31)).value == Decimal("0.40")
    with pytest.raises(ParameterNotDefined):
        parameter.at(date(2021, 1, 1))


def test_floats_in_files_are_read_as_exact_decimals(tmp_path):
    parameter = load_file(_write(tmp_path, "exact", GOOD_HEAD + "values:\n  2020-01-01: {value: 0.1}\n"))
    assert parameter.at(date(2020, 1, 1)).value == Decimal("0.1")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (GOOD_HEAD + "values:\n  2020-01-01: {value: 0.1}\n  2020-01-01: {value: 0.2}\n", "duplicate key"),
        (GOOD_HEAD.replace('source: "test source"\n', "") + "values:\n  2020-01-01: {value: 1}\n", "source"),
        (GOOD_HEAD.replace("confidence: high", "confidence: maybe") + "values:\n  2020-01-01: {value: 1}\n",
         "confidence"),
        (GOOD_HEAD.replace("description: {zh: 测试, en: test}\n", "") + "values:\n  2020-01-01: {value: 1}\n",
         "description"),
        (GOOD_HEAD + "values:\n  2020-01-01: {value: abc}\n", "expected a number"),
        (GOOD_HEAD + "series: annual\nvalues:\n  2020-07-01: {value: 1}\n  2022-07-01: {value: 2}\n", "one year apart"),
        (GOOD_HEAD + "values:\n  2020-01-01: {value: null}\n", "first value"),
        (GOOD_HEAD + "values:\n  2020-01-01: {value: 1, confidence: vague}\n", "confidence"),
        (GOOD_HEAD + "values:\n  not-a-date: {value: 1}\n", "not a date"),
        (GOOD_HEAD + "colour: red\nvalues:\n  2020-01-01: {value: 1}\n", "unknown keys"),
    ],
)
def test_a_malformed_parameter_file_is_rejected_when_loaded(tmp_path, body, message):
    path = _write(tmp_path, "broken", body)
    with pytest.raises(ParameterFileError, match=message):
        load_file(path)


def test_loading_a_directory_validates_every_file(tmp_path):
    _write(tmp_path, "good", GOOD_HEAD + "values:\n  2020-01-01: {value: 1}\n")
    _write(tmp_path, "bad", GOOD_HEAD + "values: {}\n")
    with pytest.raises(ParameterFileError):
        load_directory(tmp_path)


def test_the_prefecture_table_names_every_jilin_prefecture_in_both_languages():
    rows = param("prefectures").at(date(2025, 1, 1)).value
    codes = {row["code"] for row in rows}
    assert {"220000", "220100", "220200", "222400"} <= codes and len(codes) == 10
    assert all(row["zh"] and row["en"] for row in rows)


def test_the_divisor_table_covers_every_whole_age_from_40_to_70():
    table = param("annuity_divisor").at(date(2025, 1, 1)).value
    assert sorted(table) == list(range(40, 71))
    assert (table[50], table[55], table[60], table[70]) == (195, 170, 139, 56)
