"""A supervisor reads the monitoring of the fund and the prefectures: filters by prefecture and month, reads the
charts (checked by axe with the rest of the page) and downloads a table as CSV, in both languages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from e2e.conftest import fresh_staff, one_time_code
from e2e.pages import Portal


def refresh_figures(sessionmaker) -> None:
    """What the operator's cron does (``portal monitoring refresh``), against the live server's database."""
    from portal import clock
    from portal.db import transaction
    from portal.services import monitoring

    with transaction(sessionmaker) as session:
        monitoring.refresh(session, now=clock.now(), today=clock.today())


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_a_supervisor_filters_the_monitoring_by_prefecture_and_month_and_downloads_a_table(page, demo, sessionmaker,
                                                                                          lang):
    refresh_figures(sessionmaker)
    supervisor = fresh_staff(sessionmaker, "supervisor")
    portal = Portal(page, lang).knows(supervisor.name)
    portal.open(portal.with_lang("/login?account_type=staff"))
    portal.sign_in("staff", username=supervisor.username, password=supervisor.password,
                   otp=one_time_code(supervisor.totp_secret), open_form=False)

    portal.follow(page.locator("header nav.area-nav").get_by_role("link", name=portal.t("Monitoring")))
    expect(page).to_have_url(re.compile(r"/staff/monitoring$"))
    expect(portal.main.locator("#chart-collection-rate svg[role=img]")).to_be_visible()
    expect(portal.main.locator("#table-areas tbody tr")).to_have_count(10)  # the province and nine prefectures

    page.locator("#filter-area").select_option("220200")
    months = page.locator("#filter-month").locator("option")
    chosen = months.nth(1).get_attribute("value")  # the month before the latest
    page.locator("#filter-month").select_option(chosen)
    portal.submit(portal.main.locator("form.filters"))
    expect(page).to_have_url(re.compile(rf"area=220200&month={chosen}"))
    expect(portal.main.locator("#months-title")).to_contain_text(portal.t("Jilin City"))
    expect(page.locator("#filter-month")).to_have_value(chosen)

    with page.expect_download() as download:
        portal.main.locator("section[aria-labelledby=areas-title]").get_by_role(
            "link", name=portal.t("Download this table (CSV)")).click()
    body = open(download.value.path(), encoding="utf-8-sig").read().splitlines()
    assert body[0].startswith(portal.t("Area"))
    assert len(body) == 11
    assert chosen in body[1]


def flag_a_spike(sessionmaker) -> None:
    """A spike of back payments in Songyuan, as the rule would flag it (the demo province has none)."""
    from datetime import date

    from portal import clock
    from portal.db import transaction
    from portal.models import MonitoringFlag

    with transaction(sessionmaker) as session:
        session.add(MonitoringFlag(rule="back_payment_spike", area="220700", month=date(2026, 10, 1), subject="",
                                   evidence='{"average": "1.50", "count": 12}', found_at=clock.now()))


def test_a_supervisor_reads_the_assessment_the_anomalies_and_the_budget(page, demo, sessionmaker):
    refresh_figures(sessionmaker)
    flag_a_spike(sessionmaker)
    supervisor = fresh_staff(sessionmaker, "supervisor")
    portal = Portal(page, "en").knows(supervisor.name)
    portal.open(portal.with_lang("/login?account_type=staff"))
    portal.sign_in("staff", username=supervisor.username, password=supervisor.password,
                   otp=one_time_code(supervisor.totp_secret), open_form=False)
    portal.open("/staff/monitoring")
    tabs = portal.main.locator("ul.tabs")

    portal.follow(tabs.get_by_role("link", name=portal.t("Assessment")))
    expect(page).to_have_url(re.compile(r"/staff/monitoring/assessment$"))
    expect(portal.main.locator("#table-scores tbody tr")).to_have_count(9)  # the nine prefectures

    portal.follow(tabs.get_by_role("link", name=portal.t("Anomalies")))
    expect(page).to_have_url(re.compile(r"/staff/monitoring/anomalies$"))
    expect(portal.heading).to_have_text(portal.t("Anomalies found by smart monitoring"))
    # The spike flagged above: its page, the requests behind it, and back to mark it explained.
    portal.follow(portal.main.locator("#table-flags").get_by_role("link", name=portal.t("Spike of back payments")))
    expect(portal.main).to_contain_text("12 months were recorded by back payment")
    flag_page = page.url
    portal.follow(portal.main.get_by_role("link", name=portal.t("The prefecture's back-payment requests")))
    expect(page).to_have_url(re.compile(r"/staff/queue\?kind=back_payment&prefecture=220700&state=all$"))
    portal.open(flag_page)
    portal.field("note").fill("Songyuan closed a bankrupt employer's old arrears in one go.")
    portal.submit(portal.main.locator("form[action$='/explain']"))
    expect(portal.flash()).to_contain_text(portal.t("The anomaly is marked explained, with your note."))

    portal.follow(tabs.get_by_role("link", name=portal.t("Fund budget")))
    expect(page).to_have_url(re.compile(r"/staff/monitoring/budget$"))
    expect(portal.main.locator("#draft-title")).to_be_visible()
    expect(portal.main.locator("#chart-long-run svg[role=img]")).to_be_visible()  # the province's fund to 2050
    expect(portal.main.locator("#table-long-run tbody tr").last).to_contain_text("2050")
    # Money arriving in the provincial special account: a wrong amount is refused at the field, then recorded.
    receipt_form = portal.main.locator("form[action$='/budget/receipts']")
    portal.field("receipt_area").select_option("220700")
    portal.fill(month="2026-10", amount="12.345")
    page.locator("#field-kind-subsidy").check()
    portal.submit(receipt_form)
    expect(portal.field_error("amount")).to_be_visible()
    portal.fill(amount="250000.00")
    portal.submit(receipt_form)
    expect(portal.flash()).to_contain_text(
        portal.t("The money is recorded as arrived in the provincial special account."))
    expect(portal.main.locator("#table-receipts tbody tr").first).to_contain_text("¥250,000.00")


@pytest.mark.parametrize(("lang", "area"), [("zh_CN", "220600"), ("en", "220800")])
def test_a_supervisor_opens_a_verification_case_from_an_anomaly_and_a_handlers_decision_settles_it(
        page, open_page, demo, sessionmaker, lang, area):
    from datetime import date

    from portal import clock
    from portal.db import transaction
    from portal.models import MonitoringFlag

    with transaction(sessionmaker) as session:  # a sharp fall of the collection rate, as the rule would flag it
        flag = MonitoringFlag(rule="collection_rate_drop", area=area, month=date(2026, 10, 1), subject="",
                              evidence='{"before": "0.9500", "rate": "0.6000"}', found_at=clock.now())
        session.add(flag)
        session.flush()
        flag_id = flag.id
    supervisor, handler = fresh_staff(sessionmaker, "supervisor"), fresh_staff(sessionmaker, "handler")
    note = "两户企业漏报，已督促补缴"
    portal = Portal(page, lang).knows(supervisor.name, handler.name, note)
    portal.open(portal.with_lang("/login?account_type=staff"))
    portal.sign_in("staff", username=supervisor.username, password=supervisor.password,
                   otp=one_time_code(supervisor.totp_secret), open_form=False)

    portal.open(f"/staff/monitoring/anomalies?area={area}")
    portal.follow(portal.main.locator("#table-flags").get_by_role("link", name=portal.t("Collection rate falling sharply")))
    expect(page).to_have_url(re.compile(rf"/staff/monitoring/anomalies/{flag_id}$"))
    portal.submit(portal.main.locator("form[action$='/case']"))
    case_link = portal.main.locator("#anomaly-case a")
    reference = case_link.inner_text().strip()
    expect(portal.flash()).to_contain_text(reference)
    expect(portal.main.locator("#anomaly-case")).to_contain_text(portal.t("Waiting for a handler"))
    expect(portal.main.locator("form[action$='/case']")).to_have_count(0)  # opened once
    portal.follow(case_link)
    expect(page).to_have_url(re.compile(rf"/staff/cases/{reference}$"))
    expect(portal.heading).to_contain_text(portal.t("Verification of an anomaly"))
    expect(portal.main.locator("#field-decision")).to_have_count(0)  # whoever opened it does not decide it

    # A handler of the queue verifies it and confirms the anomaly.
    staff_page = open_page()
    staff = Portal(staff_page, lang).knows(supervisor.name, handler.name, note)
    staff.open(staff.with_lang("/login?account_type=staff"))
    staff.sign_in("staff", username=handler.username, password=handler.password,
                  otp=one_time_code(handler.totp_secret), open_form=False)
    staff.open(f"/staff/cases/{reference}")
    expect(staff.main).to_contain_text(staff.t("Collection rate falling sharply"))
    staff.follow(staff.main.locator("button[name=action][value=take]"))
    decision = staff.main.locator(f"form[action='/staff/cases/{reference}/action']:has(#field-decision)")
    expect(decision.locator("#field-decision-return_to_applicant")).to_have_count(0)  # nobody to return it to
    decision.locator("#field-decision-approve").check()
    decision.locator("#field-reason_code").select_option("conditions_met")
    decision.locator("#field-note").fill(note)
    staff.submit(decision)
    expect(staff.flash()).to_contain_text(reference)

    # The anomaly shows the decision and the case it was made in.
    portal.open(f"/staff/monitoring/anomalies/{flag_id}")
    expect(portal.main).to_contain_text(note)
    expect(portal.main.locator("#anomaly-case")).to_contain_text(reference)
    portal.open(f"/staff/monitoring/anomalies?area={area}&status=confirmed")
    expect(portal.main.locator("#table-flags tbody tr")).to_have_count(1)
