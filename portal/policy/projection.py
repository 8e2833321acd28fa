"""The fund over a long horizon (to 2050 by default): when it would run short, and how each year's gap is shared.

Pure. Cohorts of the current record (sex, year of birth; contributors with their average base, pensioners with
their average pension) are carried year by year: each cohort thins by the yearly probability of dying at its age
(the ``fund_projection`` mortality bands), contributors retire at the statutory age of the 2025 reform
(rules.retirement) with a first pension of ``new_pension_ratio`` times the base, new contributors enter each year,
bases grow with wages and pensions with the adjustment. Income is the contributions (the employer and individual
rates of the year) times the collection rate observed; expenditure the pensions. A year's gap (expenditure above
income) is shared as the seed says (rules.gap_sharing: 80% from the accumulated surplus, 20% governments); the fund
runs short in the first year its balance would fall below zero. Every assumption is a parameter; all are
provisional, and so is the projection.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from portal.policy.parameters import Used, param
from portal.policy.rules.gap_sharing import share_gap
from portal.policy.rules.retirement import retirement

CENT = Decimal("0.01")
MONTHS = 12
CATEGORY = {"male": "male", "female": "female_worker"}  # enterprise women retire at the workers' age (an assumption)


@dataclass(frozen=True)
class Cohort:
    sex: str  # male | female
    birth_year: int
    contributors: Decimal
    pensioners: Decimal
    base: Decimal  # average monthly base of its contributors (yuan)
    pension: Decimal  # average monthly pension of its pensioners (yuan)


@dataclass(frozen=True)
class Assumptions:
    wage_growth: Decimal
    pension_growth: Decimal
    entrants_rate: Decimal
    entrant_age: int
    new_pension_ratio: Decimal
    horizon_year: int
    mortality: Mapping[str, Mapping[int, Decimal]]  # sex → lowest age of a band → yearly probability of dying
    contribution_rate: Decimal  # employer and individual together
    collection_rate: Decimal  # the share of contributions due that is collected
    provisional: bool = True

    @classmethod
    def from_parameters(cls, on: date, *, contribution_rate: Decimal, collection_rate: Decimal) -> Assumptions:
        used = assumptions_used(on)
        values = used.value
        return cls(values["wage_growth"], values["pension_growth"], values["entrants_rate"],
                   int(values["entrant_age"]), values["new_pension_ratio"], int(values["horizon_year"]),
                   {"male": dict(values["mortality_men"]), "female": dict(values["mortality_women"])},
                   contribution_rate, collection_rate, used.provisional)


def assumptions_used(on: date) -> Used:
    return param("fund_projection").at(on)


def dying(mortality: Mapping[int, Decimal], age: int) -> Decimal:
    """The yearly probability of dying at ``age``: the band whose lowest age is the highest not above it."""
    found = Decimal(0)
    for low in sorted(mortality):
        if age >= low:
            found = Decimal(mortality[low])
    return found


@cache
def retirement_age(sex: str, birth_year: int) -> int:
    """The age (whole years, rounded up) at which a cohort reaches its statutory retirement month."""
    result = retirement(date(birth_year, 7, 1), CATEGORY[sex])
    months = (result.statutory_month.year - birth_year) * 12 + result.statutory_month.month - 7
    return -(-months // 12)


@dataclass(frozen=True)
class YearProjection:
    year: int
    contributors: Decimal
    pensioners: Decimal
    income: Decimal
    expenditure: Decimal
    gap: Decimal  # expenditure above income, or zero
    from_surplus: Decimal  # the gap's share borne by the accumulated surplus
    from_governments: Decimal  # the share borne by governments at all levels
    balance: Decimal  # at the end of the year


@dataclass(frozen=True)
class Projection:
    start_year: int
    years: tuple[YearProjection, ...]
    short_from: int | None  # the first year the balance would fall below zero, or None within the horizon
    provisional: bool


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def project(cohorts: Iterable[Cohort], *, start_year: int, opening_balance: Decimal,
            assumptions: Assumptions) -> Projection:
    """Each year from ``start_year`` + 1 to the horizon, starting from the cohorts as they are in ``start_year``."""
    people = {(c.sex, c.birth_year): c for c in cohorts}
    balance, years, short_from = opening_balance, [], None
    for year in range(start_year + 1, assumptions.horizon_year + 1):
        total = sum((c.contributors for c in people.values()), Decimal(0))
        average_base = (sum((c.contributors * c.base for c in people.values()), Decimal(0)) / total
                        if total else Decimal(0))
        moved = {}
        for key, cohort in people.items():
            age = year - cohort.birth_year
            alive = 1 - dying(assumptions.mortality[cohort.sex], age)
            base = cohort.base * (1 + assumptions.wage_growth)
            contributors, pensioners = cohort.contributors * alive, cohort.pensioners * alive
            pension = cohort.pension * (1 + assumptions.pension_growth)
            if contributors and age >= retirement_age(cohort.sex, cohort.birth_year):
                first = base * assumptions.new_pension_ratio
                pension = (pensioners * pension + contributors * first) / (pensioners + contributors)
                pensioners, contributors = pensioners + contributors, Decimal(0)
            moved[key] = replace(cohort, contributors=contributors, pensioners=pensioners, base=base, pension=pension)
        entrants = total * assumptions.entrants_rate / 2
        for sex in ("male", "female"):
            key = (sex, year - assumptions.entrant_age)
            cohort = moved.get(key) or Cohort(sex, key[1], Decimal(0), Decimal(0),
                                              average_base * (1 + assumptions.wage_growth), Decimal(0))
            moved[key] = replace(cohort, contributors=cohort.contributors + entrants)
        people = moved
        contributors = sum((c.contributors for c in people.values()), Decimal(0))
        pensioners = sum((c.pensioners for c in people.values()), Decimal(0))
        income = _money(sum((c.contributors * c.base for c in people.values()), Decimal(0)) * MONTHS
                        * assumptions.contribution_rate * assumptions.collection_rate)
        expenditure = _money(sum((c.pensioners * c.pension for c in people.values()), Decimal(0)) * MONTHS)
        gap = max(expenditure - income, Decimal(0))
        surplus_share = governments = Decimal(0)
        if gap:
            shared = share_gap(gap, year)
            surplus_share, governments = shared.fund_surplus, shared.governments
        balance = balance + income - expenditure + governments
        if balance < 0 and short_from is None:
            short_from = year
        years.append(YearProjection(year, _money(contributors), _money(pensioners), income, expenditure, gap,
                                    surplus_share, governments, balance))
    return Projection(start_year, tuple(years), short_from, assumptions.provisional)
