"""403, 404 and 500 pages in the visitor's language: ?lang= (remembered), else Accept-Language, else Chinese."""

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from portal import i18n
from portal.app import create_app
from portal.web.access import PUBLIC
from portal.web.endpoint import endpoint
from tests.helpers import html_lang, new_person, sign_in_person

TITLES = {
    403: "You cannot see this page",
    404: "Page not found",
    500: "Sorry, there is a problem with the service",
}


def in_chinese(message: str) -> str:
    return i18n.translations("zh_CN").gettext(message)


def assert_english(response, status):
    assert response.status_code == status
    assert html_lang(response.text) == "en"
    assert response.headers["content-language"] == "en"
    assert f"<h1>{TITLES[status]}</h1>" in response.text


def assert_chinese(response, status):
    assert response.status_code == status
    assert html_lang(response.text) == "zh-CN"
    assert response.headers["content-language"] == "zh-CN"
    assert f"<h1>{in_chinese(TITLES[status])}</h1>" in response.text
    if in_chinese(TITLES[status]) != TITLES[status]:
        assert TITLES[status] not in response.text


@endpoint(PUBLIC)
def broken(ctx):
    raise RuntimeError("a test-only failure")


@pytest.fixture
def failing_app(settings, db):
    app = create_app(settings)
    app.router.routes.insert(0, Route("/test-only/broken", broken))
    yield app
    app.state.engine.dispose()


@pytest.fixture
def person_client(client, db, frozen_clock):
    sign_in_person(client, new_person(db))
    return client


def test_the_404_page_is_chinese_by_default(client):
    assert_chinese(client.get("/no-such-page"), 404)


def test_the_404_page_follows_accept_language(client):
    assert_english(client.get("/no-such-page", headers={"Accept-Language": "en-US,en;q=0.9,zh;q=0.8"}), 404)
    assert_chinese(client.get("/no-such-page", headers={"Accept-Language": "zh-CN,en;q=0.5"}), 404)


def test_choosing_english_is_remembered_over_accept_language(client):
    assert_english(client.get("/no-such-page?lang=en"), 404)
    assert client.cookies.get(i18n.LANG_COOKIE) == "en"
    assert_english(client.get("/another-missing-page", headers={"Accept-Language": "zh-CN"}), 404)
    assert_chinese(client.get("/no-such-page?lang=zh_CN", headers={"Accept-Language": "en"}), 404)
    assert_chinese(client.get("/no-such-page", headers={"Accept-Language": "en"}), 404)


def test_an_unknown_object_gives_the_404_page(person_client):
    assert_english(person_client.get("/me/nothing-here?lang=en"), 404)


def test_the_403_page_in_both_languages(person_client):
    assert_chinese(person_client.get("/staff"), 403)
    assert_english(person_client.get("/staff?lang=en"), 403)
    assert "/me" in person_client.get("/staff").text  # a way back to the visitor's own home


def test_the_500_page_in_both_languages(failing_app):
    with TestClient(failing_app, raise_server_exceptions=False) as browser:
        assert_chinese(browser.get("/test-only/broken"), 500)
        assert_english(browser.get("/test-only/broken", headers={"Accept-Language": "en"}), 500)
        assert_english(browser.get("/test-only/broken?lang=en"), 500)
        assert "12333" in browser.get("/test-only/broken").text


def test_the_500_page_does_not_show_the_error(failing_app):
    with TestClient(failing_app, raise_server_exceptions=False) as browser:
        page = browser.get("/test-only/broken?lang=en").text
    assert "a test-only failure" not in page and "Traceback" not in page
