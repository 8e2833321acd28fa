"""The employer's bills page: the figures are the policy's, the late fee to a chosen date, payment orders."""

from __future__ import annotations

import re
from datetime import date

from sqlmodel import select

from portal import i18n
from portal.models import Bill, Employer, PaymentOrder, PaymentOrderBill
from portal.policy.money import from_fen
from portal.policy.rules.late_fee import late_fee
from portal.services import billing
from tests import factories
from tests.helpers import error_links, sign_in_operator, snapshot, token_from
from tests.records.support import NOW, employer_actor, spell

OCTOBER, NOVEMBER = date(2026, 10, 1), date(2026, 11, 1)
TODAY = date(2026, 11, 28)  # the frozen clock's day in China


def employer_in_arrears(db, *, username="admin"):
    """An employer with one employee, billed for October (in arrears by now) and November (due on the 25th)."""
    operator = factories.operator(db, username=username)
    employer = db.get(Employer, operator.employer_id)
    spell(db, employer=employer, start=date(2026, 1, 1), wage_fen=600000)
    for month in (OCTOBER, NOVEMBER):
        billing.run_billing(db, month=month, now=NOW)
    billing.mark_arrears(db, today=TODAY)
    bills = {bill.month: bill for bill in db.exec(select(Bill).where(Bill.payer_id == employer.id)).all()}
    db.commit()
    return operator, employer, bills


def money(amount) -> str:
    return i18n.format_money(amount, "en")


def cell(html: str, bill: Bill, name: str) -> str:
    row = re.search(rf'<tr data-bill="{bill.id}">(.*?)</tr>', html, re.S).group(1)
    return re.search(rf"<td class=\"num\" {name}[^>]*>(.*?)</td>", row, re.S).group(1).strip()


def test_the_bills_page_shows_each_bill_with_the_late_fee_the_policy_gives_today(client, db, frozen_clock):
    operator, employer, bills = employer_in_arrears(db)
    assert sign_in_operator(client, operator, employer.credit_code).status_code == 303

    page = client.get("/employer/bills?lang=en")
    assert page.status_code == 200
    october = bills[OCTOBER]
    amount = from_fen(october.total_fen)
    fee_today = late_fee(amount, october.due_date, TODAY).fee
    assert fee_today > 0
    assert cell(page.text, october, "data-late-fee-today") == money(fee_today)
    assert "In arrears" in page.text and "How this was calculated" in page.text
    assert 'data-parameter="late_fee_daily_rate"' in page.text
    both = sum(from_fen(b.total_fen) + late_fee(from_fen(b.total_fen), b.due_date, TODAY).fee for b in bills.values())
    assert f'data-figure="today">{money(both)}<' in page.text
    assert 'href="/employer/bills"' in page.text and 'aria-current="page"' in page.text


def test_the_late_fee_to_a_chosen_payment_date_is_shown_before_paying(client, db, frozen_clock):
    operator, employer, bills = employer_in_arrears(db)
    sign_in_operator(client, operator, employer.credit_code)

    page = client.get("/employer/bills?lang=en&pay_on=2026-12-15")
    october = bills[OCTOBER]
    fee = late_fee(from_fen(october.total_fen), october.due_date, date(2026, 12, 15)).fee
    assert cell(page.text, october, "data-late-fee-on-date") == money(fee)
    assert cell(page.text, october, "data-total-on-date") == money(from_fen(october.total_fen) + fee)
    assert 'name="pay_on" value="2026-12-15"' in page.text


def test_a_payment_date_in_the_past_or_not_a_date_is_refused_with_a_message_at_the_field(client, db, frozen_clock):
    operator, employer, _ = employer_in_arrears(db)
    sign_in_operator(client, operator, employer.credit_code)
    for bad in ("2026-11-01", "next friday"):
        page = client.get(f"/employer/bills?lang=en&pay_on={bad}")
        assert error_links(page.text) == ["pay_on"]
        assert f'value="{bad}"' in page.text


def test_paying_creates_a_payment_order_with_a_reference_and_the_late_fee_to_the_date(client, db, frozen_clock):
    operator, employer, bills = employer_in_arrears(db)
    sign_in_operator(client, operator, employer.credit_code)
    token = token_from(client, "/employer/bills")
    october = bills[OCTOBER]

    response = client.post("/employer/bills/pay", data={"csrf_token": token, "bill": [str(october.id)],
                                                        "pay_on": "2026-12-01"})
    assert response.status_code == 303
    reference = response.headers["location"].rsplit("/", 1)[1]
    order = db.exec(select(PaymentOrder).where(PaymentOrder.reference == reference)).one()
    fee = late_fee(from_fen(october.total_fen), october.due_date, date(2026, 12, 1)).fee
    assert from_fen(order.late_fee_fen) == fee
    assert from_fen(order.amount_fen) == from_fen(october.total_fen) + fee
    assert [link.bill_id for link in db.exec(select(PaymentOrderBill)).all()] == [october.id]
    db.commit()

    shown = client.get(f"/employer/bills/orders/{reference}?lang=en")
    assert shown.status_code == 200
    assert reference in shown.text and money(from_fen(order.amount_fen)) in shown.text
    assert "Waiting for payment" in shown.text and 'hx-trigger="every 5s"' in shown.text
    assert f'href="/employer/bills/orders/{reference}"' in shown.text  # works without JavaScript
    status = client.get(f"/employer/bills/orders/{reference}/status")
    assert status.status_code == 200 and "<html" not in status.text
    assert reference in client.get("/employer/bills").text  # listed as waiting


def test_paying_nothing_is_refused_and_creates_no_order(client, db, engine, frozen_clock):
    operator, employer, _ = employer_in_arrears(db)
    sign_in_operator(client, operator, employer.credit_code)
    token = token_from(client, "/employer/bills")
    before = snapshot(engine)
    response = client.post("/employer/bills/pay?lang=en", data={"csrf_token": token, "pay_on": "2026-12-01"})
    assert response.status_code == 422
    assert error_links(response.text) == ["bills"]
    assert snapshot(engine) == before


def test_another_employer_cannot_see_or_pay_the_bills_or_the_order(client, db, frozen_clock):
    operator, employer, bills = employer_in_arrears(db)
    order = billing.create_payment_order(db, actor=employer_actor(operator), bill_ids=[bills[OCTOBER].id],
                                         pay_on=TODAY, now=NOW)
    other = factories.operator(db, username="other")
    code = db.get(Employer, other.employer_id).credit_code
    db.commit()
    sign_in_operator(client, other, code)
    assert order.reference not in client.get("/employer/bills").text
    assert client.get(f"/employer/bills/orders/{order.reference}").status_code == 404
    token = token_from(client, "/employer/bills")
    refused = client.post("/employer/bills/pay", data={"csrf_token": token, "bill": [str(bills[OCTOBER].id)],
                                                       "pay_on": "2026-12-01"})
    assert refused.status_code == 404
