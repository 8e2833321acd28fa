"""Input the code does not expect: language headers, numbers in paths, queries and forms, and request ids.

Each class has a unit test, parametrised cases through the app, and a Hypothesis fuzz that may find
any answer but a server error.
"""

from __future__ import annotations

import json
import logging
import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.requests import Request

from portal import i18n
from portal.web import parse, request_log
from portal.web.endpoint import error_page
from portal.web.staff import payload as payload_display
from tests.helpers import new_person, sign_in_person
from tests.records.test_employer_pages import Firm

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80)
FOREIGN_DIGITS = ["²", "①", "١٢", "１２", "߁", "1_000", "1 2", "+1", "-1", "0x10", "1e3", "1.0", "", "   "]


# --- Accept-Language --------------------------------------------------------------------------------------

BAD_LANGUAGE_HEADERS = [
    "zh-CN;q=NaN, en;q=1e", "en;q=sNaN", "en;q=Infinity", "en;q=-1", "en;q=1E+999999", "en;q=", ";q=1", ",,,",
    "en;;q=0.5", "en;q=0.5;q=0.7", "*;q=0.1", "x" * 5000, ",".join(["en;q=NaN"] * 500), "en;q=0x1p3", "中文",
]


@given(st.text(max_size=200))
@settings(max_examples=500, deadline=None)
def test_language_negotiation_never_fails_whatever_the_header(header):
    assert i18n.negotiate(query=None, cookie=None, accept_language=header) in i18n.LOCALES


def test_weights_still_choose_between_languages():
    assert i18n.negotiate(query=None, cookie=None, accept_language="zh;q=0.4, en;q=0.9") == "en"
    assert i18n.negotiate(query=None, cookie=None, accept_language="en;q=NaN, zh-CN;q=0.5") == "zh_CN"


@pytest.mark.parametrize("header", BAD_LANGUAGE_HEADERS)
def test_a_malformed_language_header_falls_back_instead_of_failing_the_page(client, header):
    response = client.get("/", headers={"Accept-Language": header.encode("utf-8")})
    assert response.status_code == 200
    assert response.headers["content-language"] in ("zh-CN", "en")


@given(header=HEADER_TEXT)
@FUZZ
def test_fuzzed_language_headers_never_give_a_server_error(client, header):
    assert client.get("/login", headers={"Accept-Language": header}).status_code < 500


# --- Integers ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", FOREIGN_DIGITS + ["9" * 20, "9" * 5000])
def test_only_ascii_digits_within_bounds_are_whole_numbers(text):
    assert parse.whole_number(text, low=0, high=parse.MAX_ID) is None


def test_whole_numbers_keep_their_bounds():
    assert parse.whole_number("7", low=1, high=7) == 7
    assert parse.whole_number("8", low=1, high=7) is None
    assert parse.whole_number("0", low=1, high=7) is None


@given(st.text(max_size=30))
@settings(max_examples=500, deadline=None)
def test_whole_number_never_fails_and_never_leaves_its_bounds(text):
    found = parse.whole_number(text, low=1, high=1000)
    assert found is None or (1 <= found <= 1000 and re.fullmatch(r"[0-9]+", text.strip(), re.ASCII))


@given(st.integers(min_value=-10, max_value=2**70))
@settings(max_examples=500, deadline=None)
def test_the_id_converter_matches_exactly_the_keys_a_database_can_hold(number):
    matches = re.fullmatch(parse.IdConvertor.regex, str(number)) is not None
    assert matches == (1 <= number <= parse.MAX_ID)


@pytest.mark.parametrize("tail", [str(2**31), str(2**63), "9" * 30, "0", "007", "²", "①", "١٢", "-1", "1.0"])
def test_an_id_out_of_range_or_not_in_ascii_digits_is_no_page(client, db, frozen_clock, tail):
    firm = Firm(db)
    firm.sign_in(client)
    assert client.get(f"/employer/employees/{tail}/end").status_code == 404
    assert client.get(f"/employer/requests/R1/attachments/{tail}").status_code == 404


def test_the_largest_key_reaches_the_database_and_is_simply_not_found(client, db, frozen_clock):
    firm = Firm(db)
    firm.sign_in(client)
    assert client.get(f"/employer/employees/{parse.MAX_ID}/end").status_code == 404
    assert client.get(f"/employer/employees/{firm.spell_ids[0]}/end").status_code == 200


@pytest.mark.parametrize("page", FOREIGN_DIGITS[:-2] + ["9" * 30, "0", "100001"])
def test_a_bad_page_number_is_a_400_with_a_message(client, db, frozen_clock, page):
    sign_in_person(client, new_person(db))
    response = client.get("/me/requests", params={"page": page, "lang": "en"})
    assert response.status_code == 400
    assert "Enter a whole number from 1 to 100000, in digits 0 to 9." in response.text


def test_a_good_or_missing_page_number_shows_the_page(client, db, frozen_clock):
    sign_in_person(client, new_person(db))
    assert client.get("/me/requests", params={"page": "2"}).status_code == 200
    assert client.get("/me/requests", params={"page": ""}).status_code == 200
    chinese = client.get("/me/requests", params={"page": "²"})
    assert chinese.status_code == 400 and "请输入1至100000之间的整数" in chinese.text


@pytest.mark.parametrize("path", ["/employer/employees", "/employer/declarations/preview/unknown-token"])
@pytest.mark.parametrize("page", ["²", "9" * 30])
def test_employer_page_numbers_are_parsed_the_same_way(client, db, frozen_clock, path, page):
    Firm(db).sign_in(client)
    assert client.get(path, params={"page": page}).status_code == 400


@pytest.mark.parametrize("bill", [str(2**31), str(2**63), "9" * 30, "²", "①", "-1"])
def test_bill_ids_out_of_range_in_the_payment_form_are_ignored_not_an_error(client, db, frozen_clock, bill):
    Firm(db).sign_in(client)
    page = client.get("/employer/bills")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert client.post("/employer/bills/pay", data={"csrf_token": token, "bill": [bill, "1"]}).status_code in (404, 422)


@pytest.mark.parametrize("amount", ["1E+999999", "-1E+999999", "1e12", "NaN"])
def test_a_case_payload_amount_no_format_can_round_is_not_shown_as_money(amount):
    assert payload_display.money(amount) is None


@pytest.mark.parametrize("year", ["²", "①", "9" * 30, "1"])
def test_an_unknown_declaration_year_shows_the_current_one(client, db, frozen_clock, year):
    Firm(db).sign_in(client)
    assert client.get("/employer/declarations", params={"year": year}).status_code == 200


@given(page=st.text(max_size=40))
@FUZZ
def test_fuzzed_page_numbers_never_give_a_server_error(client, db, frozen_clock, page):
    if not client.cookies:
        sign_in_person(client, new_person(db))
    assert client.get("/me/requests", params={"page": page}).status_code in (200, 400)


@given(tail=st.text(alphabet=st.characters(max_codepoint=0x2500, blacklist_categories=("Cc", "Cs")), min_size=1,
                   max_size=40))
@FUZZ
def test_fuzzed_ids_in_paths_never_give_a_server_error(client, db, frozen_clock, tail):
    if not client.cookies:
        sign_in_person(client, new_person(db))
    assert client.get(f"/me/requests/R1/attachments/{quote(tail, safe='')}").status_code < 500


@given(spell=st.text(max_size=30), end=st.text(max_size=20))
@FUZZ
def test_fuzzed_employer_forms_never_give_a_server_error(client, db, frozen_clock, spell, end):
    if not client.cookies:
        Firm(db).sign_in(client)
    page = client.get("/employer/employees")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post("/employer/employees", data={"csrf_token": token, "id_number": spell, "name": end,
                                                        "start_month": end, "wage": spell})
    assert response.status_code < 500


# --- Request ids and the request log ----------------------------------------------------------------------

class Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


@pytest.fixture
def request_lines():
    handler = Lines()
    request_log.log.addHandler(handler)
    yield handler.lines
    request_log.log.removeHandler(handler)


def test_each_request_logs_one_json_line_without_personal_data(client, db, frozen_clock, request_lines):
    number = new_person(db)
    sign_in_person(client, number)
    request_lines.clear()
    response = client.get("/me/requests", params={"page": "1", "q": number})
    assert len(request_lines) == 1
    line = json.loads(request_lines[0])
    assert set(line) == {"at", "request_id", "route", "method", "status", "duration_ms"}
    assert line["route"] == "person_requests" and line["method"] == "GET" and line["status"] == 200
    assert line["request_id"] == response.headers["x-request-id"]
    assert number not in request_lines[0] and "page" not in request_lines[0]


def test_an_unknown_address_logs_no_route_and_its_status(client, request_lines):
    client.get("/no/such/page/220102198503150111")
    line = json.loads(request_lines[-1])
    assert line["route"] is None and line["status"] == 404 and "220102" not in request_lines[-1]


def test_a_request_id_is_generated_and_printed_on_the_404_page(client):
    response = client.get("/no-such-page?lang=en")
    request_id = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{16}", request_id)
    assert response.status_code == 404 and "quote this reference" in response.text and request_id in response.text


@pytest.mark.parametrize("incoming, kept", [
    ("3f2a9c1e-77aa-4b0e-9a43-0c1d2e3f4a5b", True),
    ("01HZX3K9QW8R7T6Y5U4I3O2P1A", True),
    ("short", False),
    ("<script>alert(1)</script>", False),
    ("with space inside here", False),
    ("a" * 65, False),
    ("../../etc/passwd", False),
])
def test_an_incoming_request_id_is_kept_only_when_it_matches_the_pattern(client, incoming, kept):
    response = client.get("/", headers={"X-Request-ID": incoming})
    assert (response.headers["x-request-id"] == incoming) == kept
    assert re.fullmatch(request_log.INCOMING.pattern, response.headers["x-request-id"])


@pytest.mark.parametrize("status", [500, 503])
def test_server_error_pages_print_the_request_id_in_the_visitors_language(app, status):
    scope = {"type": "http", "method": "GET", "path": "/", "query_string": b"", "headers": [], "app": app,
             "state": {"request_id": "0123456789abcdef"}}
    i18n.set_locale("zh_CN")
    page = error_page(Request(scope), status).body.decode()
    assert "如需就此联系我们，请提供以下编号：" in page and "0123456789abcdef" in page


@given(incoming=HEADER_TEXT)
@FUZZ
def test_fuzzed_request_ids_are_never_echoed_unless_safe(client, incoming):
    response = client.get("/", headers={"X-Request-ID": incoming})
    assert response.status_code == 200
    assert re.fullmatch(request_log.INCOMING.pattern, response.headers["x-request-id"])

