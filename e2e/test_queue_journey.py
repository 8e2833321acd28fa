"""A request through the handling queue: an employer registers, staff approve its verification, the employer sees it."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from e2e.conftest import fresh_staff, one_time_code
from e2e.pages import Portal

CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _unique_code_part() -> str:
    number = uuid.uuid4().int
    chars = []
    for _ in range(9):
        number, index = divmod(number, len(CREDIT_CODE_CHARS))
        chars.append(CREDIT_CODE_CHARS[index])
    return "".join(chars)


def test_a_new_employer_is_verified_through_the_handling_queue_and_told_so(page, open_page, demo, sessionmaker):
    from portal.identifiers import make_credit_code

    code = make_credit_code("220100", _unique_code_part())
    username = f"admin{uuid.uuid4().hex[:8]}"
    password = f"Songhua-Lake-{uuid.uuid4().hex[:8]}"
    name = "吉林队列测试机械有限公司"

    # The employer registers and its administrator sees it pending, with the verification request.
    employer = Portal(page)
    employer.open("/register/employer")
    employer.fill(credit_code=code, employer_name=name, operator_name="韩梅", username=username,
                  mobile="13904318888", password=password, password_confirm=password)
    employer.field("region").select_option("220100")
    employer.submit(employer.main.locator("form[action='/register/employer']"))
    expect(page).to_have_url(re.compile(r"/login\?account_type=employer$"))
    employer.sign_in("employer", employer_code=code, username=username, password=password, open_form=False)
    expect(page).to_have_url(re.compile(r"/employer$"))
    expect(employer.heading).to_have_text(name)
    expect(employer.main.locator(".tag--yellow")).to_be_visible()  # pending verification

    employer.follow(page.locator("header nav.area-nav a[href='/employer/requests']"))
    expect(page).to_have_url(re.compile(r"/employer/requests$"))
    rows = employer.main.locator("table tbody tr")
    expect(rows).to_have_count(1)
    reference = rows.first.locator("td a").first.inner_text().strip()
    assert reference
    expect(rows.first.locator(".tag--green")).to_have_count(0)

    # The supervisor (handler rights included) finds the case in the queue, takes it and approves it.
    # (One of the test's own, with the demo supervisor's roles: a one-time code is accepted once per 30-s step
    # and account, and another test has just signed the demo supervisor in.)
    supervisor = fresh_staff(sessionmaker, "supervisor", "admin")
    staff_page = open_page()
    staff = Portal(staff_page)
    staff.sign_in("staff", username=supervisor.username, password=supervisor.password,
                  otp=one_time_code(supervisor.totp_secret))
    expect(staff_page).to_have_url(re.compile(r"/staff$"))
    staff.open("/staff/queue?kind=employer_verification")
    expect(staff.main.locator("form[action='/staff/queue/take'] button")).to_be_visible()
    staff.follow(staff.main.locator(f"#queue-results a[href='/staff/cases/{reference}']"))
    expect(staff_page).to_have_url(re.compile(rf"/staff/cases/{reference}$"))
    expect(staff.main).to_contain_text(code)

    staff.follow(staff.main.locator("button[name=action][value=take]"))
    expect(staff_page).to_have_url(re.compile(rf"/staff/cases/{reference}$"))
    expect(staff.main.locator(".tag--blue").first).to_be_visible()  # being handled
    decision = staff.main.locator(f"form[action='/staff/cases/{reference}/action']:has(#field-decision)")
    decision.locator("#field-decision-approve").check()
    decision.locator("#field-reason_code").select_option("conditions_met")
    decision.locator("#field-note").fill("营业执照与统一社会信用代码核对一致。")
    staff.submit(decision)
    expect(staff_page).to_have_url(re.compile(r"/staff/queue$"))
    expect(staff.flash()).to_contain_text(reference)

    # Back with the employer: the request is approved, the employer verified, and a notice waits.
    employer.open("/employer/requests")
    row = employer.main.locator("table tbody tr", has_text=reference)
    expect(row.locator(".tag--green")).to_be_visible()
    badge = page.locator("header a.site-header__notices .badge")
    expect(badge).to_have_text(re.compile(r"\d+"))

    employer.open("/employer")
    expect(employer.main.locator(".tag--green")).to_be_visible()
    expect(employer.main.locator(".tag--yellow")).to_have_count(0)

    employer.follow(page.locator("header a.site-header__notices"))
    expect(page).to_have_url(re.compile(r"/employer/notices$"))
    items = employer.main.locator(".notice-list__item")
    expect(items.first).to_be_visible()
    expect(items.filter(has=page.locator(f"a[href='/employer/requests/{reference}']")).first).to_be_visible()
    employer.follow(employer.main.get_by_role("button", name=employer.t("Mark all as read")))
    expect(badge).to_have_count(0)  # read now
