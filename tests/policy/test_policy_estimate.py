"""The public estimator."""

from datetime import date
from decimal import Decimal

import pytest

from portal.policy.dates import months_between
from portal.policy.errors import PolicyInputError
from portal.policy.estimate import estimate

D = Decimal


def run(**changes):
    inputs = dict(
        birth_date=date(1967, 5, 10),
        category="male",
        region="220100",
        months_paid=300,
        months_expected=27,
        average_index=D("1.00"),
        account_balance=D("80000.00"),
        today=date(2025, 9, 1),
    )
    inputs.update(changes)
    return estimate(**inputs)


def test_the_estimate_gives_the_pension_at_the_statutory_month():
    result = run()
    assert result.retirement.statutory_month == date(2028, 1, 1)
    assert result.months_counted == 327  # 300 paid + 27 (2025-10 .. 2027-12)
    assert result.meets_minimum and result.pension is not None
    assert result.pension.total == result.pension.basic + result.pension.extra + result.pension.personal_account
    assert result.explanation.steps[0].key == "estimate.assumptions"


def test_expected_months_beyond_the_time_left_are_capped_and_the_explanation_says_so():
    result = run(months_expected=100)
    assert result.months_counted == 327
    assert "estimate.expected_capped" in [step.key for step in result.explanation.steps]


def test_what_if_rows_run_a_year_apart_across_the_window_and_include_both_ends():
    result = run()
    months = [row.retirement_month for row in result.what_if]
    assert months[0] == result.retirement.earliest_month and months[-1] == result.retirement.latest_month
    assert result.retirement.statutory_month in months
    assert all(0 < months_between(a, b) <= 12 for a, b in zip(months, months[1:], strict=False))


def test_a_later_retirement_counts_more_months_and_pays_more():
    rows = run().what_if
    totals = [row.total for row in rows]
    assert all(row.meets_minimum for row in rows)
    assert totals == sorted(totals)
    assert [row.months_counted for row in rows] == sorted(row.months_counted for row in rows)


def test_rows_below_the_minimum_say_so_instead_of_showing_a_pension():
    result = run(months_paid=100, months_expected=10)
    assert not result.meets_minimum and result.pension is None
    for row in result.what_if:
        if not row.meets_minimum:
            assert row.total is None and row.short_months > 0
            assert row.explanation.steps[0].key == "estimate.minimum_not_met"
    assert any(not row.meets_minimum for row in result.what_if)


def test_a_minimum_met_only_by_working_longer_shows_in_the_late_rows():
    result = run(months_paid=150, months_expected=27)  # 177 at the statutory month, minimum 180
    statutory = next(row for row in result.what_if if row.is_statutory)
    assert not statutory.meets_minimum and statutory.short_months == 3
    assert result.what_if[-1].meets_minimum and result.what_if[-1].total is not None


def test_rows_already_in_the_past_are_left_out():
    result = run(today=date(2027, 9, 1), months_expected=3)
    assert all(row.retirement_month > date(2027, 9, 1) for row in result.what_if)


def test_a_chosen_early_month_gives_the_pension_there_with_the_minimum_of_that_year():
    # Born 1970-01: statutory 2031-05 (minimum 192), window from 2030-01.
    result = run(birth_date=date(1970, 1, 15), months_paid=150, months_expected=36, today=date(2026, 11, 28),
                 chosen_month=date(2030, 6, 1))
    assert result.retirement.chosen_month == date(2030, 6, 1)
    assert result.chosen.retirement_month == date(2030, 6, 1) and result.chosen.minimum == 186
    assert result.meets_minimum and result.pension is result.chosen.pension
    assert "retirement.chosen_early" in [step.key for step in result.explanation.steps]


def test_deferred_rows_keep_the_statutory_years_minimum_and_early_rows_use_their_own_year():
    result = run(birth_date=date(1970, 1, 15), months_paid=150, months_expected=36, today=date(2026, 11, 28))
    minimum = {row.retirement_month.year: row.minimum for row in result.what_if}
    assert minimum[2030] == 186 and minimum[2031] == 192 and minimum[2034] == 192


def test_a_chosen_month_outside_the_window_is_refused_naming_it():
    with pytest.raises(PolicyInputError) as error:
        run(chosen_month=date(2032, 1, 1))
    assert error.value.field == "chosen_month"


def test_an_index_above_3_is_refused_by_the_estimator():
    with pytest.raises(PolicyInputError) as error:
        run(average_index=D("3.5"))
    assert error.value.field == "average_index"
