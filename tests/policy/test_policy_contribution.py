"""Contribution base and contributions."""

from datetime import date
from decimal import Decimal

import pytest

from portal.policy.errors import PolicyInputError
from portal.policy.rules.contribution import contribution_base, employee_contribution, flexible_contribution

D = Decimal


@pytest.mark.parametrize(
    ("name", "wage", "month", "base", "clamped"),
    [
        ("a wage below the floor is raised to the floor", "3000.00", date(2025, 7, 1), "4393.20", "floor"),
        ("a wage above the cap is lowered to the cap", "30000.00", date(2025, 7, 1), "21966.00", "cap"),
        ("a wage within the limits is the base", "6000.00", date(2025, 7, 1), "6000.00", None),
        ("a wage exactly at the floor is not clamped", "4393.20", date(2025, 7, 1), "4393.20", None),
        ("june 2025 still uses the 2024 floor", "4350.00", date(2025, 6, 1), "4350.00", None),
        ("july 2025 uses the 2025 floor", "4350.00", date(2025, 7, 1), "4393.20", "floor"),
        ("june 2025 still uses the 2024 cap", "21900.00", date(2025, 6, 1), "21535.50", "cap"),
    ],
)
def test_the_base_is_the_wage_clamped_to_the_years_limits(name, wage, month, base, clamped):
    result = contribution_base(D(wage), month)
    assert (result.base, result.clamped) == (D(base), clamped), name
    assert result.explanation.steps


def test_a_wage_below_the_floor_is_raised_to_the_floor():
    result = contribution_base(D("1000.00"), date(2025, 9, 1))
    assert result.clamped == "floor" and result.base == D("4393.20")
    assert "floor" in result.explanation.steps[0].text_en and "下限" in result.explanation.steps[0].text_zh


def test_an_employee_pays_8_percent_and_the_employer_16_percent_each_rounded_to_the_fen():
    result = employee_contribution(D("6000.05"), date(2025, 7, 1))
    assert result.employer == D("960.01")  # 960.008
    assert result.individual == D("480.00")  # 480.004
    assert result.personal_account == result.individual
    assert result.total == result.employer + result.individual


def test_the_employer_rate_before_may_2019_is_unsourced_so_results_then_would_be_provisional():
    from portal.policy.parameters import param

    assert param("employer_rate").at(date(2019, 4, 30)).provisional


def test_a_flexible_worker_at_60_percent_pays_the_published_minimum():
    result = flexible_contribution(60, date(2025, 7, 1))
    assert result.base == D("4393.20")
    assert result.total * 12 == D("10543.68")
    assert result.personal_account == D("351.46")  # 4393.20 × 8% = 351.456
    assert result.employer == D("0.00") and result.individual == result.total


def test_a_flexible_worker_at_300_percent_pays_on_the_published_cap():
    assert flexible_contribution(300, date(2025, 7, 1)).base == D("21966.00")
    assert flexible_contribution(300, date(2024, 7, 1)).base == D("21535.50")


def test_a_flexible_worker_at_100_percent_pays_on_the_average_used_for_the_limits():
    assert flexible_contribution(100, date(2024, 8, 1)).base == D("7178.50")
    assert flexible_contribution(100, date(2025, 8, 1)).base == D("7322.00")


@pytest.mark.parametrize("percent", [59, 301, 0])
def test_a_flexible_percent_outside_60_to_300_is_refused(percent):
    with pytest.raises(PolicyInputError) as error:
        flexible_contribution(percent, date(2025, 7, 1))
    assert error.value.field == "base_percent"


def test_a_month_before_any_published_limits_is_refused_naming_the_month():
    with pytest.raises(PolicyInputError) as error:
        employee_contribution(D("5000.00"), date(2019, 1, 1))
    assert error.value.field == "month"


def test_the_2026_limits_published_by_jirenshelian_2026_74_are_not_provisional():
    # 吉人社联〔2026〕74号 (2026-09-01) publishes the 2026-07 limits: medium confidence, no longer derived guesses.
    result = employee_contribution(D("3000.00"), date(2026, 7, 1))
    assert result.base == D("4488.90") and not result.provisional
    assert employee_contribution(D("99999.00"), date(2026, 7, 1)).base == D("22444.50")
    assert not employee_contribution(D("5000.00"), date(2025, 7, 1)).provisional


def test_a_flexible_worker_may_choose_any_whole_percent_within_the_bounds_in_force():
    from portal.policy.rules.contribution import flexible_base_allowed, flexible_base_bounds

    month = date(2026, 1, 1)
    assert flexible_base_bounds(month) == (60, 300)
    assert flexible_base_allowed(60, month) and flexible_base_allowed(300, month)
    assert not flexible_base_allowed(59, month) and not flexible_base_allowed(301, month)
    assert not flexible_base_allowed(True, month) and not flexible_base_allowed("80", month)
