"""A form sent after the session ended is not lost: sign in again on the right tab and find it filled in as it was.
A form whose security token is wrong says the page expired, not that the visitor may not see it."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from portal import clock, i18n
from portal.models.queue import Case
from tests.conftest import csrf_token
from tests.helpers import Cast, html_lang, sign_in_operator, sign_in_person, snapshot

ENDED = {"en": "Your session ended, so you were signed out. Sign in again to continue: what you entered is kept.",
         "zh_CN": "您的登录已超时，系统已为您退出。请重新登录后继续办理，您填写的内容已保留。"}
REFILLED = {"en": "What you entered before your session ended is filled in again. Check it and send it.",
            "zh_CN": "您在登录超时前填写的内容已重新填入，请核对后提交。"}


@pytest.fixture
def cast(db, frozen_clock):
    return Cast(db)


def _kept_data(tables: dict) -> dict:
    """Everything but the sessions table: the ended session is removed, nothing else changes."""
    return {name: rows for name, rows in tables.items() if name != "web_session"}


def _idle(minutes: int = 31) -> None:
    clock.freeze(clock.now() + timedelta(minutes=minutes))


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_a_correction_sent_after_the_session_ended_is_kept_through_sign_in(client, db, engine, cast, language):
    client.cookies.set("portal_lang", language)
    assert sign_in_person(client, cast.number).status_code == 303
    form = client.get("/me/records/correction")
    typed = {"csrf_token": csrf_token(form.text), "what": "missing", "months": "2023-01 至 2023-03",
             "details": "这几个月在长春工作，单位未申报", "commitment": "yes"}
    _idle()
    before = snapshot(engine)

    sent = client.post("/me/records/correction", data=typed)

    assert sent.status_code == 303
    target = urlsplit(sent.headers["location"])
    assert target.path == "/login"
    assert parse_qs(target.query) == {"next": ["/me/records/correction"], "account_type": ["person"]}
    assert _kept_data(snapshot(engine)) == _kept_data(before)
    login = client.get(sent.headers["location"])
    assert ENDED[language] in login.text and html_lang(login.text) == ("en" if language == "en" else "zh-CN")
    assert 'account_type=person&amp;next=/me/records/correction" aria-current="page"' in login.text

    back = sign_in_person(client, cast.number, next_page="/me/records/correction")
    assert back.headers["location"] == "/me/records/correction"
    page = client.get("/me/records/correction")
    assert REFILLED[language] in page.text
    assert 'value="2023-01 至 2023-03"' in page.text and "这几个月在长春工作，单位未申报" in page.text
    assert 'value="missing" checked' in page.text or 'value="missing" checked' in page.text.replace("  ", " ")
    assert db.query(Case).count() == 0  # nothing was filed behind the visitor's back
    assert "2023-01 至 2023-03" not in client.get("/me/records/correction").text  # kept once, not forever


def test_an_employer_form_sends_the_operator_to_the_employer_tab(client, db, cast):
    assert sign_in_operator(client, cast.admin, cast.employer.credit_code).status_code == 303
    form = client.get("/employer/operators")
    _idle()
    sent = client.post("/employer/operators", data={"csrf_token": csrf_token(form.text), "name": "钱多多",
                                                    "username": "qian", "mobile": "13700000003"})
    assert parse_qs(urlsplit(sent.headers["location"]).query)["account_type"] == ["employer"]


def test_what_was_kept_for_one_page_is_not_shown_on_another(client, db, cast):
    assert sign_in_person(client, cast.number).status_code == 303
    form = client.get("/me/records/correction")
    _idle()
    client.post("/me/records/correction", data={"csrf_token": csrf_token(form.text), "months": "2019-03"})
    sign_in_person(client, cast.number)
    assert 'value="2019-03"' not in client.get("/me/flexible/exception").text


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_a_wrong_security_token_says_the_page_expired(client, db, cast, language):
    client.cookies.set("portal_lang", language)
    assert sign_in_person(client, cast.number).status_code == 303
    response = client.post("/me/records/correction", data={"csrf_token": "0" * 64, "months": "2019-03"})
    assert response.status_code == 403
    i18n.set_locale(language)
    assert i18n.gettext("This page has expired") in response.text
    assert i18n.gettext("You cannot see this page") not in response.text
    i18n.set_locale(i18n.DEFAULT_LOCALE)
