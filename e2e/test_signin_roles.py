"""Employer operators and provincial staff sign in and reach their own areas."""

from __future__ import annotations

import random
import re

from playwright.sync_api import expect

from e2e.conftest import one_time_code
from e2e.pages import Portal


def test_an_employer_operator_signs_in_and_sees_the_dashboard_and_the_operators_page(page, demo):
    admin = demo[("employer", "admin")]
    portal = Portal(page)
    portal.open("/")
    portal.follow(portal.main.locator("a[href='/login?account_type=employer']"))
    expect(portal.main.locator("a.tabs__link[aria-current=page]")).to_have_attribute(
        "href", "/login?account_type=employer")

    portal.sign_in("employer", employer_code=admin.employer_code, username=admin.username, password=admin.password,
                   open_form=False)
    expect(page).to_have_url(re.compile(r"/employer$"))
    expect(portal.heading).not_to_be_empty()
    expect(portal.main.locator(".summary-list")).to_contain_text(admin.employer_code)
    expect(portal.main.locator(".tag--green")).to_be_visible()  # the demo employer is verified
    area = page.locator("header nav.area-nav")
    expect(area.locator("a[href='/employer']")).to_have_attribute("aria-current", "page")

    portal.follow(area.locator("a[href='/employer/operators']"))
    expect(page).to_have_url(re.compile(r"/employer/operators$"))
    expect(area.locator("a[href='/employer/operators']")).to_have_attribute("aria-current", "page")
    rows = portal.main.locator("table tbody tr")
    expect(rows).to_have_count(2)  # the demo administrator and the clerk
    expect(rows.filter(has_text="clerk")).to_have_count(1)
    expect(portal.main.locator("form[action='/employer/operators']")).to_be_visible()


def test_a_staff_member_signs_in_with_a_one_time_code_and_sees_the_workbench_and_employer_verification(page, demo):
    handler = demo[("staff", "handler")]
    portal = Portal(page)
    portal.open("/login?account_type=staff")
    expect(portal.field("otp")).to_have_attribute("autocomplete", "one-time-code")

    portal.sign_in("staff", username=handler.username, password=handler.password,
                   otp=one_time_code(handler.totp_secret), open_form=False)
    expect(page).to_have_url(re.compile(r"/staff$"))
    expect(page.locator("body")).to_have_class(re.compile(r"\bstaff\b"))
    expect(portal.main.locator("a[href='/staff/queue?kind=employer_verification']")).to_be_visible()
    expect(portal.main.locator(".big-number")).to_have_text(re.compile(r"^\d+$"))

    portal.follow(portal.verify_employers_link())
    expect(page).to_have_url(re.compile(r"/staff/(employers$|queue\?kind=employer_verification)"))
    expect(portal.heading).not_to_be_empty()


def test_staff_cannot_sign_in_without_a_valid_one_time_code(page, demo):
    reviewer = demo[("staff", "reviewer")]
    portal = Portal(page)
    portal.open("/login?account_type=staff")
    response = portal.sign_in("staff", username=reviewer.username, password=reviewer.password, otp="000000",
                              open_form=False)
    assert response.status == 400
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator("#sign-in-problem")).to_be_visible()
    expect(portal.field("otp")).to_have_value("")  # never echoed back
    expect(portal.field("password")).to_have_value("")


def test_a_new_employer_registers_and_its_administrator_sees_it_waiting_for_verification(page):
    from portal.identifiers import make_credit_code

    code = make_credit_code("220100", "".join(random.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9)))
    username = f"admin{random.randrange(10**6)}"
    password = f"Changbai-Mountain-{random.randrange(10**6)}"
    portal = Portal(page)
    portal.open("/register/employer")
    form = portal.main.locator("form[action='/register/employer']")
    portal.fill(credit_code=code, employer_name="吉林测试建材有限公司", operator_name="韩梅", username=username,
                mobile="13904319999", password=password, password_confirm=password)
    response = portal.submit(form)  # no prefecture chosen
    assert response.status == 422
    expect(portal.error_summary().locator("a[href='#field-region']")).to_be_visible()
    expect(portal.field("credit_code")).to_have_value(code)

    portal.field("region").select_option("220100")
    portal.fill(password=password, password_confirm=password)
    portal.submit(form)
    expect(page).to_have_url(re.compile(r"/login\?account_type=employer$"))
    expect(portal.flash()).to_be_visible()

    portal.sign_in("employer", employer_code=code, username=username, password=password, open_form=False)
    expect(page).to_have_url(re.compile(r"/employer$"))
    expect(portal.heading).to_have_text("吉林测试建材有限公司")
    expect(portal.main.locator(".tag--yellow")).to_be_visible()  # pending verification
