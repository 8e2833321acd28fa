"""A newly registered person enrols as a flexible worker, chooses a base, pays for a month through the simulated
collector's signed callback, and sees the month paid; in Chinese, then in English."""

from __future__ import annotations

import dataclasses
import os
import re
import urllib.request
from datetime import date

import pytest
from playwright.sync_api import expect

from e2e.conftest import NewPerson, fresh_person
from e2e.pages import Portal


@pytest.fixture
def working_age_person(sessionmaker, live_server) -> NewPerson:
    """Like conftest's ``person`` (a fresh account made through the service layer), but born in 1990, so that
    they are of working age whatever the random draw."""
    from portal import clock
    from portal.auth.principal import SYSTEM
    from portal.db import transaction
    from portal.identifiers import make_resident_id
    from portal.services import accounts

    data = fresh_person()
    data = dataclasses.replace(data, id_number=make_resident_id("220102", date(1990, 5, 17),
                                                                int(data.id_number[14:17])))
    now = clock.now()
    with transaction(sessionmaker) as session:
        accounts.register_person(session, actor=SYSTEM, id_number=data.id_number, name=data.name,
                                 mobile=data.mobile, password=data.password, password_confirm=data.password,
                                 now=now, today=now.astimezone(clock.CHINA).date())
    return data


def collector_confirms(live_server: str, sessionmaker, reference: str) -> int:
    """The tax collection side confirms the order: a signed POST to the live server's callback."""
    from datetime import UTC, datetime

    from sqlmodel import select

    from portal.models import PaymentOrder
    from portal.policy.money import from_fen
    from portal.services.payments import callback_body, sign

    with sessionmaker() as session:
        order = session.exec(select(PaymentOrder).where(PaymentOrder.reference == reference)).one()
        amount = from_fen(order.amount_fen)
    body = callback_body(reference=reference, amount=amount, external_id=f"E2E-{reference}",
                         paid_at=datetime.now(UTC).isoformat())
    request = urllib.request.Request(
        f"{live_server}/payments/callback", data=body, method="POST",
        headers={"Content-Type": "application/json",
                 "X-Signature": sign(os.environ["PORTAL_PAYMENT_SECRET"], body)})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the loopback test server
        return response.status


def test_a_new_person_enrols_chooses_a_base_pays_a_month_and_sees_it_paid(page, working_age_person, live_server,
                                                                          sessionmaker):
    who = working_age_person
    portal = Portal(page)
    portal.sign_in("person", username=who.id_number, password=who.password)
    portal.follow(page.locator("nav.area-nav a[href='/me/flexible']"))
    expect(portal.heading).to_be_visible()

    # Enrol from this month at 100%: a percent outside 60-300 is refused first, at the field.
    portal.fill(base_percent="400")
    response = portal.submit(portal.main.locator("form[action='/me/flexible/enrol']"))
    assert response is not None and response.status == 422
    expect(portal.error_summary().locator("a[href='#field-base_percent']")).to_be_visible()
    expect(portal.field("base_percent")).to_have_value("400")
    portal.fill(base_percent="100")
    portal.submit(portal.main.locator("form[action='/me/flexible/enrol']"))
    expect(portal.flash()).to_be_visible()
    expect(page.locator("#current-percent")).to_have_text("100%")

    # Change the base for this contribution year to 150%.
    portal.fill(base_percent="150")
    portal.submit(portal.main.locator("form[action='/me/flexible/base']"))
    expect(page.locator("#current-percent")).to_have_text("150%")
    this_month = page.locator("#year-months tbody tr:not([data-state='not_enrolled'])").first
    month = this_month.get_attribute("data-month")
    expect(this_month).to_have_attribute("data-state", re.compile(r"^(due|overdue)$"))

    # Pay for that month: a payment order with a reference and how to pay it.
    portal.field("period-month").check()
    portal.field("month").select_option(month)
    portal.submit(portal.main.locator("form[action='/me/flexible/pay']"))
    expect(page).to_have_url(re.compile(r"/me/flexible/orders/JLP\w+$"))
    reference = page.url.rsplit("/", 1)[1]
    expect(portal.main).to_contain_text(f"portal dev pay {reference}")
    expect(page.locator("#order-status .status--pending")).to_be_visible()

    # The collector confirms; the order and the month show as paid.
    assert collector_confirms(live_server, sessionmaker, reference) == 200
    portal.open(f"/me/flexible/orders/{reference}")
    expect(page.locator("#order-status .status--done")).to_be_visible()
    portal.open("/me/flexible")
    expect(page.locator(f"#year-months tr[data-month='{month}']")).to_have_attribute("data-state", "paid")

    portal.switch_language("English")
    expect(portal.heading).to_have_text("Flexible worker contributions")
    expect(page.locator(f"#year-months tr[data-month='{month}']")).to_contain_text("Paid")
