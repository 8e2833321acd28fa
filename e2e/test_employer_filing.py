"""Issue 4's employer journey in one flow, in Chinese and in English: an employer adds an employee, uploads a
declaration with an error, fixes it and submits it; the province bills the month; the employer opens the new
bill, finds the employee's line, pays it, the simulated tax collector confirms, and the bill shows paid."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from e2e.conftest import collector_confirms, fresh_employer, fresh_person, run_billing
from e2e.pages import Portal

# The declaration file as an employer in each language would write it (both headers are accepted).
FILE_HEADER = {"zh_CN": ("公民身份号码,姓名,月工资", "申报.csv"), "en": ("Identity number,Name,Monthly wage", "declaration.csv")}


def _csv(lang: str, id_number: str, name: str, wage: str) -> dict:
    header, filename = FILE_HEADER[lang]
    body = f"{header}\r\n{id_number},{name},{wage}\r\n".encode("utf-8-sig")
    return {"name": filename, "mimeType": "text/csv", "buffer": body}


def _this_month():
    from portal import clock
    from portal.policy.dates import month_of

    return month_of(clock.now().astimezone(clock.CHINA).date())


def _bill_of(sessionmaker, employer_id: int, month) -> int:
    from sqlmodel import select

    from portal.models import Bill

    with sessionmaker() as session:
        return session.exec(select(Bill.id).where(Bill.employer_id == employer_id, Bill.month == month)).one()


def test_an_employer_adds_an_employee_declares_after_fixing_a_row_and_pays_the_months_bill(
        page, lang, sessionmaker, live_server, settings):
    employer = fresh_employer(sessionmaker)
    newcomer = fresh_person()
    month = _this_month()
    portal = Portal(page, lang, data=(employer.name, employer.operator_name, newcomer.name))
    portal.sign_in("employer", employer_code=employer.credit_code, username=employer.username,
                   password=employer.password)
    expect(page).to_have_url(re.compile(r"/employer$"))

    # 增员: the new employee from this month.
    portal.follow(portal.area_link("Employees"))
    expect(portal.heading).to_have_text(portal.t("Employees"))
    portal.fill(id_number=newcomer.id_number, name=newcomer.name, start_month=f"{month:%Y-%m}", wage="6500")
    portal.follow(portal.button("Add employee"))
    expect(page).to_have_url(re.compile(r"/employer/employees$"))
    expect(portal.flash()).to_contain_text(newcomer.name)
    expect(portal.main.locator("#employees")).to_contain_text(newcomer.id_number)

    # The declaration file has a negative wage: refused, by row and column in the visitor's language, nothing saved.
    portal.follow(portal.area_link("Base declaration"))
    expect(portal.heading).to_have_text(portal.t("Contribution base declaration"))
    portal.field("file").set_input_files(_csv(lang, newcomer.id_number, newcomer.name, "-6500"))
    portal.follow(portal.button("Check the file"))
    expect(portal.error_summary()).to_be_visible()
    problem = portal.main.locator("#problems tbody tr")
    expect(problem).to_have_count(1)
    expect(problem.locator("td").nth(0)).to_have_text("2")
    expect(problem.locator("td").nth(1)).to_have_text(portal.t("Monthly wage"))
    expect(problem).to_contain_text("-6500")

    # Fixed, it is previewed with the base and the monthly bill, then submitted.
    portal.field("file").set_input_files(_csv(lang, newcomer.id_number, newcomer.name, "8800"))
    portal.follow(portal.button("Check the file"))
    expect(page).to_have_url(re.compile(r"/employer/declarations/preview/[\w-]+$"))
    line = portal.main.locator(f"#preview tr[data-person='{newcomer.id_number}']")
    expect(line.locator("td").nth(2)).to_have_text("¥8,800.00")  # the base: within the floor and cap
    monthly = line.locator("td").last.inner_text().strip()
    portal.follow(portal.button("Submit the declaration"))
    expect(page).to_have_url(re.compile(r"/employer/declarations\?year=\d{4}$"))
    expect(portal.flash()).to_be_visible()
    expect(portal.main.locator("#declaration-status")).to_contain_text("1")

    # The province's monthly batch bills the month (as an operator runs `portal billing run --month`).
    run_billing(sessionmaker, month)
    bill_id = _bill_of(sessionmaker, employer.id, month)

    # The employer opens the new bill and finds the new employee's line, at the declared base.
    portal.follow(portal.area_link("Bills"))
    expect(portal.heading).to_have_text(portal.t("Bills"))
    expect(portal.main.locator(f"tr[data-bill='{bill_id}']")).to_be_visible()
    bill = portal.main.locator(f"section.card[aria-labelledby='bill-{bill_id}-title']")
    portal.follow(bill.locator(f"a[href='/employer/bills/{bill_id}']"))  # the bill's lines, a page of their own
    employee_line = portal.main.locator("tbody tr").filter(
        has=page.get_by_role("rowheader", name=newcomer.name, exact=True))
    expect(employee_line).to_be_visible()
    expect(employee_line.locator("td").nth(1)).to_have_text("¥8,800.00")  # after the identity number: the base
    expect(employee_line.locator("td").last).to_have_text(monthly)  # what the preview announced
    portal.follow(portal.main.get_by_role("link", name=portal.t("Back to bills"), exact=True))

    # It pays: a payment order with a reference; the tax collector confirms it.
    portal.follow(portal.button("Create a payment order"))
    expect(page).to_have_url(re.compile(r"/employer/bills/orders/JLP\w+$"))
    reference = page.url.rsplit("/", 1)[1]
    expect(portal.main.locator("[data-order-status='pending']")).to_be_visible()
    assert collector_confirms(live_server, settings.payment_secret, sessionmaker, reference) == {"status": "paid"}
    portal.open(f"/employer/bills/orders/{reference}")  # (test_bills_and_payment waits for the page's own poll)
    expect(portal.main.locator("[data-order-status='paid']")).to_be_visible()

    # The bill shows paid, and nothing is left to pay.
    portal.follow(portal.area_link("Bills"))
    expect(portal.main.locator("tr[data-bill]")).to_have_count(0)
    expect(bill.locator(".tag--green")).to_have_text(portal.t("Paid"))
