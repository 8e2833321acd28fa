"""Payment orders and the collector's confirmations: signatures, wrong amounts and replays."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlmodel import select

from portal.errors import Conflict, NotFound, ValidationFailed
from portal.models import Bill, ContributionMonth, Employer, Payment
from portal.policy.money import from_fen
from portal.policy.rules.late_fee import late_fee
from portal.services import billing
from portal.services.payments import callback_body, sign, verify_signature
from tests import factories
from tests.records.support import NOW, employer_actor, person_actor, spell

MONTH = date(2026, 10, 1)
PAID_AT = datetime(2026, 10, 20, 3, 0, tzinfo=UTC)


def test_a_signature_over_the_exact_body_is_accepted():
    body = callback_body(reference="JLP1", amount=Decimal("10.00"), external_id="T1", paid_at="2026-10-20")
    assert verify_signature("secret", body, sign("secret", body))
    assert verify_signature("secret", body, sign("secret", body).upper())


@pytest.mark.parametrize("signature", ["", None, "00" * 32, "not hex at all", "签名"])
def test_a_missing_or_wrong_signature_is_refused(signature):
    assert not verify_signature("secret", b"{}", signature)


def test_a_signature_for_another_body_or_secret_is_refused():
    body = b'{"amount":"10.00"}'
    assert not verify_signature("secret", b'{"amount":"99.00"}', sign("secret", body))
    assert not verify_signature("other", body, sign("secret", body))
    assert not verify_signature("", body, sign("", body))


def _billed(db):
    operator = factories.operator(db)
    spell(db, employer=db.get(Employer, operator.employer_id), wage_fen=600000)
    billing.run_billing(db, month=MONTH, now=NOW)
    bill = db.exec(select(Bill)).one()
    return operator, bill


def test_paying_an_order_marks_its_bills_and_months_paid(db):
    operator, bill = _billed(db)
    order = billing.create_payment_order(db, actor=employer_actor(operator), bill_ids=[bill.id],
                                         pay_on=date(2026, 10, 20), now=PAID_AT)
    assert order.late_fee_fen == 0 and order.amount_fen == bill.total_fen
    result = billing.apply_payment(db, reference=order.reference, amount=from_fen(order.amount_fen),
                                   external_id="TAX-1", paid_at=PAID_AT)
    assert not result.duplicate
    db.expire_all()
    assert db.get(Bill, bill.id).status == "paid"
    assert {row.status for row in db.exec(select(ContributionMonth)).all()} == {"paid"}


def test_the_same_confirmation_twice_credits_once(db):
    operator, bill = _billed(db)
    order = billing.create_payment_order(db, actor=employer_actor(operator), bill_ids=[bill.id],
                                         pay_on=date(2026, 10, 20), now=PAID_AT)
    amount = from_fen(order.amount_fen)
    billing.apply_payment(db, reference=order.reference, amount=amount, external_id="TAX-1", paid_at=PAID_AT)
    again = billing.apply_payment(db, reference=order.reference, amount=amount, external_id="TAX-1", paid_at=PAID_AT)
    assert again.duplicate
    assert len(db.exec(select(Payment)).all()) == 1
    with pytest.raises(Conflict):
        billing.apply_payment(db, reference=order.reference, amount=amount, external_id="TAX-2", paid_at=PAID_AT)
    assert len(db.exec(select(Payment)).all()) == 1


def test_a_wrong_amount_or_unknown_reference_is_refused_and_changes_nothing(db):
    operator, bill = _billed(db)
    order = billing.create_payment_order(db, actor=employer_actor(operator), bill_ids=[bill.id],
                                         pay_on=date(2026, 10, 20), now=PAID_AT)
    with pytest.raises(ValidationFailed):
        billing.apply_payment(db, reference=order.reference, amount=from_fen(order.amount_fen) - Decimal("0.01"),
                              external_id="TAX-1", paid_at=PAID_AT)
    with pytest.raises(NotFound):
        billing.apply_payment(db, reference="JLP-UNKNOWN", amount=Decimal("1.00"), external_id="TAX-2",
                              paid_at=PAID_AT)
    assert db.exec(select(Payment)).all() == []
    assert db.get(Bill, bill.id).status == "open"


def test_an_order_for_a_bill_in_arrears_adds_the_late_fee_to_the_payment_date(db):
    operator, bill = _billed(db)
    billing.mark_arrears(db, today=date(2026, 11, 1))
    pay_on = date(2026, 11, 30)
    order = billing.create_payment_order(db, actor=employer_actor(operator), bill_ids=[bill.id], pay_on=pay_on,
                                         now=NOW)
    fee = late_fee(from_fen(bill.total_fen), bill.due_date, pay_on).fee
    assert fee > 0 and from_fen(order.late_fee_fen) == fee
    assert from_fen(order.amount_fen) == from_fen(bill.total_fen) + fee
    with pytest.raises(Conflict):  # paid after the order's date: the fee has grown
        billing.apply_payment(db, reference=order.reference, amount=from_fen(order.amount_fen),
                              external_id="TAX-9", paid_at=datetime(2026, 12, 5, tzinfo=UTC))


def test_nobody_can_order_payment_of_another_payers_bill(db):
    _, bill = _billed(db)
    stranger = factories.operator(db, username="other")
    with pytest.raises(NotFound):
        billing.create_payment_order(db, actor=employer_actor(stranger), bill_ids=[bill.id],
                                     pay_on=date(2026, 10, 20), now=PAID_AT)
    with pytest.raises(NotFound):
        billing.create_payment_order(db, actor=person_actor(factories.person(db)), bill_ids=[bill.id],
                                     pay_on=date(2026, 10, 20), now=PAID_AT)
