"""The public pension estimator at /estimate, through the real app: figures, languages, validation, prefill."""

from __future__ import annotations

import html
import io
import json
import re
from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

import pytest

from portal.i18n import format_money
from portal.identifiers import make_resident_id
from portal.policy import cli
from portal.policy.estimate import estimate
from portal.policy.regions import region_codes
from tests import factories
from tests.helpers import error_links, field_error, html_lang, sign_in_person

TODAY = date(2026, 11, 28)  # the frozen clock's date in China
VALID = {
    "birth_date": "1970-03-15",
    "category": "male",
    "region": "220100",
    "months_paid": "300",
    "months_expected": "60",
    "average_index": "1.00",
    "account_balance": "80000.00",
}
MONEY_FIGURES = ("basic", "extra", "transitional", "personal_account", "total")
FIGURE = re.compile(r'data-figure="([a-z_]+)" data-value="([^"]*)"')


@pytest.fixture(autouse=True)
def _pinned_clock(frozen_clock):
    """Every test sees 2026-11-28, so the engine's 'today' matches the page's."""


def url(values: dict, **extra) -> str:
    return "/estimate?" + urlencode(values | extra)


def figures(page: str) -> dict[str, str]:
    return dict(FIGURE.findall(page))


def engine_result(**overrides):
    arguments = {
        "birth_date": date(1970, 3, 15), "category": "male", "region": "220100", "months_paid": 300,
        "months_expected": 60, "average_index": Decimal("1.00"), "account_balance": Decimal("80000.00"),
        "today": TODAY,
    }
    return estimate(**(arguments | overrides))


def attribute(page: str, name: str) -> str:
    found = re.search(rf'{name}="([^"]*)"', page)
    assert found, f"no {name} on the page"
    return found.group(1)


# --- results --------------------------------------------------------------------------------------------------

def test_the_form_is_shown_empty_to_a_visitor_with_every_prefecture_and_no_results(client):
    page = client.get("/estimate")
    assert page.status_code == 200
    assert 'method="get" action="/estimate"' in page.text
    for code in region_codes(TODAY):
        assert (f'<option value="{code}"' in page.text) == (code != "220000")
    assert 'id="results"' not in page.text
    assert 'href="/policy/parameters"' in page.text


def test_a_valid_estimate_in_chinese_shows_the_engine_figures_in_yuan(client):
    expected = engine_result()
    page = client.get(url(VALID))
    assert page.status_code == 200, page.text
    assert html_lang(page.text) == "zh-CN"
    shown = figures(page.text)
    for part in MONEY_FIGURES:
        assert shown[part] == str(getattr(expected.pension, part)), part
        assert format_money(getattr(expected.pension, part), "zh_CN") in page.text
    assert shown["months_counted"] == str(expected.months_counted)
    # The explanation is in Chinese, step by step, and lists the parameters used.
    assert "<details" in page.text
    for step in expected.explanation.steps:
        assert html.escape(step.text_zh, quote=False) in page.text, step.key
    for used in expected.explanation.parameters:
        assert f'data-parameter="{used.name}"' in page.text
    # A row a year across the flexible window, the statutory one marked.
    assert page.text.count("<tr data-row=") == len(expected.what_if)
    assert 'class="what-if__statutory"' in page.text
    # The chart has an accessible name and draws one bar per row.
    assert re.search(r'<svg class="chart__svg" role="img" aria-label="[^"]+"', page.text)
    assert page.text.count('<rect class="chart__bar') == len(expected.what_if)
    assert 'style=' not in page.text.split('id="results"')[1]


def test_the_same_estimate_in_english_shows_the_same_figures(client):
    chinese = figures(client.get(url(VALID)).text)
    page = client.get(url(VALID, lang="en"))
    assert page.status_code == 200
    assert html_lang(page.text) == "en"
    assert figures(page.text) == chinese
    expected = engine_result()
    assert "How this was calculated" in page.text
    assert html.escape(expected.explanation.steps[0].text_en, quote=False) in page.text
    assert format_money(expected.pension.total, "en") in page.text


def test_the_page_shows_the_same_money_as_the_command_line_for_the_statutory_month(client):
    page = client.get(url(VALID)).text
    shown = figures(page)
    table = re.search(r'<table class="table pension-parts" data-month="([0-9-]+)"\s+data-age-years="(\d+)" '
                      r'data-age-months="(\d+)">', page)
    assert table, "the parts table carries the statutory month and age"
    cli_input = {
        "region": VALID["region"],
        "retirement_month": table.group(1),
        "age_at_retirement": {"years": int(table.group(2)), "months": int(table.group(3))},
        "actual_months": int(shown["months_counted"]),
        "deemed_months": 0,
        "average_index": VALID["average_index"],
        "account_balance": shown["account_at_retirement"],
    }
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["pension"], stdin=io.StringIO(json.dumps(cli_input)), stdout=out, stderr=err) == 0, err.getvalue()
    answer = json.loads(out.getvalue())
    for part in MONEY_FIGURES:
        assert shown[part] == answer[part], part
    assert shown["divisor_months"] == answer["divisor_months"]
    assert answer["provisional"] is True
    assert 'data-provisional="true"' in page


def test_provisional_results_say_so_in_words_and_why(client):
    page = client.get(url(VALID, lang="en")).text
    assert "These figures are provisional" in page
    assert "the figure for this year is not published yet" in page


def test_deemed_months_add_a_transitional_pension_like_the_engine(client):
    expected = engine_result(deemed_months=36)
    shown = figures(client.get(url(VALID | {"deemed_months": "36"})).text)
    assert shown["transitional"] == str(expected.pension.transitional) != "0.00"
    assert shown["total"] == str(expected.pension.total)


def test_too_few_months_says_how_many_are_short_and_what_to_do(client):
    values = VALID | {"months_paid": "24", "months_expected": "0"}
    expected = engine_result(months_paid=24, months_expected=0)
    page = client.get(url(values, lang="en")).text
    assert not expected.meets_minimum
    assert 'data-minimum="not-met"' in page
    short = next(row for row in expected.what_if if row.is_statutory).short_months
    assert f"No: {short} months short" in page
    assert "lump sum" in page and "keep paying" in page
    assert 'data-figure="total"' not in page
    assert "minimum not met" in page


def test_too_few_months_offers_only_what_the_law_allows_in_chinese(client):
    page = client.get(url(VALID | {"months_paid": "24", "months_expected": "0"})).text
    assert "城乡居民基本养老保险" in page and "一次性" in page
    assert "一次性支付给本人" not in page  # a refund of the account is not an option before emigration


def test_an_index_below_0_60_from_an_old_record_is_accepted(client):
    page = client.get(url(VALID | {"average_index": "0.46"}, lang="en"))
    assert page.status_code == 200 and 'id="results"' in page.text


def test_a_chosen_early_month_shows_that_months_pension_minimum_and_the_written_notice(client):
    expected = engine_result(chosen_month=date(2030, 6, 1))  # statutory month 2031-07
    for lang, notice in (("en", "in writing at least 3 months before"), ("zh_CN", "至少提前3个月")):
        page = client.get(url(VALID | {"chosen_month": "2030-06"}, lang=lang)).text
        shown = figures(page)
        assert shown["total"] == str(expected.pension.total)
        assert 'data-month="2030-06"' in page and 'data-conditions="flexible"' in page
        assert notice in page
    assert expected.chosen.minimum == 186  # 2030's minimum, though the statutory year 2031 needs 192


def test_a_chosen_late_month_keeps_the_statutory_years_minimum_and_names_the_agreement_deadline(client):
    page = client.get(url(VALID | {"chosen_month": "2034-01"}, lang="en")).text
    assert "(the minimum of the year you reach the statutory age)" in page
    assert "by June 2031" in page  # one month before the statutory month, 2031-07
    assert engine_result(chosen_month=date(2034, 1, 1)).chosen.minimum == 192  # not 2034's 210


def test_an_htmx_request_gets_only_the_form_and_results(client):
    page = client.get(url(VALID), headers={"HX-Request": "true"})
    assert page.status_code == 200
    assert "<html" not in page.text
    assert 'id="results"' in page.text and 'hx-push-url="true"' in page.text


def test_the_language_link_keeps_the_visitors_figures(client):
    page = client.get(url(VALID)).text
    link = re.search(r'<a href="([^"]+)" lang="en" hreflang="en">', page).group(1)
    english = client.get(html.unescape(link))
    assert figures(english.text) == figures(page)


# --- validation -----------------------------------------------------------------------------------------------

BAD = [
    ("birth_date", "", "Enter your date of birth."),
    ("birth_date", "1975-13-40", "Enter your date of birth as year-month-day"),
    ("birth_date", "2999-01-01", "The date of birth must be in the past."),
    ("birth_date", "1920-01-01", "The date of birth must be on or after"),
    ("months_paid", "abc", "Enter the months you have paid as a whole number"),
    ("months_paid", "-1", "Enter the months you have paid as a whole number"),
    ("months_paid", "9999", "Enter 720 months or fewer."),
    ("months_expected", "", "Enter the further months you expect to pay"),
    ("deemed_months", "x", "Enter the deemed months as a whole number"),
    ("average_index", "3.01", "Enter an average contribution index of 3.00 or less"),
    ("chosen_month", "2031", "Enter the month as year-month, for example 2031-05"),
    ("chosen_month", "2040-01", "Choose a retirement month within your window, from March 2030 to July 2034."),
    ("average_index", "one", "Enter the index as a number"),
    ("account_balance", "-5", "Enter the balance in yuan with at most two decimals"),
    ("account_balance", "12.345", "Enter the balance in yuan with at most two decimals"),
    ("account_balance", "", "Enter your personal account balance in yuan"),
]


@pytest.mark.parametrize(("name", "bad", "message"), BAD, ids=[f"{n}={b!r}" for n, b, _ in BAD])
def test_a_bad_value_is_named_at_its_field_and_every_value_is_kept(client, name, bad, message):
    values = VALID | {name: bad}
    page = client.get(url(values, lang="en"))
    assert page.status_code == 422
    assert error_links(page.text) == [name]
    assert message in field_error(page.text, name)
    assert 'id="results"' not in page.text
    for field, value in values.items():
        if field in ("category", "region"):
            continue
        assert f'name="{field}" type' in page.text
        assert f'id="field-{field}" name="{field}" type="{"date" if field == "birth_date" else "text"}"\nvalue="{html.escape(value)}"' in page.text
    assert 'id="field-category-male" name="category" type="radio" value="male" checked' in page.text
    assert '<option value="220100" selected>' in page.text


def test_errors_are_shown_in_chinese_by_default(client):
    page = client.get(url(VALID | {"months_paid": "abc"}))
    assert page.status_code == 422
    assert html_lang(page.text) == "zh-CN"
    assert error_links(page.text) == ["months_paid"]


@pytest.mark.parametrize("region", ["220000", "999999", "", "220102"])
def test_only_a_jilin_prefecture_is_accepted(client, region):
    page = client.get(url(VALID | {"region": region}, lang="en"))
    assert page.status_code == 422
    assert error_links(page.text) == ["region"]
    assert "Choose the prefecture where you are insured." in field_error(page.text, "region")


@pytest.mark.parametrize("category", ["female", "", "MALE", "cadre"])
def test_only_the_three_categories_are_accepted(client, category):
    page = client.get(url(VALID | {"category": category}, lang="en"))
    assert page.status_code == 422
    assert error_links(page.text) == ["category"]


def test_every_problem_is_listed_in_the_order_of_the_form(client):
    page = client.get(url({"birth_date": "x", "category": "z", "months_paid": "-1"}, lang="en"))
    assert page.status_code == 422
    assert error_links(page.text) == ["birth_date", "category", "region", "months_paid", "months_expected",
                                      "average_index", "account_balance"]


def test_a_date_of_birth_the_rules_cannot_cover_is_reported_at_the_date_of_birth(client):
    # Statutory age in 2010: no published pension base that early, so the engine refuses the retirement month.
    page = client.get(url(VALID | {"birth_date": "1950-01-01"}, lang="en"))
    assert page.status_code == 422
    assert error_links(page.text) == ["birth_date"]
    assert "cannot work out a retirement date" in field_error(page.text, "birth_date")


# --- signed-in person -----------------------------------------------------------------------------------------

def _signed_in(client, db, sequence: int) -> None:
    number = make_resident_id("220203", date(1972, 8, 9), sequence)
    factories.person_account(db, id_number=number, birth=date(1972, 8, 9))
    db.commit()
    assert sign_in_person(client, number).status_code == 303


def test_a_signed_in_man_gets_his_date_of_birth_category_and_prefecture_prefilled(client, db):
    _signed_in(client, db, 11)  # odd sequence digit: male
    page = client.get("/estimate").text
    assert 'name="birth_date" type="date"\nvalue="1972-08-09"' in page
    assert 'value="male" checked' in page
    assert '<option value="220200" selected>' in page
    assert 'id="results"' not in page


def test_a_signed_in_woman_starts_as_a_woman_worker_and_may_change_it(client, db):
    _signed_in(client, db, 12)  # even sequence digit: female
    page = client.get("/estimate").text
    assert 'value="female_worker" checked' in page
    assert 'value="female_cadre">' in page


def test_the_submitted_values_win_over_the_prefill(client, db):
    _signed_in(client, db, 11)
    page = client.get(url(VALID)).text
    assert 'value="1970-03-15"' in page and '<option value="220100" selected>' in page
    assert 'data-figure="total"' in page


def test_a_prefecture_outside_jilin_is_not_prefilled(client, db):
    number = make_resident_id("110101", date(1980, 1, 2), 21)
    factories.person_account(db, id_number=number, birth=date(1980, 1, 2))
    db.commit()
    assert sign_in_person(client, number).status_code == 303
    page = client.get("/estimate").text
    assert "selected>" not in page.split('id="field-region"')[1].split("</select>")[0]


def test_a_chosen_late_month_shows_the_same_money_as_the_command_line_given_the_statutory_month(client):
    page = client.get(url(VALID | {"chosen_month": "2033-07"})).text
    shown = figures(page)
    table = re.search(r'<table class="table pension-parts" data-month="([0-9-]+)"\s+data-age-years="(\d+)" '
                      r'data-age-months="(\d+)">', page)
    assert table and table.group(1) == "2033-07"
    cli_input = {
        "region": VALID["region"], "retirement_month": "2033-07", "statutory_month": "2031-07",
        "age_at_retirement": {"years": int(table.group(2)), "months": int(table.group(3))},
        "actual_months": int(shown["months_counted"]), "deemed_months": 0,
        "average_index": VALID["average_index"], "account_balance": shown["account_at_retirement"],
    }
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["pension"], stdin=io.StringIO(json.dumps(cli_input)), stdout=out, stderr=err) == 0, err.getvalue()
    answer = json.loads(out.getvalue())
    assert answer["eligible"] and answer["min_contribution_months"] == 192  # the statutory year's, 2031
    for part in MONEY_FIGURES:
        assert shown[part] == answer[part], part


def test_provisional_results_say_so_in_chinese_too(client):
    page = client.get(url(VALID)).text
    assert 'data-provisional="true"' in page and "暂定" in page
