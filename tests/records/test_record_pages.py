"""/me/records and its CSV through the real app, on the demo employee's history (a gap in 2023), and the estimator
prefilled from the record."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from sqlmodel import select

from portal import i18n
from portal.devtools import demo
from portal.models import ContributionMonth, Person
from portal.services.records import build_record
from portal.web.person.records import CSV_HEADINGS
from tests.helpers import new_person, sign_in_person
from tests.records.support import NOW, TODAY, months_told

EMPLOYEE = demo.PERSONS[0][1]  # 王建国: employed 2020-07..2022-12 and since 2023-06; today is 2026-11-28
MONEY = re.compile(r"^\d+\.\d{2}$")


@pytest.fixture
def employee(db, cheap_hashing, frozen_clock) -> Person:
    demo.seed(session=db, now=NOW, today=TODAY)
    person = db.exec(select(Person).where(Person.id_number == EMPLOYEE)).one()
    db.commit()  # SQLite: the app's requests must not wait on this session's open transaction
    return person


def record_of(db, person):
    """The record as the service builds it, read in a transaction that is closed again before the app is asked."""
    record = build_record(db, person=person, today=TODAY)
    db.commit()
    return record


@pytest.fixture
def signed_in(client, employee):
    assert sign_in_person(client, EMPLOYEE, password=demo.DEMO_PASSWORD).status_code == 303
    return client


def states(page: str) -> dict[str, str]:
    return months_told(page)


def figure(page: str, name: str) -> str:
    found = re.search(rf'data-figure="{name}" data-value="([^"]*)"', page)
    assert found, f"no figure {name}"
    return found.group(1)


def test_the_grid_starts_at_the_first_insured_month_and_shows_each_state_with_the_gap(signed_in):
    page = signed_in.get("/me/records")
    assert page.status_code == 200
    grid = states(page.text)
    assert min(grid) == "2020-07" and max(grid) == "2026-11"
    assert grid["2020-07"] == grid["2022-12"] == grid["2023-06"] == grid["2026-09"] == "paid"
    assert {grid[f"2023-0{number}"] for number in range(1, 6)} == {"gap"}
    assert (grid["2026-10"], grid["2026-11"]) == ("arrears", "unpaid")
    assert figure(page.text, "cumulative_months") == "70"  # 30 months before the gap, 40 after


def test_each_run_of_months_says_its_state_and_source_in_words_not_colour_alone(signed_in):
    page = signed_in.get("/me/records?lang=en").text
    assert '<span class="visually-hidden">July 2020 to December 2020: Paid, Filed by the employer</span>' in page
    assert "All year: Paid, Filed by the employer" in page
    assert "January 2023 to May 2023: No contribution, Not insured: no employer and no flexible enrolment" in page
    assert "October 2026: In arrears, Filed by the employer" in page
    assert 'class="month-grid__legend"' in page


def test_each_gap_is_listed_with_its_reason(signed_in):
    page = signed_in.get("/me/records?lang=en").text
    gaps = page.split('id="gaps"')[1].split("</table>")[0]
    rows = re.findall(r'<tr data-reason="([a-z_]+)"><td>([^<]+)</td><td>([^<]+)</td><td class="num">(\d+)</td>', gaps)
    assert rows == [("not_insured", "January 2023", "May 2023", "5"), ("arrears", "October 2026", "October 2026", "1"),
                    ("unpaid", "November 2026", "November 2026", "1")]


def test_the_account_by_year_the_index_and_the_charts_carry_the_records_figures(signed_in, db, employee):
    record = record_of(db, employee)
    page = signed_in.get("/me/records?lang=en").text
    account = page.split('id="account-years"')[1].split("</table>")[0]
    assert [int(year) for year in re.findall(r'<th scope="row">(\d{4})</th>', account)] == list(range(2020, 2026))
    last = record.account_years[-1]
    assert i18n.format_money(last.closing_balance, "en") in account
    assert figure(page, "account_balance") == str(record.account_balance) == str(last.closing_balance)
    assert figure(page, "average_index") == str(record.average_index)
    assert 'id="index-explanation"' in page and "How this was calculated" in page
    assert 'id="base-chart"' in page and 'id="balance-chart"' in page
    base_table = page.split('id="base-chart"')[1].split("</figure>")[0]
    for year in record.years:
        if year.base_average is not None:
            assert f"<th scope=\"row\">{year.year}</th><td class=\"num\">{i18n.format_money(year.base_average, 'en')}" \
                   in base_table


def test_the_record_links_to_the_estimator_the_certificate_and_the_spreadsheet(signed_in):
    page = signed_in.get("/me/records").text
    assert 'href="/estimate"' in page and 'href="/me/certificate"' in page and 'href="/me/records.csv"' in page
    assert 'href="/me/records" aria-current="page"' in page


def test_the_csv_has_a_bom_headers_in_the_visitors_language_and_money_as_decimal_strings(signed_in, db, employee):
    response = signed_in.get("/me/records.csv?lang=en")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == list(CSV_HEADINGS)
    record = record_of(db, employee)
    assert len(rows) == 1 + len(record.cells)
    by_month = {row[0]: row for row in rows[1:]}
    assert by_month["2020-07"][1:3] == ["Paid", "Filed by the employer"]
    assert by_month["2023-02"][1:3] == ["No contribution",
                                        "Not insured: no employer and no flexible enrolment in these months"]
    assert by_month["2023-02"][3:] == ["", "", "", ""]
    paid = by_month["2024-03"]
    assert all(MONEY.match(value) for value in paid[3:])
    cell = next(cell for cell in record.cells if cell.month.isoformat().startswith("2024-03"))
    assert Decimal(paid[3]) == cell.base and Decimal(paid[6]) == cell.personal_account


def test_the_csv_headers_follow_the_language_chosen(signed_in):
    rows = list(csv.reader(io.StringIO(signed_in.get("/me/records.csv?lang=zh_CN").content.decode("utf-8-sig"))))
    i18n.set_locale("zh_CN")
    try:
        assert rows[0] == [i18n.gettext(heading) for heading in CSV_HEADINGS]
        assert rows[1][1] == i18n.gettext("Paid")
    finally:
        i18n.set_locale(i18n.DEFAULT_LOCALE)


def test_another_person_sees_only_their_own_empty_record(client, db, employee):
    stranger = new_person(db)
    assert sign_in_person(client, stranger).status_code == 303
    page = client.get("/me/records?lang=en").text
    assert states(page) == {}
    assert "There are no insured months on your record yet." in page
    assert employee.name not in page
    rows = list(csv.reader(io.StringIO(client.get("/me/records.csv").content.decode("utf-8-sig"))))
    assert len(rows) == 1  # the headings only


def test_the_estimator_is_prefilled_from_the_record(signed_in, db, employee):
    record = record_of(db, employee)
    page = signed_in.get("/estimate").text

    def value(name: str) -> str:
        found = re.search(rf'id="field-{name}" name="{name}"[^>]*?value="([^"]*)"', page, re.S)
        assert found, name
        return found.group(1)

    assert value("months_paid") == "70"
    assert value("deemed_months") == "0"
    assert value("average_index") == str(record.average_index)
    assert value("account_balance") == str(record.balance_to_date)
    assert record.balance_to_date > record.account_balance  # 2026's paid credits are not yet credited with interest
    assert value("birth_date") == "1985-03-15"
    assert 'value="male" checked' in page and '<option value="220100" selected>' in page


def test_the_prefilled_estimate_runs_without_a_correction(signed_in):
    page = signed_in.get("/estimate").text
    values = dict(re.findall(r'name="([a-z_]+)"[^>]*?value="([^"]*)"', page, re.S))
    fields = ("birth_date", "months_paid", "deemed_months", "average_index", "account_balance")
    query = {name: values[name] for name in fields} | {"category": "male", "region": "220100", "months_expected": "120"}
    result = signed_in.get("/estimate", params=query)
    assert result.status_code == 200 and "error-summary" not in result.text
    assert 'data-figure="statutory_month"' in result.text


def test_an_index_below_0_60_from_bases_billed_under_older_rules_is_shown_and_the_estimator_accepts_it(
        signed_in, db, employee):
    # Bases billed under older rules can sit below today's 60% floor; the index is not raised to 0.60.
    for row in db.exec(select(ContributionMonth).where(ContributionMonth.person_id == employee.id)).all():
        row.base_fen //= 2
        db.add(row)
    db.commit()
    record = record_of(db, employee)
    assert record.average_index < Decimal("0.60")
    assert figure(signed_in.get("/me/records?lang=en").text, "average_index") == str(record.average_index)
    page = signed_in.get("/estimate").text
    values = dict(re.findall(r'name="([a-z_]+)"[^>]*?value="([^"]*)"', page, re.S))
    assert values["average_index"] == str(record.average_index)
    query = {name: values[name] for name in ("birth_date", "months_paid", "deemed_months", "average_index",
                                             "account_balance")}
    result = signed_in.get("/estimate", params=query | {"category": "male", "region": "220100",
                                                        "months_expected": "120", "lang": "en"})
    assert result.status_code == 200 and "error-summary" not in result.text
