"""Issue 5's journey, in Chinese and in English: an employer asks to defer a month in arrears; a handler returns
the request for information, the employer answers, the handler recommends approval, a reviewer agrees, and the
employer sees the decision, a notice, and the month deferred on its bill."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from e2e.conftest import StaffAccount, employer_with_a_month_in_arrears, fresh_staff, one_time_code
from e2e.pages import Portal
from portal.queue import reasons

# What the people in the journey type, in the language they work in.
WORDS = {
    "zh_CN": {"reason": "受疫情影响停产三个月，资金周转困难。", "ask": "请上传停产证明。",
              "answer": "停产证明已补充，编号 TC-2026-18。", "check": "停产证明核对无误。"},
    "en": {"reason": "Production stopped for three months; cash flow is short.",
           "ask": "Please upload the shutdown certificate.",
           "answer": "The shutdown certificate is attached, number TC-2026-18.", "check": "Certificate checked."},
}


def staff_portal(open_page, account: StaffAccount, lang: str, data: tuple[str, ...]) -> Portal:
    """A staff member of the test's own, signed in with password and one-time code in a browser of their own."""
    staff = Portal(open_page(), lang, data=data)
    staff.sign_in("staff", username=account.username, password=account.password,
                  otp=one_time_code(account.totp_secret))
    expect(staff.page).to_have_url(re.compile(r"/staff$"))
    return staff


def decide(staff: Portal, reference: str, decision: str, reason: str, note: str = "", *, reload: bool = True) -> None:
    """Decide on the case page, opened afresh unless the staff member is on it as it is (just after taking it)."""
    if reload:
        staff.open(f"/staff/cases/{reference}")
    form = staff.main.locator(f"form[action='/staff/cases/{reference}/action']:has(#field-decision)")
    form.locator(f"#field-decision-{decision}").check()
    # The reason by its label in the staff member's language (reason codes carry both).
    form.locator("#field-reason_code").select_option(label=reasons.label(reason, staff.lang or "zh_CN"))
    expect(form.locator("#field-reason_code")).to_have_value(reason)
    if note:
        form.locator("#field-note").fill(note)
    staff.submit(form)
    expect(staff.flash()).to_contain_text(reference)


def test_a_deferral_is_returned_answered_recommended_and_approved_by_two_people(page, open_page, lang,
                                                                                 sessionmaker):
    words = WORDS[lang]
    arrears = employer_with_a_month_in_arrears(sessionmaker)
    account = arrears.employer
    staff = {role: fresh_staff(sessionmaker, role) for role in ("handler", "reviewer")}
    names = (account.name, account.operator_name, arrears.person_name, *(member.name for member in staff.values()))
    employer = Portal(page, lang, data=names)
    employer.sign_in("employer", employer_code=account.credit_code, username=account.username,
                     password=account.password)
    expect(page).to_have_url(re.compile(r"/employer$"))

    # The employer sees the month in arrears and applies to defer it, with the commitment.
    employer.follow(employer.area_link("Bills"))
    bill = employer.main.locator(f"tr[data-bill='{arrears.bill_id}']")
    expect(bill.locator(".tag--red")).to_have_text(employer.t("In arrears"))
    employer.follow(employer.main.get_by_role("link", name=employer.t("Apply to defer contributions"), exact=True))
    expect(employer.heading).to_have_text(employer.t("Apply to defer contributions"))
    form = employer.main.locator("form[action='/employer/applications/deferral']")
    submit = employer.button("Submit the request", within=form)
    employer.follow(submit)  # nothing filled in: refused, with a message at each field
    expect(employer.error_summary()).to_be_visible()
    expect(employer.field_error("mode")).to_be_visible()
    # Before submitting, the employer reads how the request will be checked and why.
    expect(employer.main.locator("#supervision-how")).to_be_visible()
    form.locator("input[name=months]").first.check()
    employer.fill(reason=words["reason"])
    form.locator("#mode-commit").check()  # commits to the hardship: the notice, confirmed with the password
    employer.fill(password=account.password)
    employer.follow(submit)
    expect(page).to_have_url(re.compile(r"/employer/requests/JL\d+$"))
    reference = page.url.rsplit("/", 1)[1]
    expect(employer.flash()).to_contain_text(reference)

    # The handler takes the case and returns it: a document is missing.
    handler = staff_portal(open_page, staff["handler"], lang, names)
    handler.open(f"/staff/cases/{reference}")
    expect(handler.main).to_contain_text(words["reason"])
    handler.follow(handler.main.locator("button[name=action][value=take]"))
    decide(handler, reference, "return_to_applicant", "missing_document", words["ask"], reload=False)

    # The employer is asked for it, answers, and the case goes back to the handler.
    employer.open(f"/employer/requests/{reference}")
    expect(employer.main.locator("#asked-title")).to_be_visible()
    expect(employer.main).to_contain_text(words["ask"])
    employer.fill(note=words["answer"])
    employer.submit(employer.main.locator(f"form[action='/employer/requests/{reference}/resubmit']"))
    expect(employer.flash()).to_contain_text(reference)
    expect(employer.main.locator("#asked-title")).to_have_count(0)

    # The handler recommends approval; a different person, the reviewer, agrees.
    decide(handler, reference, "recommend_approve", "conditions_met", words["check"])
    reviewer = staff_portal(open_page, staff["reviewer"], lang, names)
    decide(reviewer, reference, "review_approve", "conditions_met")

    # The employer sees the decision, a notice, and the month deferred on its bill.
    employer.follow(employer.area_link("Requests"))
    expect(employer.main.locator("table tbody tr", has_text=reference).locator(".tag--green")).to_be_visible()
    employer.follow(page.locator("header a.site-header__notices"))
    expect(employer.main.locator(f".notice-list__item a[href='/employer/requests/{reference}']").first).to_be_visible()
    employer.follow(employer.area_link("Bills"))
    expect(bill.locator(".tag--yellow")).to_have_text(employer.t("Deferred"))
    # The no-fee window runs from the approval (Jilin 2017 measure): what accrued before it stays, nothing more.
    expect(bill.locator("[data-late-fee-today]")).to_have_text(re.compile(r"^¥\d[\d,]*\.\d\d$"))
