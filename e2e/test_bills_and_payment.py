"""The demo employer sees its bill in arrears with the late fee, pays it, the collector confirms, the bill is paid."""

from __future__ import annotations

import re
import urllib.request
from datetime import UTC, datetime

from playwright.sync_api import expect

from e2e.pages import Portal
from portal import clock


def confirm_as_the_collector(live_server: str, secret: str, sessionmaker, reference: str) -> dict:
    """What the tax collection side does: a signed JSON confirmation POSTed to the portal."""
    import json

    from sqlmodel import select

    from portal.models import PaymentOrder
    from portal.money import from_fen
    from portal.services.payments import callback_body, sign

    with sessionmaker() as session:
        amount = from_fen(session.exec(select(PaymentOrder.amount_fen).where(PaymentOrder.reference == reference)).one())
    body = callback_body(reference=reference, amount=amount, external_id=f"E2E-{reference}",
                         paid_at=datetime.now(UTC).astimezone(clock.CHINA).isoformat())
    request = urllib.request.Request(f"{live_server}/payments/callback", data=body, method="POST",  # noqa: S310
                                     headers={"Content-Type": "application/json", "X-Signature": sign(secret, body)})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the live server on loopback
        return json.loads(response.read())


def test_the_demo_employer_pays_its_bill_in_arrears_through_the_collector(page, demo, live_server, settings,
                                                                          sessionmaker):
    admin = demo[("employer", "admin")]
    employer = Portal(page)
    employer.sign_in("employer", employer_code=admin.employer_code, username=admin.username, password=admin.password)
    expect(page).to_have_url(re.compile(r"/employer$"))

    employer.follow(page.locator("header nav.area-nav a[href='/employer/bills']"))
    expect(page).to_have_url(re.compile(r"/employer/bills$"))
    unpaid = employer.main.locator("tr[data-bill]")
    expect(unpaid.first).to_be_visible()
    in_arrears = unpaid.filter(has=page.locator(".tag--red")).first
    expect(in_arrears).to_be_visible()
    expect(in_arrears.locator("[data-late-fee-today]")).not_to_have_text("¥0.00")  # the late fee, before paying
    expect(employer.main.locator("#late-fee-explanation")).to_have_count(1)

    employer.submit(employer.main.locator("form[action='/employer/bills/pay']"))
    expect(page).to_have_url(re.compile(r"/employer/bills/orders/JLP\w+$"))
    reference = page.url.rsplit("/", 1)[1]
    expect(employer.main.locator("[data-reference]")).to_have_text(reference)
    expect(employer.main.locator("[data-order-status='pending']")).to_be_visible()

    assert confirm_as_the_collector(live_server, settings.payment_secret, sessionmaker, reference) == {"status": "paid"}
    # The order page polls its status (htmx) and shows the payment without a reload.
    expect(employer.main.locator("[data-order-status='paid']")).to_be_visible(timeout=10_000)
    assert confirm_as_the_collector(live_server, settings.payment_secret, sessionmaker, reference) == {
        "status": "duplicate"}

    employer.open("/employer/bills")
    expect(employer.main.locator("tr[data-bill]")).to_have_count(0)
    expect(employer.main.locator("section.card .tag--red")).to_have_count(0)
    expect(employer.main.locator("section.card .tag--green").first).to_be_visible()
