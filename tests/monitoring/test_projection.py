"""The long-horizon projection against a hand-computed two-cohort example: its years, the gap shared 80/20, and the
year the fund runs short; retirement at the statutory age of the 2025 reform and mortality by age band."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from portal.policy import projection

NO_DEATHS = {"male": {16: Decimal(0)}, "female": {16: Decimal(0)}}


def assumptions(**changes) -> projection.Assumptions:
    values = dict(wage_growth=Decimal(0), pension_growth=Decimal(0), entrants_rate=Decimal(0), entrant_age=25,
                  new_pension_ratio=Decimal("0.5"), horizon_year=2028, mortality=NO_DEATHS,
                  contribution_rate=Decimal("0.24"), collection_rate=Decimal(1))
    values.update(changes)
    return projection.Assumptions(**values)


WORKERS = projection.Cohort("male", 1970, Decimal(100), Decimal(0), Decimal(5000), Decimal(0))
RETIREES = projection.Cohort("female", 1960, Decimal(0), Decimal(50), Decimal(0), Decimal(3000))


def test_two_cohorts_by_hand_a_gap_each_year_shared_80_20_and_the_fund_short_in_the_second():
    result = projection.project([WORKERS, RETIREES], start_year=2026, opening_balance=Decimal(500000),
                                assumptions=assumptions())
    # Income 100 x 5,000 x 12 x 24% = 1,440,000; pensions 50 x 3,000 x 12 = 1,800,000; gap 360,000:
    # 288,000 from the surplus, 72,000 from governments; balance 500,000 - 288,000 = 212,000, then -76,000.
    first, second = result.years
    assert (first.year, first.income, first.expenditure, first.gap) == (2027, Decimal("1440000.00"),
                                                                        Decimal("1800000.00"), Decimal("360000.00"))
    assert (first.from_surplus, first.from_governments, first.balance) == (Decimal("288000.00"),
                                                                           Decimal("72000.00"), Decimal("212000.00"))
    assert second.balance == Decimal("-76000.00")
    assert result.short_from == 2028


def test_a_cohort_retires_at_its_statutory_age_with_a_first_pension_from_its_base():
    assert projection.retirement_age("male", 1966) == 61  # 60 and 5 months under the 2025 reform, rounded up
    near = projection.Cohort("male", 1966, Decimal(100), Decimal(0), Decimal(5000), Decimal(0))
    year = projection.project([near], start_year=2026, opening_balance=Decimal(0),
                              assumptions=assumptions(horizon_year=2027)).years[0]
    assert (year.contributors, year.pensioners, year.income) == (Decimal("0.00"), Decimal("100.00"), Decimal("0.00"))
    assert year.expenditure == Decimal("3000000.00")  # 100 x 2,500 (half the base) x 12


def test_deaths_thin_a_cohort_by_the_band_of_its_age_and_entrants_join_at_their_age():
    mortality = {"male": {16: Decimal(0), 60: Decimal("0.1")}, "female": {16: Decimal(0)}}
    old = projection.Cohort("male", 1950, Decimal(0), Decimal(100), Decimal(0), Decimal(1000))
    year = projection.project([old, WORKERS], start_year=2026, opening_balance=Decimal(0),
                              assumptions=assumptions(horizon_year=2027, mortality=mortality,
                                                      entrants_rate=Decimal("0.1"))).years[0]
    assert year.pensioners == Decimal("90.00")
    assert year.contributors == Decimal("110.00")  # 100 workers and 10 entrants aged 25


def test_the_parameters_are_provisional_and_reach_2050():
    used = projection.assumptions_used(date(2026, 1, 1))
    built = projection.Assumptions.from_parameters(date(2026, 1, 1), contribution_rate=Decimal("0.24"),
                                                   collection_rate=Decimal("0.9"))
    assert used.provisional and built.provisional and built.horizon_year == 2050
    assert projection.dying(built.mortality["male"], 65) == Decimal("0.0120")
