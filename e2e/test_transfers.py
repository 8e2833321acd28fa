"""Issue 15's journey, in Chinese and in English: a person applies to move their pension from Beijing into Jilin,
two members of staff issue the contact letter on the case page, the other province (played by `portal dev province send`'s service,
posting a signed message to the live server) transfers the funds and record, and the person watches each leg
advance until the merged months show on the record with their source."""

from __future__ import annotations

import re
import urllib.request
from decimal import Decimal

from playwright.sync_api import expect

from e2e.conftest import fresh_staff, one_time_code
from e2e.pages import Portal
from portal import assembly
from portal.queue import reasons

# The demo seed (conftest's ``demo``) files a case before any app is created; the kinds must be registered first.
assembly.assemble()


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - loopback
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status, response.read().decode("utf-8")


def issue_the_letter(sessionmaker, reference: str) -> None:
    """A handler takes the transfer's case and recommends it; a different reviewer agrees (two people)."""
    from sqlmodel import select

    from portal import clock
    from portal.auth.principal import Actor, Principal
    from portal.db import transaction
    from portal.models import Case, StaffMember, Transfer
    from portal.queue import service as queue

    accounts = [fresh_staff(sessionmaker, "handler"), fresh_staff(sessionmaker, "reviewer")]
    with transaction(sessionmaker) as session:
        handler, reviewer = (
            Actor(Principal(kind="staff", account_id=row.id, display_name=row.name, roles=row.role_set,
                            region=row.region), address="e2e")
            for row in (session.exec(select(StaffMember).where(StaffMember.staff_number == a.username)).one()
                        for a in accounts))
        transfer = session.exec(select(Transfer).where(Transfer.reference == reference)).one()
        case = session.get(Case, transfer.case_id)
        now = clock.now()
        case = queue.act(session, reference=case.reference, action="take", actor=handler,
                         expected_version=case.version, now=now)
        case = queue.act(session, reference=case.reference, action="submit_for_review", actor=handler,
                         expected_version=case.version, recommendation="approve", reason_code="conditions_met",
                         now=now)
        queue.act(session, reference=case.reference, action="review_approve", actor=reviewer,
                  expected_version=case.version, now=now)


def staff_portal(open_page, account, lang: str, data: tuple[str, ...]) -> Portal:
    """A staff member of the test's own, signed in with password and one-time code in a browser of their own."""
    staff = Portal(open_page(), lang, data=data)
    staff.sign_in("staff", username=account.username, password=account.password,
                  otp=one_time_code(account.totp_secret))
    expect(staff.page).to_have_url(re.compile(r"/staff$"))
    return staff


def decide(staff: Portal, reference: str, decision: str, reason: str, *, reload: bool = True) -> None:
    if reload:
        staff.open(f"/staff/cases/{reference}")
    form = staff.main.locator(f"form[action='/staff/cases/{reference}/action']:has(#field-decision)")
    form.locator(f"#field-decision-{decision}").check()
    form.locator("#field-reason_code").select_option(label=reasons.label(reason, staff.lang or "zh_CN"))
    staff.submit(form)
    expect(staff.flash()).to_contain_text(reference)


def test_a_person_transfers_in_from_beijing_and_watches_every_leg(page, open_page, person, sessionmaker, settings,
                                                                 live_server, lang):
    from portal.devtools import province

    me = Portal(page, lang, data=(person.name,))
    me.sign_in("person", username=person.id_number, password=person.password)
    me.open(me.with_lang("/me/transfers"))
    expect(me.main.locator("h1")).to_have_text(me.t("Transfers between provinces"))
    me.follow(me.main.locator("a[href='/me/transfers/apply']"))
    me.field("other_province").select_option("110000")
    me.field("hukou_province").select_option("220000")
    me.fill(start_1="2008-03", end_1="2015-06")
    me.submit(me.main.locator("form[action='/me/transfers/apply']"))
    expect(page).to_have_url(re.compile(r"/me/transfers/ZY\d{14}$"))
    reference = page.url.rsplit("/", 1)[1]
    tracker = me.main.locator(f"#transfer-{reference}")
    expect(tracker.locator("[data-leg='letter']")).to_have_attribute("data-status", "running")
    expect(tracker.locator("[data-leg='transfer']")).to_have_attribute("data-status", "waiting")
    expect(tracker.locator("[data-figure='account_type']")).to_have_text(
        me.t("General record: your relationship moves to Jilin"))
    expect(me.main.locator("#decision-explanation [data-step='transfer.general_account']")).to_be_visible()

    # Two members of staff issue the contact letter on the case page: the other province's clock starts.
    case = tracker.locator("a[href^='/me/requests/JL']").inner_text()
    staff = {role: fresh_staff(sessionmaker, role) for role in ("handler", "reviewer")}
    names = (person.name, *(member.name for member in staff.values()))
    handler = staff_portal(open_page, staff["handler"], lang, names)
    handler.open(f"/staff/cases/{case}")
    expect(handler.main).to_contain_text(handler.t("Into Jilin: approving issues the contact letter to the other "
                                                   "province"))
    handler.follow(handler.main.locator("button[name=action][value=take]"))
    decide(handler, case, "recommend_approve", "conditions_met", reload=False)
    reviewer = staff_portal(open_page, staff["reviewer"], lang, names)
    decide(reviewer, case, "review_approve", "conditions_met")
    me.open(f"/me/transfers/{reference}")
    expect(tracker.locator("[data-leg='letter']")).to_have_attribute("data-status", "done")
    expect(tracker.locator("[data-leg='transfer']")).to_have_attribute("data-status", "running")

    # Beijing sends the funds and record: a signed message over HTTP, as `portal dev province send transfer` does.
    assert province.send(what="transfer", target=reference, sender="110000", base=Decimal("3000.00"),
                         off_by=Decimal("0.00"), settings=settings, sessionmaker=sessionmaker,
                         url=live_server, direct=False, post=_post, out=lambda text: None) == 0
    me.open(f"/me/transfers/{reference}")
    for leg in ("letter", "transfer", "merge"):
        expect(tracker.locator(f"[data-leg='{leg}']")).to_have_attribute("data-status", "done")
    expect(tracker.locator("[data-figure='state']")).to_have_text(me.t("Merged into your record"))
    expect(me.main.locator("#amounts tr[data-part='pooled'] td").first).to_have_text(
        me.main.locator("#amounts tr[data-part='pooled'] td").last.inner_text())

    # The record shows the months with where they came from, and the claim place is explained.
    me.knows("视同缴费")  # the record's legend names deemed months in Chinese in every language (not this issue's)
    me.follow(page.locator("nav.area-nav a[href='/me/records']"))
    source = me.main.locator("#transferred li[data-province='110000']")
    expect(source).to_have_attribute("data-start", "2008-03")
    expect(source).to_have_attribute("data-end", "2015-06")
    expect(source).to_contain_text("110000")
    expect(me.main.locator("#month-grid td[data-from='2010-01'][data-to='2010-12']")).to_have_attribute(
        "data-state", "transferred_in")  # one run for the year's twelve transferred months
    # The personal account received is credited to the Jilin account, with the same source.
    credit = me.main.locator("#account-transfers li[data-province='110000']")
    expect(credit).to_have_attribute("data-start", "2008-03")
    expect(credit).to_have_attribute("data-end", "2015-06")
    expect(credit).to_contain_text(reference)
    me.follow(page.locator("nav.area-nav a[href='/me/transfers']"))
    # No place has ten years: the claim place is the household registration (rule 4), Jilin.
    expect(me.main.locator("#claim-place")).to_have_attribute("data-place", "220000")
    expect(me.main.locator("#claim-place")).to_have_attribute("data-rule", "4")
    expect(me.main.locator("#claim-place [data-figure='jilin_months_needed']")).to_have_count(0)
    expect(me.main.locator("#claim-place")).to_contain_text(me.t("Jilin is already your claim place."))


def test_a_transfer_out_to_shanghai_is_followed_and_its_record_verified_by_a_stranger(page, open_page, person,
                                                                                     sessionmaker, settings,
                                                                                     live_server, lang):
    from datetime import date

    from sqlmodel import select

    from portal import clock
    from portal.db import transaction
    from portal.devtools import province
    from portal.identifiers import mask_name
    from portal.models import ContributionMonth, Person, Transfer

    with transaction(sessionmaker) as session:
        person_id = session.exec(select(Person.id).where(Person.id_number == person.id_number)).one()
        for n in range(24):
            session.add(ContributionMonth(person_id=person_id, month=date(2023 + n // 12, n % 12 + 1, 1),
                                          base_fen=500000, individual_part_fen=40000, personal_account_fen=40000,
                                          source="flexible_payment", status="paid", created_at=clock.now()))

    def shanghai_sends(what: str, target: str) -> None:
        assert province.send(what=what, target=target, sender="310000", base=Decimal("3000.00"),
                             off_by=Decimal("0.00"), settings=settings, sessionmaker=sessionmaker, url=live_server,
                             direct=False, post=_post, out=lambda text: None) == 0

    shanghai_sends("contact-letter", person.id_number)
    with transaction(sessionmaker) as session:
        reference = session.exec(select(Transfer.reference).where(Transfer.person_id == person_id)).one()
    issue_the_letter(sessionmaker, reference)  # staff confirm the transfer out: two people

    me = Portal(page, lang, data=(person.name,))
    me.sign_in("person", username=person.id_number, password=person.password)
    me.open(me.with_lang(f"/me/transfers/{reference}"))
    tracker = me.main.locator(f"#transfer-{reference}")
    expect(tracker.locator("[data-leg='letter']")).to_have_attribute("data-status", "done")
    expect(tracker.locator("[data-leg='transfer']")).to_have_attribute("data-status", "done")
    expect(tracker.locator("[data-leg='merge']")).to_have_attribute("data-status", "running")
    # 24 months: 24 × 400 of the personal account and 12% × 24 × 5000 pooled, paid by the fund to Shanghai.
    expect(me.main.locator("#payment-order")).to_have_attribute("data-status", "pending")
    expect(me.main.locator("#payment-order")).to_contain_text("24,000.00")
    with page.expect_download() as downloading:
        me.main.locator(f"a[href='/me/transfers/{reference}/record.pdf']").click()
    pdf = downloading.value
    with open(pdf.path(), "rb") as handle:
        content = handle.read()
    with transaction(sessionmaker) as session:
        code = session.exec(select(Transfer.certificate_code).where(Transfer.reference == reference)).one()
    assert content.startswith(b"%PDF-") and code.encode() in content

    # The /verify page names the certificate in Chinese in every language, and shows the holder's masked name.
    stranger = Portal(open_page(), lang, data=("参保证明", mask_name(person.name)))
    stranger.open(stranger.with_lang("/verify"))
    stranger.field("code").fill(code)
    stranger.submit(stranger.main.locator("form[action='/verify']"))
    expect(stranger.page).to_have_url(re.compile(rf"/verify/{code}$"))
    expect(stranger.main.locator("[data-figure='cumulative_months']")).to_have_attribute("data-value", "24")

    shanghai_sends("merged", reference)
    me.open(f"/me/transfers/{reference}")
    expect(tracker.locator("[data-leg='merge']")).to_have_attribute("data-status", "done")
    expect(tracker.locator("[data-figure='state']")).to_have_text(me.t("Completed"))
    expect(me.main.locator("#payment-order")).to_have_attribute("data-status", "paid")


def test_a_supervisor_reads_the_transfers_under_way_and_a_person_corrects_a_refused_form(page, open_page, person,
                                                                                        sessionmaker, lang):
    me = Portal(page, lang, data=(person.name,))
    me.sign_in("person", username=person.id_number, password=person.password)
    me.open(me.with_lang("/me/transfers/apply"))
    me.field("other_province").select_option("110000")
    me.fill(start_1="2015-06", end_1="2008-03")
    me.submit(me.main.locator("form[action='/me/transfers/apply']"))
    expect(me.error_summary()).to_be_visible()
    expect(me.field_error("start_1")).to_contain_text(me.t("The last month cannot be before the first."))
    me.fill(start_1="2008-03", end_1="2015-06")
    me.submit(me.main.locator("form[action='/me/transfers/apply']"))
    expect(page).to_have_url(re.compile(r"/me/transfers/ZY\d{14}$"))

    account = fresh_staff(sessionmaker, "supervisor")
    staff = Portal(open_page(), lang, data=(account.name,))
    staff.sign_in("staff", username=account.username, password=account.password,
                  otp=one_time_code(account.totp_secret))
    staff.follow(staff.page.locator("nav.area-nav a[href='/staff/transfers']"))
    expect(staff.main.locator("h1")).to_have_text(staff.t("Transfers between provinces"))
    reference = page.url.rsplit("/", 1)[1]
    staff.follow(staff.main.locator(f"li[data-transfer='{reference}'] a"))
    expect(staff.main.locator(f"#transfer-{reference} [data-leg='letter']")).to_have_attribute("data-status",
                                                                                              "running")
