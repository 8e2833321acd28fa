"""Survivor benefits (人社部发〔2021〕18号; 吉人社联〔2021〕168号)."""

import json
from datetime import date
from decimal import Decimal

import pytest

from portal.policy.errors import PolicyInputError
from portal.policy.rules.survivor import survivor_benefits

D = Decimal
DEATH = date(2026, 3, 10)


def test_the_notices_worked_example_gives_a_retiree_19_25_months():
    # 28 years 9 months of contributions, 3 years 6 months of pension drawn: 9 + 13 + 0.75 - 3.5 = 19.25.
    result = survivor_benefits(date_of_death=DEATH, contribution_months=28 * 12 + 9, retired=True, months_drawn=42)
    assert result.months == D("19.25")
    assert result.base == D("3401.42")  # 2025's income ÷ 12 for a death in 2026
    assert result.survivor_benefit == D("65477.34")  # 3401.42 × 19.25, half up
    assert result.funeral_grant == D("6802.84")  # 2 × the base
    assert result.total == result.funeral_grant + result.survivor_benefit


@pytest.mark.parametrize(("months", "expected"), [
    (0, "3"), (59, "3"), (60, "6"), (119, "6"), (120, "9"), (180, "9"),
    (186, "9.5"), (28 * 12 + 9, "22.75"), (360, "24"), (480, "24"),
])
def test_in_service_months_follow_the_contribution_years_to_the_month_and_stop_at_24(months, expected):
    assert survivor_benefits(date_of_death=DEATH, contribution_months=months).months == D(expected)


def test_a_long_drawn_pension_never_takes_a_retiree_below_9_months():
    result = survivor_benefits(date_of_death=DEATH, contribution_months=300, retired=True, months_drawn=20 * 12)
    assert result.months == D("9")


def test_the_base_is_provisional_because_the_income_figure_is_not_confirmed():
    result = survivor_benefits(date_of_death=DEATH, contribution_months=200)
    assert result.provisional
    names = {used.name for used in result.explanation.parameters}
    assert names == {"survivor_benefit_schedule", "survivor_income_base"}


@pytest.mark.parametrize(("changes", "field"), [
    ({"date_of_death": date(2025, 6, 1)}, "date_of_death"),  # the 2024 income figure is not in the files
    ({"contribution_months": -1}, "contribution_months"),
    ({"months_drawn": 12}, "months_drawn"),  # not retired
])
def test_inputs_the_rule_cannot_use_are_refused_naming_the_field(changes, field):
    arguments = {"date_of_death": DEATH, "contribution_months": 200} | changes
    with pytest.raises(PolicyInputError) as error:
        survivor_benefits(**arguments)
    assert error.value.field == field


def test_the_survivor_command_prints_the_worked_example(run_cli):
    payload = {"date_of_death": "2026-03-10", "contribution_months": 345, "retired": True, "months_drawn": 42}
    out = run_cli(["survivor"], json.dumps(payload)).json
    assert (out["months"], out["survivor_benefit"], out["funeral_grant"]) == ("19.25", "65477.34", "6802.84")
    assert out["provisional"] is True
    refused = run_cli(["survivor"], json.dumps({**payload, "retired": "yes"}))
    assert refused.status == 2 and "'retired'" in refused.stderr
