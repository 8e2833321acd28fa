"""A person at a service counter: staff file their record correction, a colleague will handle it, and the
person finds the request online."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from e2e.conftest import fresh_staff, one_time_code
from e2e.pages import Portal


def test_staff_file_a_correction_at_the_counter_and_the_person_follows_it_online(page, open_page, demo,
                                                                                sessionmaker):
    employee = demo[("person", "employee")]
    clerk = fresh_staff(sessionmaker, "handler")
    staff = Portal(page)
    staff.sign_in("staff", username=clerk.username, password=clerk.password, otp=one_time_code(clerk.totp_secret))
    expect(page).to_have_url(re.compile(r"/staff$"))
    staff.follow(page.locator("header nav.area-nav a[href='/staff/counter/correction']"))

    form = staff.main.locator("form[action='/staff/counter/correction']")
    staff.fill(id_number=employee.username, months="2019-03 至 2019-05", details="申请人出示了2019年的劳动合同和工资条。")
    form.locator("#field-what-missing").check()
    staff.submit(form)  # without the signed commitment
    expect(staff.field_error("commitment")).to_be_visible()
    expect(staff.field("id_number")).to_have_value(employee.username)

    form.locator("#commitment").check()
    staff.submit(form)
    expect(page).to_have_url(re.compile(r"/staff/cases/JL\d{14}$"))
    reference = page.url.rsplit("/", 1)[-1]
    expect(staff.main.locator("#field-decision-approve")).to_have_count(0)  # the filer may not decide it

    person = Portal(open_page())
    person.sign_in("person", username=employee.username, password=employee.password)
    person.open("/me/requests")
    expect(person.main.locator(f"a[href='/me/requests/{reference}']")).to_be_visible()
