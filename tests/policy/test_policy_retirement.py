"""Statutory retirement age under the 2025 reform, flexible window, minimum contribution months."""

from datetime import date

import pytest

from portal.policy.errors import PolicyInputError
from portal.policy.rules.retirement import Age, retirement


@pytest.mark.parametrize(
    ("name", "birth", "category", "age", "month"),
    [
        ("men born 1967-05 retire at 60y8m in 2028-01", date(1967, 5, 10), "male", Age(60, 8), date(2028, 1, 1)),
        ("women-55 born 1974-10 retire at 56y3m in 2031-01", date(1974, 10, 1), "female_cadre", Age(56, 3),
         date(2031, 1, 1)),
        ("men born 1983-02 retire at 63y0m", date(1983, 2, 1), "male", Age(63, 0), date(2046, 2, 1)),
        ("men born 1964-12 keep the original 60", date(1964, 12, 31), "male", Age(60, 0), date(2024, 12, 1)),
        ("men born 1965-01 get one month", date(1965, 1, 1), "male", Age(60, 1), date(2025, 2, 1)),
        ("men born 1965-04 still one month", date(1965, 4, 1), "male", Age(60, 1), date(2025, 5, 1)),
        ("men born 1965-05 get two months", date(1965, 5, 1), "male", Age(60, 2), date(2025, 7, 1)),
        ("men born 1976-08 get 35 months", date(1976, 8, 1), "male", Age(62, 11), date(2039, 7, 1)),
        ("men born 1976-09 reach the 63 cap", date(1976, 9, 1), "male", Age(63, 0), date(2039, 9, 1)),
        ("women-55 born 1969-12 keep 55", date(1969, 12, 1), "female_cadre", Age(55, 0), date(2024, 12, 1)),
        ("women-55 born 1970-01 get one month", date(1970, 1, 1), "female_cadre", Age(55, 1), date(2025, 2, 1)),
        ("women-55 born 1981-09 reach 58", date(1981, 9, 1), "female_cadre", Age(58, 0), date(2039, 9, 1)),
        ("women-50 born 1974-12 keep 50", date(1974, 12, 1), "female_worker", Age(50, 0), date(2024, 12, 1)),
        ("women-50 born 1975-01 get one month", date(1975, 1, 1), "female_worker", Age(50, 1), date(2025, 2, 1)),
        ("women-50 born 1975-03 get two months", date(1975, 3, 1), "female_worker", Age(50, 2), date(2025, 5, 1)),
        ("women-50 born 1984-10 get 59 months", date(1984, 10, 1), "female_worker", Age(54, 11),
         date(2039, 9, 1)),
        ("women-50 born 1984-11 reach 55", date(1984, 11, 1), "female_worker", Age(55, 0), date(2039, 11, 1)),
    ],
)
def test_statutory_age_and_month(name, birth, category, age, month):
    result = retirement(birth, category)
    assert (result.statutory_age, result.statutory_month) == (age, month), name


def test_the_flexible_window_is_36_months_either_side_but_never_below_the_original_age():
    result = retirement(date(1983, 2, 1), "male")  # statutory 63y0m in 2046-02
    assert result.earliest_month == date(2043, 2, 1)  # 60y0m: 36 months early, exactly the original age
    assert result.latest_month == date(2049, 2, 1)
    result = retirement(date(1967, 5, 1), "male")  # 60y8m: only 8 months early are possible
    assert result.earliest_month == date(2027, 5, 1)
    assert result.latest_month == date(2031, 1, 1)


def test_people_whose_statutory_month_is_before_the_reform_have_no_flexible_window():
    result = retirement(date(1964, 12, 1), "male")
    assert result.earliest_month == result.latest_month == result.statutory_month == date(2024, 12, 1)


@pytest.mark.parametrize(
    ("birth", "category", "minimum"),
    [
        (date(1967, 5, 1), "male", 180),  # reaches statutory age in 2028
        (date(1969, 9, 1), "male", 186),  # 61y3m -> 2030-12
        (date(1983, 2, 1), "male", 240),  # 2046
        (date(1975, 1, 1), "female_worker", 180),  # 2025
    ],
)
def test_minimum_contribution_months_follow_the_year_statutory_age_is_reached(birth, category, minimum):
    assert retirement(birth, category).min_contribution_months == minimum


def test_an_unknown_category_is_refused():
    with pytest.raises(PolicyInputError) as error:
        retirement(date(1970, 1, 1), "female")
    assert error.value.field == "category"


def test_the_retirement_explanation_cites_the_npc_decision_and_is_not_provisional():
    result = retirement(date(1967, 5, 1), "male")
    assert not result.provisional
    assert any("延迟法定退休年龄" in used.source for used in result.explanation.parameters)
