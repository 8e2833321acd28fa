"""The demo employee reads the record, downloads the insurance certificate, and a stranger verifies it by its code."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from e2e.pages import Portal

FILENAME = re.compile(r"^certificate-([A-Z0-9]{16})\.pdf$")


def test_the_employee_reads_the_record_downloads_the_certificate_and_a_stranger_verifies_it(page, open_page, demo):
    employee = demo[("person", "employee")]
    me = Portal(page)
    me.sign_in("person", username=employee.username, password=employee.password)
    expect(page).to_have_url(re.compile(r"/me$"))

    # The record, in Chinese: the grid from July 2020 with the 2023 gap, listed with its reason.
    me.follow(page.locator("nav.area-nav a[href='/me/records']"))
    expect(me.html).to_have_attribute("lang", "zh-CN")
    grid = me.main.locator("#month-grid")
    expect(grid.locator("td[data-from='2020-07']")).to_have_attribute("data-state", "paid")
    expect(grid.locator("td[data-from='2023-01'][data-to='2023-05']")).to_have_attribute("data-state", "gap")
    expect(grid.locator("td[data-from='2020-06']")).to_have_count(0)
    expect(me.main.locator("#gaps tr[data-reason='not_insured']")).to_have_count(1)
    expect(me.main.locator("#account-years tbody tr").first).to_be_visible()
    expect(me.main.locator("#base-chart svg")).to_be_visible()
    months = me.main.locator("[data-figure='cumulative_months']").get_attribute("data-value")
    assert months is not None and int(months) > 60

    # The certificate: one press, one PDF.
    me.follow(me.main.locator("a[href='/me/certificate']"))
    with page.expect_download() as downloading:
        me.main.locator("form[action='/me/certificate'] button[type=submit]").click()
    download = downloading.value
    found = FILENAME.match(download.suggested_filename)
    assert found, download.suggested_filename
    code = found.group(1)
    pdf = Path(download.path()).read_bytes()
    assert pdf.startswith(b"%PDF-") and code.encode() in pdf and len(pdf) > 5000
    me.open("/me/certificate")
    expect(me.main.locator(f"#issued a[href='/me/certificate/{code}.pdf']")).to_be_visible()

    # A stranger, not signed in, checks it by typing the code as printed (in groups of four).
    stranger = Portal(open_page())
    stranger.open("/verify")
    expect(stranger.html).to_have_attribute("lang", "zh-CN")
    stranger.field("code").fill("-".join(code[i:i + 4] for i in range(0, 16, 4)))
    stranger.submit(stranger.main.locator("form[action='/verify']"))
    expect(stranger.page).to_have_url(re.compile(rf"/verify/{code}$"))
    expect(stranger.main.locator("[data-figure='name']")).to_have_text("王*国")
    expect(stranger.main.locator("[data-figure='id_number']")).to_have_text("220102********0111")
    expect(stranger.main.locator("[data-figure='cumulative_months']")).to_have_attribute("data-value", months)
    expect(stranger.main).not_to_contain_text("王建国")

    # The same page in English.
    stranger.switch_language("English")
    expect(stranger.html).to_have_attribute("lang", "en")
    expect(stranger.heading).to_have_text("Certificate verified")
    expect(stranger.main.locator("#verified-periods")).to_contain_text("July 2020")

    # A code that was never issued says so plainly, and shows nobody.
    response = stranger.open("/verify/ABCDEFGHJKMNPQRS")
    assert response is not None and response.status == 404
    expect(stranger.heading).to_have_text("Unknown verification code")
    expect(stranger.main.locator("[data-figure]")).to_have_count(0)
