"""The survivor schedule's steps the issue names (人社部发〔2021〕18号): months of benefit by contribution years,
counted to the month, less a month per year drawn for a retiree, never below 9."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portal.policy.rules.survivor import survivor_benefits

DIED = date(2026, 3, 10)


@pytest.mark.parametrize(("months", "expected"), [
    (4 * 12 + 11, "3"), (5 * 12, "6"), (15 * 12, "9"), (15 * 12 + 1, "9.08"), (30 * 12, "24"), (35 * 12, "24"),
], ids=["4 years 11 months", "5 years", "15 years", "15 years 1 month", "30 years", "35 years"])
def test_the_months_of_benefit_step_with_the_contribution_years(months, expected):
    result = survivor_benefits(date_of_death=DIED, contribution_months=months, retired=False, months_drawn=0)
    assert result.months.quantize(Decimal("0.01")) == Decimal(expected).quantize(Decimal("0.01"))
    assert result.survivor_benefit == (result.base * result.months).quantize(Decimal("0.01"))


def test_a_retiree_who_drew_long_is_paid_the_9_month_floor():
    result = survivor_benefits(date_of_death=DIED, contribution_months=20 * 12, retired=True, months_drawn=15 * 12)
    assert result.months == 9  # 14 months less 15 would be below the floor
