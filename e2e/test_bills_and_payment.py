"""An employer sees its bill in arrears with the late fee, pays it, the collector confirms, the bill is paid;
in Chinese and in English. (Each run has an employer of its own with a month in arrears, as the demo employer has.)"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from e2e.conftest import collector_confirms, employer_with_a_month_in_arrears
from e2e.pages import Portal


def test_an_employer_pays_its_bill_in_arrears_through_the_collector(page, lang, live_server, settings, sessionmaker):
    arrears = employer_with_a_month_in_arrears(sessionmaker)
    admin = arrears.employer
    employer = Portal(page, lang, data=(admin.name, admin.operator_name, arrears.person_name))
    employer.sign_in("employer", employer_code=admin.credit_code, username=admin.username, password=admin.password)
    expect(page).to_have_url(re.compile(r"/employer$"))

    employer.follow(employer.area_link("Bills"))
    expect(page).to_have_url(re.compile(r"/employer/bills$"))
    in_arrears = employer.main.locator(f"tr[data-bill='{arrears.bill_id}']")
    expect(employer.main.locator("tr[data-bill]")).to_have_count(1)
    expect(in_arrears.locator(".tag--red")).to_have_text(employer.t("In arrears"))
    expect(in_arrears.locator("[data-late-fee-today]")).not_to_have_text("¥0.00")  # the late fee, before paying
    expect(employer.main.locator("#late-fee-explanation")).to_have_count(1)

    # Each bill's lines are on a page of their own (an employer of thousands is not sent every line of every bill).
    employer.follow(employer.main.locator(f"a[href='/employer/bills/{arrears.bill_id}']"))
    expect(employer.main.locator("[data-figure='lines']")).to_have_text("1")
    expect(employer.main.locator("tbody th[scope='row']")).to_have_text(arrears.person_name)
    employer.follow(employer.main.get_by_role("link", name=employer.t("Back to bills"), exact=True))

    employer.follow(employer.button("Create a payment order"))
    expect(page).to_have_url(re.compile(r"/employer/bills/orders/JLP\w+$"))
    reference = page.url.rsplit("/", 1)[1]
    expect(employer.main.locator("[data-reference]")).to_have_text(reference)
    expect(employer.main.locator("[data-order-status='pending']")).to_be_visible()

    assert collector_confirms(live_server, settings.payment_secret, sessionmaker, reference) == {"status": "paid"}
    # The order page polls its status (htmx) and shows the payment without a reload.
    expect(employer.main.locator("[data-order-status='paid']")).to_have_text(employer.t("Paid"), timeout=10_000)
    assert collector_confirms(live_server, settings.payment_secret, sessionmaker, reference) == {
        "status": "duplicate"}

    employer.follow(employer.main.get_by_role("link", name=employer.t("Back to bills"), exact=True))
    expect(employer.main.locator("tr[data-bill]")).to_have_count(0)
    expect(employer.main.locator("section.card .tag--red")).to_have_count(0)
    paid = employer.main.locator(f"section.card[aria-labelledby='bill-{arrears.bill_id}-title']")
    expect(paid.locator(".tag--green")).to_have_text(employer.t("Paid"))
