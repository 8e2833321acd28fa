"""The monitoring pages: only supervisors see them; the figures, charts and tables of a hand-computed province,
filtered by area and month; every table downloads as CSV."""

from __future__ import annotations

import csv
import io
import re

from sqlmodel import select

from portal.services import anomalies, monitoring
from tests import factories
from tests.conftest import csrf_token
from tests.helpers import sign_in_staff
from tests.monitoring.support import NOW, TODAY, Province


def supervisor_signed_in(client, db, roles="supervisor"):
    boss = factories.staff(db, roles=roles, name="周主管")
    db.commit()
    signed = sign_in_staff(client, boss)
    assert signed.status_code == 303
    return boss


def refreshed_province(db):
    province = Province(db)
    monitoring.refresh(db, now=NOW, today=TODAY)
    anomalies.refresh_flags(db, now=NOW, today=TODAY)
    db.commit()
    return province


def test_a_supervisor_sees_every_area_of_the_latest_month_with_its_chart_and_table(client, db, frozen_clock):
    refreshed_province(db)
    supervisor_signed_in(client, db)

    page = client.get("/staff/monitoring?lang=en")

    assert page.status_code == 200
    assert "Figures of October 2026 by area" in page.text
    assert 'id="chart-collection-rate"' in page.text and 'role="img"' in page.text
    assert "73.9%" in page.text  # the province's collection rate: 4,080.00 of 5,520.00
    assert "Figures computed on" in page.text
    assert "no benefit records yet" in page.text


def test_the_filters_choose_the_area_and_the_month(client, db, frozen_clock):
    refreshed_province(db)
    supervisor_signed_in(client, db)

    page = client.get("/staff/monitoring?lang=en&area=220200&month=2026-09")

    assert page.status_code == 200
    assert "Figures of September 2026 by area" in page.text
    assert "Jilin City month by month" in page.text
    assert '<option value="220200" selected>' in page.text


def test_a_handler_is_refused_and_a_visitor_is_sent_to_sign_in(client, db, frozen_clock):
    refreshed_province(db)
    assert client.get("/staff/monitoring").status_code == 303
    supervisor_signed_in(client, db, roles="handler reviewer")
    assert client.get("/staff/monitoring").status_code == 403
    assert client.get("/staff/monitoring/csv/areas").status_code == 403


def test_the_areas_table_downloads_as_csv_with_the_same_figures(client, db, frozen_clock):
    refreshed_province(db)
    supervisor_signed_in(client, db)

    answer = client.get("/staff/monitoring/csv/areas?lang=en&month=2026-10")

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Area", "Month", "Insured", "Contributors"]
    province = rows[1]
    assert province[:4] == ["Jilin Province", "2026-10", "4", "3"]
    assert province[rows[0].index("Collection rate")] == "0.7391"
    assert len(rows) == 1 + len(monitoring.AREAS)


def test_every_table_of_the_page_downloads(client, db, frozen_clock):
    refreshed_province(db)
    supervisor_signed_in(client, db)
    for table in ("areas", "months", "pyramid", "flows"):
        answer = client.get(f"/staff/monitoring/csv/{table}?area=220100&month=2026-10")
        assert answer.status_code == 200, table
        assert len(answer.content.decode("utf-8-sig").splitlines()) > 1, table
    assert client.get("/staff/monitoring/csv/secrets").status_code == 404


def test_the_page_says_so_when_nothing_was_computed_yet(client, db, frozen_clock):
    supervisor_signed_in(client, db)
    page = client.get("/staff/monitoring?lang=en")
    assert page.status_code == 200
    assert "have not been computed yet" in page.text


def test_the_assessment_ranks_the_prefectures_and_names_the_laggards_worst_indicator(client, db, frozen_clock):
    refreshed_province(db)
    supervisor_signed_in(client, db)

    page = client.get("/staff/monitoring/assessment?lang=en&year=2026")

    assert page.status_code == 200
    assert "Scores for 2026 to October 2026" in page.text
    assert 'id="chart-scores"' in page.text
    assert "The weights are provisional" in page.text
    ranking = page.text[page.text.index('id="table-scores"'):]
    assert ranking.index("Siping") < ranking.index("Changchun") < ranking.index("Jilin City")
    supervision = page.text[page.text.index('id="supervision-title"'):]
    assert "score 54.41; worst indicator Enrolment plan completion at 0.0%." in supervision


def test_the_assessment_downloads_as_csv(client, db, frozen_clock):
    refreshed_province(db)
    supervisor_signed_in(client, db)
    answer = client.get("/staff/monitoring/csv/assessment?lang=en&year=2026")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[1][:5] == ["1", "Siping", "2026", "2026-10", "73.34"]
    assert rows[2][-2:] == ["Enrolment plan completion", "yes"]


def test_a_supervisor_reads_an_anomaly_follows_it_to_its_records_and_marks_it_explained(client, db, frozen_clock):
    refreshed_province(db)
    supervisor_signed_in(client, db)

    listing = client.get("/staff/monitoring/anomalies?lang=en")
    assert listing.status_code == 200
    assert "Collection rate falling sharply" in listing.text
    assert "The collection rate fell from 100.0% the month before to 50.0%." in listing.text
    flag_id = anomalies.flags(db, status="open")[0].id
    db.commit()  # ends the test's read, which would hold SQLite's lock against the app's writes
    page = client.get(f"/staff/monitoring/anomalies/{flag_id}?lang=en")
    assert page.status_code == 200
    assert '/staff/monitoring?area=220100&amp;month=2026-10' in page.text

    empty = client.post(f"/staff/monitoring/anomalies/{flag_id}/explain?lang=en",
                        data={"csrf_token": csrf_token(page.text), "note": ""})
    assert empty.status_code == 422 and "Say what explains the anomaly." in empty.text
    done = client.post(f"/staff/monitoring/anomalies/{flag_id}/explain",
                       data={"csrf_token": csrf_token(page.text), "note": "十月一户大企业缓缴"})
    assert done.status_code == 303
    shown = client.get(done.headers["location"] + "?lang=en")
    assert "十月一户大企业缓缴" in shown.text and "Mark explained" not in shown.text
    assert "No anomaly matches these filters." in client.get("/staff/monitoring/anomalies?lang=en").text


def test_a_supervisor_opens_a_verification_case_from_an_anomaly_and_the_anomaly_shows_it(client, db, frozen_clock):
    from portal.models import Case

    refreshed_province(db)
    supervisor_signed_in(client, db)
    flag_id = anomalies.flags(db, status="open")[0].id
    db.commit()
    page = client.get(f"/staff/monitoring/anomalies/{flag_id}?lang=en")
    assert "Open a verification case" in page.text
    opened = client.post(f"/staff/monitoring/anomalies/{flag_id}/case?lang=en",
                         data={"csrf_token": csrf_token(page.text)})
    assert opened.status_code == 303
    again = client.post(f"/staff/monitoring/anomalies/{flag_id}/case?lang=en",
                        data={"csrf_token": csrf_token(client.get("/staff").text)})
    assert again.status_code == 303
    case = db.exec(select(Case).where(Case.kind == "anomaly_verification")).one()  # one case, however often asked
    db.commit()
    shown = client.get(f"/staff/monitoring/anomalies/{flag_id}?lang=en")
    assert f'href="/staff/cases/{case.reference}"' in shown.text and "Waiting for a handler" in shown.text
    assert "Open a verification case" not in shown.text and "Mark explained" not in shown.text
    assert "Being verified" in client.get("/staff/monitoring/anomalies?lang=en").text

    detail = client.get(f"/staff/cases/{case.reference}?lang=en")
    assert detail.status_code == 200 and "Verification of an anomaly" in detail.text
    assert "Collection rate falling sharply" in detail.text and "Opened by staff for Changchun" in detail.text
    assert "The collection rate fell from 100.0% the month before to 50.0%." in detail.text


def test_a_handler_cannot_explain_an_anomaly(client, db, frozen_clock):
    refreshed_province(db)
    flag_id = anomalies.flags(db, status="open")[0].id
    supervisor_signed_in(client, db, roles="handler")
    page = client.get("/staff")
    answer = client.post(f"/staff/monitoring/anomalies/{flag_id}/explain",
                         data={"csrf_token": csrf_token(page.text), "note": "看过了"})
    assert answer.status_code == 403
    assert anomalies.flags(db, status="explained") == []


def stored_years(db):
    from datetime import date

    from portal.models import MonitoringMonth

    for year, money_in, money_out in ((2024, 100000, 120000), (2025, 110000, 130000)):
        for month in range(1, 13):
            for area in ("220000", "220100"):
                db.add(MonitoringMonth(month=date(year, month, 1), area=area, collected_fen=money_in,
                                       payments_out_fen=money_out, computed_at=NOW))
    for month in range(1, 11):
        db.add(MonitoringMonth(month=date(2026, month, 1), area="220100", collected_fen=130000 if month == 3
                               else 115000, payments_out_fen=140000, computed_at=NOW))
    db.commit()


def test_the_budget_page_drafts_next_year_shares_the_gap_and_sets_this_year_against_its_budget(client, db,
                                                                                              frozen_clock):
    stored_years(db)
    supervisor_signed_in(client, db)

    page = client.get("/staff/monitoring/budget?lang=en&area=220100")

    assert page.status_code == 200
    assert "Draft budget of Changchun for 2027" in page.text
    # 2024 and 2025 on record: income 12,000 then 13,200, expenditure 14,400 then 15,600; 2027 is two steps on.
    assert "The draft expects a gap of ¥2,400.00" in page.text
    assert "¥1,920.00 would be borne by the pooled fund" in page.text and "¥480.00 by governments" in page.text
    assert "Execution of the 2026 budget of Changchun" in page.text
    largest = page.text[page.text.index("Largest variances"):]
    assert "March 2026: income ¥1,300.00 against ¥1,200.00 budgeted (¥100.00)." in largest
    assert 'id="chart-draft"' in page.text and 'id="chart-execution"' in page.text


def test_the_budget_tables_download_as_csv(client, db, frozen_clock):
    stored_years(db)
    supervisor_signed_in(client, db)
    draft = list(csv.reader(io.StringIO(client.get("/staff/monitoring/csv/budget?lang=en&area=220100")
                                        .content.decode("utf-8-sig"))))
    assert draft[-1] == ["2027", "15600.00", "0.00", "18000.00", "0.00", "0.00", "-2400.00", "0.00", "0.00",
                         "Projected"]
    execution = list(csv.reader(io.StringIO(client.get("/staff/monitoring/csv/execution?area=220100")
                                            .content.decode("utf-8-sig"))))
    assert len(execution) == 11 and execution[3][:4] == ["2026-03", "1200.00", "1300.00", "100.00"]


def test_a_supervisor_posted_to_a_prefecture_sees_that_prefecture_only(client, db, frozen_clock):
    refreshed_province(db)
    boss = factories.staff(db, roles="supervisor", name="吉林市主管")
    boss.region = "220200"
    db.add(boss)
    db.commit()
    changchun_flag = anomalies.flags(db, status="open", area="220100")[0].id
    db.commit()
    sign_in_staff(client, boss)

    page = client.get("/staff/monitoring?lang=en&area=220100")
    assert page.status_code == 200
    assert "Jilin City month by month" in page.text
    table = page.text[page.text.index('id="table-areas"'):page.text.index("</table>", page.text.index('id="table-areas"'))]
    assert "Jilin City" in table and "Changchun" not in table and "Jilin Province" not in table
    rows = list(csv.reader(io.StringIO(client.get("/staff/monitoring/csv/areas?lang=en").content.decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == ["Jilin City"]
    assessment_page = client.get("/staff/monitoring/assessment?lang=en&year=2026").text
    assert "Siping" not in assessment_page[assessment_page.index('id="table-scores"'):]
    assert client.get(f"/staff/monitoring/anomalies/{changchun_flag}").status_code == 404


def test_a_prefecture_s_assessment_report_is_a_printable_pdf_with_its_score(client, db, frozen_clock):
    refreshed_province(db)
    supervisor_signed_in(client, db)
    page = client.get("/staff/monitoring/assessment?year=2026")
    assert "/staff/monitoring/assessment/220100/2026.pdf" in page.text

    report = client.get("/staff/monitoring/assessment/220100/2026.pdf?lang=en")

    assert report.status_code == 200 and report.headers["content-type"] == "application/pdf"
    assert report.content.startswith(b"%PDF-") and report.content.rstrip().endswith(b"%%EOF")
    assert b"220100 2026 54.41" in report.content  # the keywords: area, year, score
    assert client.get("/staff/monitoring/assessment/220000/2026.pdf").status_code == 404
    assert client.get("/staff/monitoring/assessment/220100/2019.pdf").status_code == 404


def test_the_budget_page_says_when_there_is_no_year_to_project_from(client, db, frozen_clock):
    refreshed_province(db)  # September and October 2026 only
    supervisor_signed_in(client, db)
    page = client.get("/staff/monitoring/budget?lang=en")
    assert "No year before this one is on record yet" in page.text


def test_the_staff_overview_shows_a_supervisor_the_anomalies_waiting(client, db, frozen_clock):
    refreshed_province(db)
    supervisor_signed_in(client, db)
    page = client.get("/staff?lang=en")
    assert "1 anomaly waits for a supervisor." in page.text
    assert 'href="/staff/monitoring/anomalies"' in page.text


def test_the_staff_overview_shows_a_handler_no_monitoring(client, db, frozen_clock):
    refreshed_province(db)
    supervisor_signed_in(client, db, roles="handler")
    assert "waits for a supervisor" not in client.get("/staff?lang=en").text


def test_a_cell_that_starts_like_a_formula_is_downloaded_as_text_and_negative_amounts_stay_numbers():
    from portal.web.staff.monitoring import safe_cell

    assert safe_cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("-2400.00") == "-2400.00" and safe_cell(12) == "12" and safe_cell("长春市") == "长春市"


def test_the_budget_is_drafted_on_its_page_and_each_later_step_is_decided_in_the_queue_by_another_supervisor(
        client, db, frozen_clock):
    from portal.models import FundBudget
    from portal.services import budget

    stored_years(db)
    supervisor_signed_in(client, db)
    page = client.get("/staff/monitoring/budget?lang=en&area=220100")
    assert "No version of the 2027 budget is drafted yet." in page.text
    drafted = client.post("/staff/monitoring/budget/draft?lang=en",
                          data={"csrf_token": csrf_token(page.text), "area": "220100", "note": "初稿"})
    assert drafted.status_code == 303
    page = client.get("/staff/monitoring/budget?lang=en&area=220100")
    assert "Version 1: Drafted; waiting for the provincial department's review" in page.text
    assert "¥15,600.00" in page.text[page.text.index("approval-title"):]  # Changchun's drafted income
    version = db.exec(select(FundBudget)).one()
    waiting = budget.versions(db, year=2027)[0].waiting
    db.commit()  # ends the test's read, which would hold SQLite's lock against the app's writes
    reference = waiting.reference
    assert (f"The next step, Review by the provincial department of human resources and social security, waits in "
            f"case {reference} in the central queue.") in page.text
    assert f'href="/staff/cases/{reference}"' in page.text
    assert 'action="/staff/monitoring/budget/' not in page.text.replace("/budget/draft", "").replace(
        "/budget/receipts", "")  # no step is decided on the budget page any more

    # The drafter reads the case but has nothing to decide on it.
    case_page = client.get(f"/staff/cases/{reference}?lang=en")
    assert case_page.status_code == 200 and "Review of the fund budget" in case_page.text
    assert "Opened by staff for Jilin Province" in case_page.text
    lines = case_page.text[case_page.text.index('id="budget-lines"'):]
    assert "Contribution income" in lines and "¥15,600.00" in lines  # the figures decided on, on the case itself
    assert 'name="decision"' not in case_page.text and "Applicant's credit" not in case_page.text

    client.cookies.clear()
    reviewer = factories.staff(db, roles="supervisor", name="吴处长")
    db.commit()
    sign_in_staff(client, reviewer)
    case_page = client.get(f"/staff/cases/{reference}?lang=en")
    taken = client.post(f"/staff/cases/{reference}/action?lang=en",
                        data={"csrf_token": csrf_token(case_page.text), "action": "take",
                              "version": version_of(case_page.text)})
    assert taken.status_code == 303
    case_page = client.get(f"/staff/cases/{reference}?lang=en")
    assert 'value="return_to_applicant"' not in case_page.text  # nobody to return a province's case to
    empty = client.post(f"/staff/cases/{reference}/action?lang=en",
                        data={"csrf_token": csrf_token(case_page.text), "decision": "reject",
                              "reason_code": "not_eligible", "note": "", "version": version_of(case_page.text)})
    assert empty.status_code == 422 and "Say why the version goes back to the bureau." in empty.text
    db.expire_all()
    assert db.get(FundBudget, version.id).state == "drafted"
    db.commit()
    returned = client.post(f"/staff/cases/{reference}/action?lang=en",
                           data={"csrf_token": csrf_token(case_page.text), "decision": "reject",
                                 "reason_code": "not_eligible", "note": "支出增长偏低",
                                 "version": version_of(case_page.text)})
    assert returned.status_code == 303
    db.expire_all()
    assert db.get(FundBudget, version.id).state == "returned"
    db.commit()
    page = client.get("/staff/monitoring/budget?lang=en&area=220100")
    assert "Version 1: Returned to the bureau" in page.text and "支出增长偏低" in page.text
    assert "Draft version 2 from the record" in page.text
    steps = list(csv.reader(io.StringIO(client.get("/staff/monitoring/csv/approval?lang=en")
                                        .content.decode("utf-8-sig"))))
    assert [row[0] for row in steps[1:]] == ["Drafted by the provincial social insurance bureau",
                                             "Review by the provincial department of human resources and social "
                                             "security"]
    assert steps[2][3:] == ["Returned", "支出增长偏低", reference] and steps[2][1] == "吴处长"
    assert steps[1][5] == ""  # the draft is the submission, not a decision of a case


def version_of(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def test_a_prefecture_supervisor_reads_the_budget_but_cannot_draft_or_record_money(client, db, frozen_clock):
    stored_years(db)
    boss = factories.staff(db, roles="supervisor", name="郑主管")
    boss.region = "220100"
    db.commit()
    sign_in_staff(client, boss)
    page = client.get("/staff/monitoring/budget?lang=en")
    assert page.status_code == 200 and "Record money that arrived" not in page.text
    answer = client.post("/staff/monitoring/budget/draft", data={"csrf_token": csrf_token(page.text)})
    assert answer.status_code == 403
    answer = client.post("/staff/monitoring/budget/receipts",
                         data={"csrf_token": csrf_token(page.text), "receipt_area": "220100", "month": "2026-03",
                               "kind": "subsidy", "amount": "100"})
    assert answer.status_code == 403


def test_money_arriving_is_recorded_and_a_wrong_amount_is_refused_keeping_what_was_typed(client, db, frozen_clock):
    from portal.services import budget

    stored_years(db)
    supervisor_signed_in(client, db)
    page = client.get("/staff/monitoring/budget?lang=en")
    wrong = client.post("/staff/monitoring/budget/receipts?lang=en",
                        data={"csrf_token": csrf_token(page.text), "receipt_area": "220100", "month": "2026-03",
                              "kind": "remittance", "amount": "12.345", "receipt_note": "三月归集"})
    assert wrong.status_code == 422
    assert "Enter the amount in yuan, above zero, to the fen" in wrong.text and "三月归集" in wrong.text
    assert budget.receipts(db) == []
    db.commit()  # ends the test's read, which would hold SQLite's lock against the app's writes
    done = client.post("/staff/monitoring/budget/receipts?lang=en",
                       data={"csrf_token": csrf_token(page.text), "receipt_area": "220100", "month": "2026-03",
                             "kind": "remittance", "amount": "1,200.50", "receipt_note": "三月归集"})
    assert done.status_code == 303
    page = client.get("/staff/monitoring/budget?lang=en&area=220100")
    table = page.text[page.text.index("table-receipts"):]
    assert "March 2026" in table and "Remittance of collections" in table and "¥1,200.50" in table
    spreadsheet = list(csv.reader(io.StringIO(client.get("/staff/monitoring/csv/receipts?lang=en&area=220100")
                                              .content.decode("utf-8-sig"))))
    assert spreadsheet == [["Month", "Area", "What", "Amount (yuan)", "Note"],
                           ["2026-03", "Changchun", "Remittance of collections", "1200.50", "三月归集"]]


def test_the_long_horizon_says_in_plain_words_that_the_chances_of_dying_are_assumed_not_a_published_table(
        client, db, frozen_clock):
    from datetime import date

    from portal.models import MonitoringMonth
    from portal.policy.parameters import param

    used = param("fund_projection").at(date(2027, 1, 1))
    assert used.confidence == "unsourced" and "并非取自任何公开发布的生命表" in used.source
    stored_years(db)
    for row in db.exec(select(MonitoringMonth).where(MonitoringMonth.area == "220000")).all():
        row.insured, row.contributors = 100, 100
        db.add(row)
    db.commit()
    supervisor_signed_in(client, db)
    page = client.get("/staff/monitoring/budget?lang=en")
    assert 'id="table-long-run"' in page.text
    assert ("How many people die each year at each age is our own rough estimate, not a published life table"
            in page.text)
