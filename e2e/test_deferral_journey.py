"""Issue 5's journey: an employer asks to defer a month in arrears; a handler returns the request for
information, the employer answers, the handler recommends approval, a reviewer agrees, and the employer
sees the decision, a notice, and the month deferred on its bill."""

from __future__ import annotations

import re
import threading
import time
import uuid
from datetime import UTC, date, datetime

from playwright.sync_api import expect

from e2e.conftest import one_time_code
from e2e.pages import Portal

CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
PASSWORD = "Songhua-Deferral-2026"


def _wait_for_an_unused_step(sessionmaker, totp_secret: str) -> None:
    """A one-time code is accepted once: if this account already signed in during this 30-s step, wait for the next."""
    from sqlmodel import select

    from portal.auth.totp import STEP_SECONDS
    from portal.models import StaffMember

    with sessionmaker() as session:
        last_step = session.exec(select(StaffMember.totp_last_step).where(StaffMember.totp_secret == totp_secret)).one()
    while int(time.time()) // STEP_SECONDS <= (last_step or 0):
        threading.Event().wait(STEP_SECONDS - time.time() % STEP_SECONDS + 0.2)


def employer_with_a_month_in_arrears(sessionmaker) -> tuple[str, str]:
    """A verified employer of its own (the demo employer's bills belong to another test), with one employee
    whose last month's bill is in arrears. Returns (credit code, operator user name)."""
    from portal import clock
    from portal.auth.passwords import hash_password
    from portal.db import transaction
    from portal.identifiers import make_credit_code, make_resident_id
    from portal.models import (
        Bill,
        BillLine,
        ContributionMonth,
        Employer,
        EmployerOperator,
        EmploymentSpell,
        Person,
    )
    from portal.money import from_fen, to_fen
    from portal.policy.dates import add_months, month_of
    from portal.policy.rules.contribution import employee_contribution
    from portal.services import billing

    number = uuid.uuid4().int
    code_part = "".join(CREDIT_CODE_CHARS[(number >> (5 * i)) % len(CREDIT_CODE_CHARS)] for i in range(9))
    code = make_credit_code("220100", code_part)
    username = f"defer{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC)
    today = now.astimezone(clock.CHINA).date()
    month = add_months(month_of(today), -1)
    with transaction(sessionmaker) as session:
        employer = Employer(credit_code=code, name="吉林缓缴测试有限公司", region="220100", status="verified",
                            created_at=now)
        session.add(employer)
        session.flush()
        session.add(EmployerOperator(employer_id=employer.id, username=username, name="林会计", mobile="13904317777",
                                     password_hash=hash_password(PASSWORD), is_admin=True, created_at=now))
        birth = date(1980, 1, 1 + number % 28)
        person = Person(id_number=make_resident_id("220102", birth, number % 997), name="高志远", birth_date=birth,
                        sex="male", created_at=now)
        session.add(person)
        session.flush()
        session.add(EmploymentSpell(person_id=person.id, employer_id=employer.id, start_month=month,
                                    wage_fen=600000, created_at=now))
        result = employee_contribution(from_fen(600000), month)
        row = ContributionMonth(person_id=person.id, month=month, base_fen=to_fen(result.base),
                                employer_part_fen=to_fen(result.employer), individual_part_fen=to_fen(result.individual),
                                personal_account_fen=to_fen(result.personal_account), source="employer_filing",
                                status="arrears", employer_id=employer.id, created_at=now)
        session.add(row)
        session.flush()
        total = row.employer_part_fen + row.individual_part_fen
        bill = Bill(payer_kind="employer", payer_id=employer.id, employer_id=employer.id, month=month,
                    due_date=billing.month_terms(month).due_date, total_fen=total, status="arrears", created_at=now)
        session.add(bill)
        session.flush()
        row.bill_id = bill.id
        session.add(BillLine(bill_id=bill.id, contribution_month_id=row.id, person_id=person.id, base_fen=row.base_fen,
                             employer_part_fen=row.employer_part_fen, individual_part_fen=row.individual_part_fen,
                             amount_fen=total))
    return code, username


def staff_portal(open_page, demo, sessionmaker, label: str) -> Portal:
    account = demo[("staff", label)]
    staff = Portal(open_page())
    _wait_for_an_unused_step(sessionmaker, account.totp_secret)
    staff.sign_in("staff", username=account.username, password=account.password,
                  otp=one_time_code(account.totp_secret))
    expect(staff.page).to_have_url(re.compile(r"/staff$"))
    return staff


def decide(staff: Portal, reference: str, decision: str, reason: str, note: str = "") -> None:
    staff.open(f"/staff/cases/{reference}")
    form = staff.main.locator(f"form[action='/staff/cases/{reference}/action']:has(#field-decision)")
    form.locator(f"#field-decision-{decision}").check()
    form.locator("#field-reason_code").select_option(reason)
    if note:
        form.locator("#field-note").fill(note)
    staff.submit(form)
    expect(staff.flash()).to_contain_text(reference)


def test_a_deferral_is_returned_answered_recommended_and_approved_by_two_people(page, open_page, demo,
                                                                                 sessionmaker):
    code, username = employer_with_a_month_in_arrears(sessionmaker)
    employer = Portal(page)
    employer.sign_in("employer", employer_code=code, username=username, password=PASSWORD)
    expect(page).to_have_url(re.compile(r"/employer$"))

    # The employer sees the month in arrears and applies to defer it, with the commitment.
    employer.open("/employer/bills")
    expect(employer.main.locator("tr[data-bill] .tag--red")).to_have_count(1)
    employer.follow(employer.main.locator("a[href='/employer/applications/deferral']"))
    form = employer.main.locator("form[action='/employer/applications/deferral']")
    employer.submit(form)  # nothing filled in: refused, with a message at each field
    expect(employer.error_summary()).to_be_visible()
    expect(employer.field_error("commitment")).to_be_visible()
    form.locator("input[name=months]").first.check()
    employer.fill(reason="受疫情影响停产三个月，资金周转困难。")
    form.locator("#commitment").check()
    employer.submit(form)
    expect(page).to_have_url(re.compile(r"/employer/requests/JL\d+$"))
    reference = page.url.rsplit("/", 1)[1]
    expect(employer.flash()).to_contain_text(reference)

    # The handler takes the case and returns it: a document is missing.
    handler = staff_portal(open_page, demo, sessionmaker, "handler")
    handler.open(f"/staff/cases/{reference}")
    expect(handler.main).to_contain_text("受疫情影响停产三个月")
    handler.follow(handler.main.locator("button[name=action][value=take]"))
    decide(handler, reference, "return_to_applicant", "missing_document", "请上传停产证明。")

    # The employer is asked for it, answers, and the case goes back to the handler.
    employer.open(f"/employer/requests/{reference}")
    expect(employer.main.locator("#asked-title")).to_be_visible()
    expect(employer.main).to_contain_text("请上传停产证明。")
    employer.fill(note="停产证明已补充，编号 TC-2026-18。")
    employer.submit(employer.main.locator(f"form[action='/employer/requests/{reference}/resubmit']"))
    expect(employer.flash()).to_contain_text(reference)
    expect(employer.main.locator("#asked-title")).to_have_count(0)

    # The handler recommends approval; a different person, the reviewer, agrees.
    decide(handler, reference, "recommend_approve", "conditions_met", "停产证明核对无误。")
    reviewer = staff_portal(open_page, demo, sessionmaker, "reviewer")
    decide(reviewer, reference, "review_approve", "conditions_met")

    # The employer sees the decision, a notice, and the month deferred on its bill.
    employer.open("/employer/requests")
    expect(employer.main.locator("table tbody tr", has_text=reference).locator(".tag--green")).to_be_visible()
    employer.follow(page.locator("header a.site-header__notices"))
    expect(employer.main.locator(f".notice-list__item a[href='/employer/requests/{reference}']").first).to_be_visible()
    employer.open("/employer/bills")
    row = employer.main.locator("tr[data-bill]")
    expect(row.locator(".tag--yellow")).to_have_count(1)  # deferred
    expect(row.locator("[data-late-fee-today]")).to_have_text("¥0.00")  # no late fee inside the window
