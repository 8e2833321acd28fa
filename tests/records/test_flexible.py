"""Flexible workers' use cases: tiers from the policy, the year's months, gaps and what paying them does."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import select

from portal.devtools import demo
from portal.errors import NotFound, ValidationFailed
from portal.identifiers import make_resident_id
from portal.models import Bill, ContributionMonth, PaymentOrder, PaymentOrderBill
from portal.policy.contribution_year import contribution_year
from portal.policy.money import from_fen, to_fen
from portal.policy.parameters import param
from portal.policy.rules.contribution import flexible_contribution
from portal.policy.rules.late_fee import late_fee
from portal.services import billing
from portal.services import flexible as service
from tests import factories
from tests.records.support import NOW, TODAY, flexible, person_actor


def paid_month(db, person, month: date, percent: int = 60) -> ContributionMonth:
    result = flexible_contribution(percent, month)
    row = ContributionMonth(person_id=person.id, month=month, base_fen=to_fen(result.base), employer_part_fen=0,
                            individual_part_fen=to_fen(result.total),
                            personal_account_fen=to_fen(result.personal_account), source="flexible_payment",
                            status="paid", created_at=NOW)
    db.add(row)
    db.flush()
    return row


def worker(db, *, start=date(2025, 1, 1), percents=None, paid_until=date(2026, 10, 1), missed=(), **who):
    """A flexible worker enrolled since ``start`` who paid every month to ``paid_until`` except ``missed``."""
    person = factories.person(db, **who)
    flexible(db, person=person, start=start, percents=percents or {2024: 60})
    month = start
    while month <= paid_until:
        if month not in missed:
            paid_month(db, person, month, (percents or {}).get(contribution_year(month), 60))
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return person


def test_the_tiers_are_the_policy_figures_for_each_common_percent():
    rows = service.tiers(date(2026, 11, 1), chosen=137)
    assert [row.percent for row in rows] == [60, 70, 80, 90, 100, 137, 150, 200, 250, 300]
    for row in rows:
        policy = flexible_contribution(row.percent, date(2026, 11, 1))
        assert (row.base, row.contribution, row.personal_account) == (
            policy.base, policy.total, policy.personal_account)
    assert [row.percent for row in rows if row.chosen] == [137]


def test_the_back_payment_window_is_the_current_contribution_year_by_default():
    assert param("flexible_back_payment_years").at(TODAY).confidence == "unsourced"
    assert service.back_payment_window(TODAY) == (date(2026, 7, 1), date(2027, 6, 1))
    assert service.back_payment_window(date(2027, 3, 5)) == (date(2026, 7, 1), date(2027, 6, 1))


def test_gaps_are_listed_with_whether_they_can_be_paid_and_what_they_cost_without_a_late_fee(db):
    # 社会保险法 第八十六条 charges employers; by default (flexible_late_fee_applies = no) a person pays no fee.
    person = worker(db, missed={date(2025, 3, 1), date(2026, 8, 1)})
    view = service.overview(db, actor=person_actor(person), today=TODAY)
    assert [(gap.month, gap.allowed) for gap in view.gaps] == [(date(2025, 3, 1), False), (date(2026, 8, 1), True)]
    assert not view.late_fee_applies
    for gap in view.gaps:
        policy = flexible_contribution(60, gap.month)
        fee = late_fee(policy.total, billing.month_terms(gap.month).due_date, TODAY, payer="person")
        assert (gap.amount, gap.personal_account, gap.late_fee) == (policy.total, policy.personal_account, fee.fee)
        assert gap.late_fee == 0 and gap.total == gap.amount
        assert gap.explanation.provisional  # the no-fee reading is low confidence
    assert [line.state for line in view.months[:6]] == ["paid", "missed", "paid", "paid", "overdue", "upcoming"]
    assert date(2026, 8, 1) in view.payable_months and date(2025, 3, 1) not in view.payable_months


def earlier_history(db, person, *, start=date(2005, 1, 1), end=date(2024, 12, 1)) -> None:
    """Months transferred in from an earlier scheme, enough for the minimum contribution period."""
    month = start
    while month <= end:
        db.add(ContributionMonth(person_id=person.id, month=month, base_fen=450000, employer_part_fen=0,
                                 individual_part_fen=36000, personal_account_fen=36000, source="transfer_in",
                                 status="paid", created_at=NOW))
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    db.flush()


def test_paying_the_allowed_gaps_raises_the_estimate(db):
    person = worker(db, missed={date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)})
    earlier_history(db, person)
    view = service.overview(db, actor=person_actor(person), today=TODAY)
    change = view.change
    assert change is not None and change.months == 3
    assert change.without is not None and change.difference > 0 and change.increases


def test_paying_does_not_help_when_the_minimum_is_out_of_reach_either_way(db):
    # A woman born in 1975 retires around 2031: 22 months paid and five years to go stay short of the minimum.
    woman = make_resident_id("220102", date(1975, 6, 1), 124)
    person = worker(db, missed={date(2026, 8, 1)}, id_number=woman, birth=date(1975, 6, 1))
    change = service.overview(db, actor=person_actor(person), today=TODAY).change
    assert (change.without, change.with_paid, change.increases) == (None, None, False)


def test_without_gaps_there_is_nothing_to_estimate(db):
    person = worker(db)
    view = service.overview(db, actor=person_actor(person), today=TODAY)
    assert view.gaps == () and view.change is None


def test_the_demo_flexible_worker_sees_her_missed_months(db):
    demo.seed(session=db, now=NOW, today=TODAY)
    from portal.models import Person

    person = db.exec(select(Person).where(Person.id_number == "220104197908200226")).one()
    view = service.overview(db, actor=person_actor(person), today=TODAY)
    assert [gap.month for gap in view.gaps] == [date(2022, 4, 1), date(2022, 5, 1), date(2022, 6, 1),
                                               date(2025, 2, 1)]
    assert not any(gap.allowed for gap in view.gaps)  # all before the current contribution year
    assert view.change is None  # nothing can be paid here, so nothing to estimate
    # Her record starts in 2021: even with the four months she stays short of the minimum period.
    everything = service.estimate_change(db, person=person, gaps=list(view.gaps), today=TODAY, percent=60)
    assert everything.with_paid is None and not everything.increases


def test_paying_one_month_bills_it_like_the_billing_run_and_creates_an_order(db):
    person = worker(db, paid_until=date(2026, 10, 1))
    twin = worker(db, paid_until=date(2026, 10, 1))  # billed by the province-wide run for comparison
    order = service.pay(db, actor=person_actor(person), period="month", first_month="2026-12", today=TODAY,
                        now=NOW)
    billing.run_billing(db, month=date(2026, 12, 1), now=NOW)
    mine, theirs = (db.exec(select(ContributionMonth).where(ContributionMonth.person_id == who.id,
                                                            ContributionMonth.month == date(2026, 12, 1))).one()
                    for who in (person, twin))
    assert (mine.base_fen, mine.individual_part_fen, mine.personal_account_fen, mine.source, mine.status) == (
        theirs.base_fen, theirs.individual_part_fen, theirs.personal_account_fen, theirs.source, theirs.status)
    assert order.status == "pending" and order.reference.startswith("JLP")
    assert from_fen(order.amount_fen) == flexible_contribution(60, date(2026, 12, 1)).total  # not due yet: no fee
    assert len(db.exec(select(Bill).where(Bill.person_id == person.id)).all()) == 1  # the run reused it


def test_a_quarter_and_the_rest_of_the_year_cover_the_unpaid_months_up_to_their_end(db):
    person = worker(db, paid_until=date(2026, 10, 1))
    quarter = service.pay(db, actor=person_actor(person), period="quarter", first_month="2026-11", today=TODAY,
                          now=NOW)
    assert _months(db, quarter) == [date(2026, 11, 1), date(2026, 12, 1)]
    rest = service.pay(db, actor=person_actor(person), period="rest", first_month="2027-01", today=TODAY, now=NOW)
    assert _months(db, rest) == [date(2027, m, 1) for m in range(1, 7)]
    view = service.overview(db, actor=person_actor(person), today=TODAY)
    assert {line.state for line in view.months[4:]} == {"ordered"}
    assert view.payable_months == []


def test_an_overdue_month_is_ordered_without_a_late_fee_as_the_page_shows(db):
    person = worker(db, missed={date(2026, 8, 1)})
    shown = next(gap for gap in service.overview(db, actor=person_actor(person), today=TODAY).gaps
                 if gap.month == date(2026, 8, 1))
    order = service.pay(db, actor=person_actor(person), period="month", first_month="2026-08", today=TODAY,
                        now=NOW)
    amount = flexible_contribution(60, date(2026, 8, 1)).total
    assert (from_fen(order.contributions_fen), from_fen(order.late_fee_fen)) == (amount, Decimal("0.00"))
    assert from_fen(order.amount_fen) == shown.total


def test_paying_twice_for_a_month_on_a_pending_order_is_refused_and_billing_again_adds_nothing(db):
    person = worker(db)
    service.pay(db, actor=person_actor(person), period="month", first_month="2026-11", today=TODAY, now=NOW)
    with pytest.raises(ValidationFailed) as refused:
        service.pay(db, actor=person_actor(person), period="month", first_month="2026-11", today=TODAY, now=NOW)
    assert "month" in refused.value.errors
    service.bill_months(db, person_id=person.id, months=[date(2026, 11, 1)], now=NOW)
    assert len(db.exec(select(ContributionMonth).where(ContributionMonth.person_id == person.id,
                                                       ContributionMonth.bill_id.is_not(None))).all()) == 1
    assert len(db.exec(select(PaymentOrder)).all()) == 1


@pytest.mark.parametrize(("period", "month", "field"), [
    ("week", "2026-11", "period"), ("month", "2025-03", "month"), ("month", "2027-07", "month"),
    ("month", "2026-13", "month"), ("month", "", "month"),
])
def test_months_outside_what_may_be_paid_are_refused_and_nothing_is_billed(db, period, month, field):
    person = worker(db, missed={date(2025, 3, 1)})
    with pytest.raises(ValidationFailed) as refused:
        service.pay(db, actor=person_actor(person), period=period, first_month=month, today=TODAY, now=NOW)
    assert field in refused.value.errors
    assert db.exec(select(Bill)).all() == [] and db.exec(select(PaymentOrder)).all() == []


def test_a_person_reads_only_their_own_orders(db):
    person, other = worker(db), worker(db)
    order = service.pay(db, actor=person_actor(person), period="month", first_month="2026-11", today=TODAY,
                        now=NOW)
    assert service.order(db, actor=person_actor(person), reference=order.reference).amount == from_fen(
        order.amount_fen)
    with pytest.raises(NotFound):
        service.order(db, actor=person_actor(other), reference=order.reference)


def test_a_paid_order_shows_its_months_as_paid(db):
    person = worker(db)
    order = service.pay(db, actor=person_actor(person), period="month", first_month="2026-11", today=TODAY,
                        now=NOW)
    billing.apply_payment(db, reference=order.reference, amount=from_fen(order.amount_fen), external_id="T-1",
                          paid_at=NOW)
    view = service.overview(db, actor=person_actor(person), today=TODAY)
    assert view.months[4].state == "paid" and view.orders[0].order.status == "paid"


def _months(db, order) -> list[date]:
    return list(db.exec(select(Bill.month).join(PaymentOrderBill, PaymentOrderBill.bill_id == Bill.id)
                        .where(PaymentOrderBill.order_id == order.id).order_by(Bill.month)).all())


def test_decimal_only():
    assert isinstance(service.tiers(TODAY)[0].base, Decimal)
