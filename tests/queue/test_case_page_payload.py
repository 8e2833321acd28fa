"""The case page shows what the applicant asked for in words: labels, months, money, phrases — never raw JSON."""

from __future__ import annotations

import itertools
import re
from datetime import date
from decimal import Decimal

from portal import clock
from portal.queue import service
from portal.web.staff import payload as payload_display
from tests import factories
from tests.helpers import sign_in_staff
from tests.queue.helpers import operator_actor, person_actor

_keys = itertools.count(1)
SECTION = re.compile(r'<section aria-labelledby="payload-title">(.*?)</section>', re.S)

DEFERRAL = {
    "months": ["2026-10", "2026-09"],
    "windows": {"2026-09": ["2026-10-16", "2027-04-15"], "2026-10": ["2026-11-16", "2027-05-15"]},
    "amount": "12345.6", "reason": "资金周转困难\n下月恢复生产", "credit_code": "91220100MA0000001X",
    "commitment": {"accepted": True, "text": "本单位承诺所填信息真实。", "at": "2026-11-28T10:00:00+08:00"},
}
BACK_PAYMENT = {
    "person_id": 7, "person_name": "王小明", "id_number": "220102198503150111", "spell_id": 11,
    "first_month": "2026-03", "last_month": "2026-04",
    "months": [
        {"month": "2026-03", "base": "5000.00", "employer_part": "800.00", "individual_part": "400.00",
         "personal_account": "400.00", "late_fee_to_quote_date": "150.60"},
        {"month": "2026-04", "base": "5000.00", "employer_part": "800.00", "individual_part": "400.00",
         "personal_account": "400.00", "late_fee_to_quote_date": "132.60"},
    ],
    "contributions": "2400.00", "late_fee": "283.20", "quoted_on": "2026-11-28", "credit_code": "91220100MA0000001X",
}
ENROLMENT_CORRECTION = {"months": ["2025-12", "2025-11"], "what": "wrong_base",
                        "details": "单位按最低基数申报，实际工资为8000元。"}
FLEXIBLE_EXCEPTION = {"reason": "open_spell", "details": "原单位已破产，无法办理停保。", "start_month": "2026-12",
                      "base_percent": 60, "open_spell_since": "2019-04"}


def _case(db, kind: str, payload: dict, *, employer: bool = False):
    if employer:
        actor = operator_actor(factories.operator(db))
    else:
        actor = person_actor(factories.person_account(db, mobile=f"1390000{next(_keys):04d}"))
    case = service.submit(db, kind=kind, applicant=actor, payload=payload, prefecture="220100", channel="web",
                          idempotency_key=f"payload-{next(_keys)}", now=clock.now())
    handler = factories.staff(db, roles="handler")
    db.commit()
    return case, handler


def _payload_section(client, case, lang: str = "en") -> str:
    page = client.get(f"/staff/cases/{case.reference}" + (f"?lang={lang}" if lang else ""))
    assert page.status_code == 200, page.text[:500]
    section = SECTION.search(page.text)
    assert section, "the page has no payload section"
    return section.group(1)


def _no_raw_data(html: str) -> None:
    assert "{" not in html and "}" not in html and "[" not in html, html
    assert "<code>" not in html  # no field names printed as code
    assert "_" not in re.sub(r"<[^>]+>", "", html), html  # no snake_case key left in the visible text


def test_an_employer_verification_shows_the_employer_in_words(client, db, frozen_clock):
    case, handler = _case(db, "employer_verification", {"credit_code": "91220100MA0000009X", "name": "长春测试有限公司",
                                                        "region": "220100"}, employer=True)
    sign_in_staff(client, handler)
    html = _payload_section(client, case)
    assert "Unified social credit code" in html and "91220100MA0000009X" in html
    assert "Prefecture of registration" in html and "<dd>Changchun</dd>" in html and "<dd>220100</dd>" not in html
    assert "长春测试有限公司" in html
    _no_raw_data(html)


def test_a_deferral_lists_its_months_in_a_table_with_the_late_fee_free_period(client, db, frozen_clock):
    case, handler = _case(db, "deferral", DEFERRAL, employer=True)
    sign_in_staff(client, handler)
    html = _payload_section(client, case)
    assert "Amount to defer" in html and "¥12,345.60" in html
    assert "Why the employer cannot pay on time" in html and "资金周转困难<br>下月恢复生产" in html
    assert '<caption id="payload-months-caption">Months to defer</caption>' in html
    assert '<th scope="col">No late fee until</th>' in html
    assert html.index("September 2026") < html.index("October 2026")  # in order, as the portal writes months
    assert '<th scope="row">September 2026</th>' in html and "April 15, 2027" in html
    assert "本单位承诺所填信息真实" not in html  # the commitment has its own section
    _no_raw_data(html)


def test_a_back_payment_shows_each_month_as_money_with_the_date_the_late_fee_was_quoted_to(client, db, frozen_clock):
    case, handler = _case(db, "back_payment", BACK_PAYMENT, employer=True)
    sign_in_staff(client, handler)
    html = _payload_section(client, case)
    assert "Employee" in html and "王小明" in html and "220102198503150111" in html
    assert "Months asked for" in html and "March 2026 – April 2026" in html
    assert '<caption id="payload-months-caption">Months to pay back</caption>' in html
    for heading in ("Base", "Employer part", "Individual part", "Personal account", "Late fee to November 28, 2026"):
        assert f'<th scope="col" class="num">{heading}</th>' in html
    assert '<th scope="row">March 2026</th>' in html
    assert "¥5,000.00" in html and "¥150.60" in html and "¥132.60" in html
    assert "¥2,400.00" in html and "¥283.20" in html and "Total as quoted" in html and "¥2,683.20" in html
    assert 'role="region" aria-labelledby="payload-months-caption" tabindex="0"' in html
    _no_raw_data(html)


def test_an_enrolment_correction_says_what_is_wrong_in_a_phrase(client, db, frozen_clock):
    case, handler = _case(db, "enrolment_correction", ENROLMENT_CORRECTION)
    sign_in_staff(client, handler)
    html = _payload_section(client, case)
    assert "What is wrong" in html and "A month has the wrong contribution base" in html
    assert "wrong_base" not in html
    assert '<caption id="payload-months-caption">Months concerned</caption>' in html
    assert html.index("November 2025") < html.index("December 2025")
    assert "Details" in html and ENROLMENT_CORRECTION["details"] in html
    _no_raw_data(html)


def test_a_flexible_enrolment_exception_gives_its_reason_as_a_phrase(client, db, frozen_clock):
    case, handler = _case(db, "flexible_exception", FLEXIBLE_EXCEPTION)
    sign_in_staff(client, handler)
    html = _payload_section(client, case)
    assert "An employment is still open on the record" in html and "open_spell" not in html
    assert "Start month" in html and "December 2026" in html
    assert "Employment still open since" in html and "April 2019" in html
    assert "Base, as a percent of the average wage" in html and "<dd>60%</dd>" in html
    assert FLEXIBLE_EXCEPTION["details"] in html
    _no_raw_data(html)


def test_a_kind_no_longer_registered_shows_every_key_generically():
    shown = payload_display.view("no_longer_offered", {"amount": "100", "urgent": True})
    assert shown.template == payload_display.GENERIC and [e.key for e in shown.others] == ["amount", "urgent"]


def test_an_unknown_kind_and_unexpected_keys_fall_back_to_a_nested_list_in_words(client, db, frozen_clock):
    odd = {"destination": {"province": "辽宁省", "months": ["2020-01", "2020-02"]}, "amount": "100",
           "urgent": True, "reason": None}
    case, handler = _case(db, "transfer", odd)
    extra, _handler = _case(db, "deferral", DEFERRAL | {"contact_phone": "0431-1234567", "months": "soon"},
                            employer=True)
    sign_in_staff(client, handler)

    html = _payload_section(client, case)
    assert "Destination" in html and "辽宁省" in html and "January 2020" in html
    assert re.search(r"<dd><dl>.*<dd><ul><li>January 2020</li><li>February 2020</li></ul></dd>", html, re.S)
    assert "Amount" in html and "¥100.00" in html and "Yes" in html and "Reason" in html and "—" in html
    assert "{" not in html and "}" not in html and "<code>" not in html

    html = _payload_section(client, extra)
    assert "Other details" in html and "Contact phone" in html and "0431-1234567" in html
    assert "Months concerned" in html and "soon" in html  # months it cannot read are shown as written
    assert "Periods without late fee" in html and "October 16, 2026" in html  # and so are the windows
    assert "{" not in html and "}" not in html and "<code>" not in html


def test_malformed_details_never_break_the_page(client, db, frozen_clock):
    broken = {"months": [{"month": "2026-13", "base": "lots", "surprise": [1, 2]}, {"month": None}],
              "contributions": "x", "late_fee": None, "quoted_on": "yesterday", "first_month": 202603}
    case, handler = _case(db, "back_payment", broken, employer=True)
    correction, _handler = _case(db, "enrolment_correction", {"months": 3, "what": {"odd": 1}})
    sign_in_staff(client, handler)

    html = _payload_section(client, case)
    assert "2026-13" in html and "lots" in html and "Late fee to the quote date" in html
    assert "Other details" in html and "Surprise" in html  # a column for the keys a row should not have
    assert "{" not in html and "}" not in html
    html = _payload_section(client, correction)
    assert "Months concerned" in html and "<dd>3</dd>" in html and "Odd" in html
    assert "{" not in html and "}" not in html


def test_free_text_that_looks_like_html_is_escaped(client, db, frozen_clock):
    case, handler = _case(db, "flexible_exception", FLEXIBLE_EXCEPTION | {
        "details": '<script>alert("x")</script><b>bold</b>', "reason": "<i>mine</i>"})
    sign_in_staff(client, handler)
    html = _payload_section(client, case)
    assert "<script>" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;bold&lt;/b&gt;" in html and "&lt;i&gt;mine&lt;/i&gt;" in html


def test_chinese_uses_the_portal_month_and_money_formats_and_existing_labels(client, db, frozen_clock):
    case, handler = _case(db, "back_payment", BACK_PAYMENT, employer=True)
    sign_in_staff(client, handler)
    html = _payload_section(client, case, lang="zh_CN")
    assert "申请内容" in html
    for label in ("月份", "缴费基数", "单位缴费", "个人缴费", "统一社会信用代码", "职工", "公民身份号码", "缴费金额"):
        assert label in html, label
    assert "2026年3月" in html and "¥5,000.00" in html and "¥2,683.20" in html
    _no_raw_data(html)


def test_the_view_types_values_without_touching_the_database():
    view = payload_display.view("back_payment", BACK_PAYMENT)
    assert view.template == "staff/payload/back_payment.html" and view.others == []
    assert view.data["total"] == payload_display.Shown("money", Decimal("2683.20"))
    assert view.data["rows"][0]["month"] == payload_display.Shown("month", date(2026, 3, 1))
    assert view.data["quoted_on"] == date(2026, 11, 28)

    generic = payload_display.view("a_kind_no_longer_registered", {"b": [{"x": {"y": {"z": {"w": 1}}}}], "a": False})
    assert generic.template == payload_display.GENERIC and [e.key for e in generic.others] == ["a", "b"]
    assert generic.others[0].shown == payload_display.Shown("yes_no", False)

    def types(shown):
        inner = shown.value if shown.type == "list" else [e.shown for e in shown.value] if shown.type == "fields" else []
        return [shown.type, *itertools.chain.from_iterable(types(item) for item in inner)]

    assert types(generic.others[1].shown)[-2:] == ["fields", "deeper"]  # nesting is cut off, never dumped
    assert payload_display.money("1e3") == Decimal("1e3") and payload_display.money("NaN") is None
    assert payload_display.month("2026-00") is None and payload_display.month("2026-12") == date(2026, 12, 1)
