"""Jilin's contribution year runs July → June and is named by the year of its July."""

from datetime import date

from portal.policy.contribution_year import contribution_year, first_month, last_month


def test_a_month_before_july_belongs_to_the_year_that_began_the_july_before():
    assert contribution_year(date(2026, 6, 1)) == 2025
    assert contribution_year(date(2026, 1, 1)) == 2025


def test_july_begins_a_new_contribution_year():
    assert contribution_year(date(2026, 7, 1)) == 2026
    assert contribution_year(date(2026, 12, 1)) == 2026


def test_a_contribution_year_runs_from_its_july_to_the_next_june():
    assert (first_month(2026), last_month(2026)) == (date(2026, 7, 1), date(2027, 6, 1))
