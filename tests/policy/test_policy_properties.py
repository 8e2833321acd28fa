"""Property tests of the rules (hypothesis)."""

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.policy.money import round_fen
from portal.policy.rules.contribution import contribution_base, employee_contribution, flexible_contribution
from portal.policy.rules.late_fee import late_fee
from portal.policy.rules.pension import pension_award
from portal.policy.rules.retirement import CATEGORIES, Age, retirement

# No example database: the tests must not write files into the working tree.
FAST = settings(deadline=None, max_examples=150, database=None)
money = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("100000.00"), places=2)
months = st.sampled_from([date(y, m, 1) for y in range(2020, 2027) for m in (1, 6, 7, 12) if (y, m) >= (2020, 7)])


@FAST
@given(money, money, months)
def test_contributions_never_fall_as_the_base_rises(wage_a, wage_b, month):
    low, high = sorted((wage_a, wage_b))
    a, b = employee_contribution(low, month), employee_contribution(high, month)
    assert a.base <= b.base
    assert a.personal_account <= b.personal_account
    assert a.employer <= b.employer and a.individual <= b.individual and a.total <= b.total


@FAST
@given(st.integers(60, 300), st.integers(60, 300), months)
def test_flexible_contributions_never_fall_as_the_percent_rises(p, q, month):
    low, high = sorted((p, q))
    assert flexible_contribution(low, month).total <= flexible_contribution(high, month).total


@FAST
@given(money, months)
def test_clamping_is_idempotent(wage, month):
    once = contribution_base(wage, month)
    twice = contribution_base(once.base, month)
    assert twice.base == once.base and twice.clamped is None
    assert once.floor <= once.base <= once.cap


@FAST
@given(money, st.dates(date(2012, 1, 1), date(2030, 12, 31)), st.integers(0, 2000))
def test_the_late_fee_is_linear_in_days(amount, due, days):
    result = late_fee(amount, due, due + timedelta(days=days))
    assert result.days == days
    assert result.fee == round_fen(amount * Decimal("0.0005") * days)


@FAST
@given(money, st.dates(date(2012, 1, 1), date(2030, 12, 31)), st.integers(0, 400))
def test_the_late_fee_is_zero_when_paid_on_or_before_the_due_date(amount, due, early):
    assert late_fee(amount, due, due - timedelta(days=early)).fee == Decimal("0.00")


@FAST
@given(st.sampled_from(CATEGORIES), st.dates(date(1955, 1, 1), date(1995, 12, 31)), st.integers(1, 800))
def test_the_statutory_month_is_never_earlier_for_a_later_birth(category, birth, later_by):
    earlier = retirement(birth, category)
    later = retirement(birth + timedelta(days=later_by), category)
    assert later.statutory_month >= earlier.statutory_month
    assert later.statutory_age.total_months >= earlier.statutory_age.total_months
    assert earlier.earliest_month <= earlier.statutory_month <= earlier.latest_month


def _award(actual, balance):
    return pension_award(
        region="220100",
        retirement_month=date(2025, 6, 1),
        age_at_retirement=Age(60, 3),
        actual_months=actual,
        deemed_months=24,
        average_index=Decimal("0.90"),
        account_balance=balance,
    )


@FAST
@given(st.integers(156, 600), st.integers(0, 120), money, money)
def test_the_pension_never_falls_with_more_months_or_a_larger_balance(actual, more, balance_a, balance_b):
    # From 156 paid months (180 with the 24 deemed) the minimum is met; below it there is no monthly pension.
    low, high = sorted((balance_a, balance_b))
    base = _award(actual, low)
    assert _award(actual + more, low).total >= base.total
    assert _award(actual, high).total >= base.total


@FAST
@given(st.integers(0, 240), st.integers(0, 120))
def test_more_months_never_lose_eligibility_and_missing_months_add_up(actual, more):
    base = _award(actual, Decimal("0.00"))
    assert base.eligible == (base.missing_months == 0)
    assert base.missing_months == max(0, 180 - actual - 24)
    assert (base.total is None) == (not base.eligible)
    assert _award(actual + more, Decimal("0.00")).eligible >= base.eligible
