"""Every state-changing request must carry the CSRF token of the visitor's own session."""

import pytest

from portal import i18n
from tests.conftest import csrf_token
from tests.helpers import (
    PASSWORD,
    SESSION_COOKIE,
    Cast,
    app_routes,
    fill_path,
    html_lang,
    new_person,
    set_cookie_headers,
    snapshot,
    token_from,
)

EXPIRED = "This form has expired or did not come from this site."
# What a real visitor would send to each form, so that a request that slipped through would change something.
FORMS = {
    "/login": {"account_type": "person", "password": PASSWORD},
    "/register": {"name": "李明", "mobile": "13912345678", "password": "Spring-Garden-Lantern",
                  "password_confirm": "Spring-Garden-Lantern", "id_number": "22010219900101005X"},
    "/register/employer": {"credit_code": "91350100M000100Y43", "employer_name": "长春样例有限公司",
                           "region": "220100", "username": "zhaoli", "operator_name": "赵丽",
                           "mobile": "13912345678", "password": "Harbour-Lights-Evening",
                           "password_confirm": "Harbour-Lights-Evening"},
    "/display": {"mode": "large", "next": "/"},
    "/employer/operators": {"name": "钱多多", "username": "qian", "mobile": "13700000003",
                            "password": "Harbour-Lights-Evening", "password_confirm": "Harbour-Lights-Evening"},
    "/employer/operators/{operator_id}/active": {"active": "0"},
}
CHANGE_COOKIES = (SESSION_COOKIE, "portal_flash", "portal_display")


def post_routes(app):
    """Every POST route that takes forms; machine callbacks that sign their body are exempt (see below)."""
    return [(path, endpoint) for path, methods, endpoint in app_routes(app)
            if "POST" in methods and endpoint.__csrf_protected__]


def test_only_the_signed_machine_callbacks_are_exempt_from_the_csrf_check(app):
    """The payment provider's callback and other provinces' messages sign their body with HMAC instead."""
    exempt = [path for path, methods, endpoint in app_routes(app) if not endpoint.__csrf_protected__]
    assert sorted(exempt) == ["/interprovincial/messages", "/payments/callback"]


def who_may_post(access) -> str:
    return "anonymous" if access.kind == "public" else access.kind


@pytest.fixture
def cast(db, frozen_clock):
    return Cast(db)


def test_the_app_has_forms_to_protect(app):
    assert {"/login", "/logout", "/register", "/staff/queue/take"} <= {
        path for path, _ in post_routes(app)}


@pytest.mark.parametrize("sent", ["missing", "wrong", "another visitor's"])
def test_every_post_without_the_right_token_gets_a_403_page_in_english_and_changes_nothing(
        app, engine, cast, sent):
    with cast.browser(app, "anonymous") as stranger:
        strangers_token = token_from(stranger, "/")
    browsers = {}
    for template, endpoint in post_routes(app):
        kind = who_may_post(endpoint.__access__)
        browser = browsers.get(kind) or browsers.setdefault(kind, cast.browser(app, kind))
        path = fill_path(template, cast.path_values)
        data = dict(FORMS.get(template.replace(":int", ""), {}))
        if template == "/login":
            data["username"] = cast.number
        if sent == "wrong":
            data["csrf_token"] = "0" * 64
        elif sent == "another visitor's":
            data["csrf_token"] = strangers_token
        before = snapshot(engine)

        response = browser.post(path, data=data, headers={"Accept-Language": "en"})

        assert response.status_code == 403, (path, kind, response.status_code)
        assert EXPIRED in response.text, path
        assert html_lang(response.text) == "en", path
        assert snapshot(engine) == before, path
        changed = [h for h in set_cookie_headers(response) if h.startswith(CHANGE_COOKIES)]
        assert changed == [], (path, changed)
    for browser in browsers.values():
        browser.close()


def test_the_403_page_is_in_chinese_by_default(client):
    client.get("/login")
    response = client.post("/login", data={"account_type": "person", "username": "x", "password": "y"})
    assert response.status_code == 403
    assert html_lang(response.text) == "zh-CN"
    assert i18n.translations("zh_CN").gettext(
        "This form has expired or did not come from this site. Go back, reload the page and try again.") \
        in response.text


def test_a_first_visit_that_posts_at_once_is_refused(client):
    response = client.post("/register", data=FORMS["/register"] | {"csrf_token": "anything"})
    assert response.status_code == 403


def test_the_token_from_before_signing_in_no_longer_works_after(client, db, frozen_clock):
    number = new_person(db)
    anonymous_token = token_from(client, "/login")
    client.post("/login", data={"account_type": "person", "username": number, "password": PASSWORD,
                                "csrf_token": anonymous_token})
    assert client.get("/me").status_code == 200

    response = client.post("/logout", data={"csrf_token": anonymous_token})

    assert response.status_code == 403
    assert client.get("/me").status_code == 200
    assert client.post("/logout", data={"csrf_token": token_from(client, "/me")}).status_code == 303


def test_htmx_requests_may_send_the_token_in_a_header(client, frozen_clock):
    page = client.get("/register?lang=en")
    token = csrf_token(page.text)
    assert f'<meta name="csrf-token" content="{token}">' in page.text

    response = client.post("/register/check-id", data={"id_number": "22010219900101005X"},
                           headers={"HX-Request": "true", "X-CSRF-Token": token})

    assert response.status_code == 200
    assert "This identity number looks right." in response.text


def test_htmx_requests_with_a_wrong_header_are_refused(client, frozen_clock):
    client.get("/register")
    for headers in ({"HX-Request": "true"}, {"HX-Request": "true", "X-CSRF-Token": "0" * 64}):
        response = client.post("/register/check-id?lang=en", data={"id_number": "22010219900101005X"},
                               headers=headers)
        assert response.status_code == 403 and EXPIRED in response.text
