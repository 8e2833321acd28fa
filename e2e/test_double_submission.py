"""In a real browser: a double click on "Create a payment order" makes one order, and going back and creating it again
leaves one order to pay (the older one is replaced and says so)."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlmodel import select

from e2e.a11y import check_a11y
from e2e.conftest import employer_with_a_month_in_arrears
from e2e.pages import Portal


def _orders(sessionmaker, payer_id: int) -> dict[str, str]:
    from portal.models import PaymentOrder

    with sessionmaker() as session:
        return dict(session.exec(select(PaymentOrder.reference, PaymentOrder.status).where(
            PaymentOrder.payer_kind == "employer", PaymentOrder.payer_id == payer_id)).all())


def _employer_id(sessionmaker, credit_code: str) -> int:
    from portal.models import Employer

    with sessionmaker() as session:
        return session.exec(select(Employer.id).where(Employer.credit_code == credit_code)).one()


def test_a_double_click_and_back_then_submit_again_leave_one_payment_order_to_pay(page, lang, live_server,
                                                                                 sessionmaker):
    arrears = employer_with_a_month_in_arrears(sessionmaker)
    admin = arrears.employer
    payer_id = _employer_id(sessionmaker, admin.credit_code)
    employer = Portal(page, lang, data=(admin.name, admin.operator_name, arrears.person_name))
    employer.sign_in("employer", employer_code=admin.credit_code, username=admin.username, password=admin.password)
    employer.follow(employer.area_link("Bills"))

    with page.expect_event("domcontentloaded"):
        employer.button("Create a payment order").dblclick()
    expect(page).to_have_url(re.compile(r"/employer/bills/orders/JLP\w+$"))
    check_a11y(page)
    first = page.url.rsplit("/", 1)[1]
    assert _orders(sessionmaker, payer_id) == {first: "pending"}  # two submissions of one form, one order

    page.go_back()
    expect(page).to_have_url(re.compile(r"/employer/bills$"))
    check_a11y(page)
    employer.follow(employer.button("Create a payment order"))
    second = page.url.rsplit("/", 1)[1]
    orders = _orders(sessionmaker, payer_id)
    assert [status for status in orders.values()].count("pending") == 1 and orders[second] == "pending"

    employer.follow(employer.main.get_by_role("link", name=employer.t("Back to bills"), exact=True))
    waiting = employer.main.locator("#orders-title + *").get_by_role("link")
    expect(waiting).to_have_text([second])
    if second != first:  # the page was shown again with a new form: the first order is replaced, not left waiting
        employer.open(f"{live_server}/employer/bills/orders/{first}")
        expect(employer.main.locator("[data-order-status='voided']")).to_have_text(
            employer.t("Replaced by a newer order"))
