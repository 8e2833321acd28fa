"""The demo employer's administrator adds an employee and declares the year's base, fixing a bad row on the way."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from e2e.conftest import fresh_person
from e2e.pages import Portal


def _csv(id_number: str, name: str, wage: str) -> dict:
    body = f"公民身份号码,姓名,月工资\r\n{id_number},{name},{wage}\r\n".encode("utf-8-sig")
    return {"name": "申报.csv", "mimeType": "text/csv", "buffer": body}


def test_the_employer_adds_an_employee_and_declares_the_base_after_fixing_a_row(page, demo):
    admin = demo[("employer", "admin")]
    newcomer = fresh_person()
    portal = Portal(page)
    portal.sign_in("employer", employer_code=admin.employer_code, username=admin.username, password=admin.password)
    expect(page).to_have_url(re.compile(r"/employer$"))

    # 增员: the new employee from this month.
    portal.follow(page.locator("header nav.area-nav a[href='/employer/employees']"))
    month = page.evaluate("() => new Date().toISOString().slice(0, 7)")
    portal.fill(id_number=newcomer.id_number, name=newcomer.name, start_month=month, wage="6500")
    portal.submit(portal.main.locator("form[action='/employer/employees']"))
    expect(page).to_have_url(re.compile(r"/employer/employees$"))
    expect(portal.flash()).to_contain_text(newcomer.name)
    expect(portal.main.locator("#employees")).to_contain_text(newcomer.id_number)

    # The declaration file has a negative wage: refused, by row and column, nothing saved.
    portal.follow(page.locator("header nav.area-nav a[href='/employer/declarations']"))
    upload = portal.main.locator("form[action='/employer/declarations/upload']")
    portal.field("file").set_input_files(_csv(newcomer.id_number, newcomer.name, "-6500"))
    portal.submit(upload)
    expect(portal.error_summary()).to_be_visible()
    problem = portal.main.locator("#problems tbody tr")
    expect(problem).to_have_count(1)
    expect(problem.locator("td").first).to_have_text("2")
    expect(problem).to_contain_text("-6500")

    # Fixed, it is previewed with the base and the monthly bill, then submitted.
    portal.field("file").set_input_files(_csv(newcomer.id_number, newcomer.name, "8800"))
    portal.submit(upload)
    expect(page).to_have_url(re.compile(r"/employer/declarations/preview/[\w-]+$"))
    line = portal.main.locator(f"#preview tr[data-person='{newcomer.id_number}']")
    expect(line).to_contain_text("8,800.00")
    portal.submit(portal.main.locator("form[action^='/employer/declarations/preview/']"))
    expect(page).to_have_url(re.compile(r"/employer/declarations\?year=\d{4}$"))
    expect(portal.flash()).to_be_visible()
    expect(portal.main.locator("#declaration-status")).to_contain_text("1")
