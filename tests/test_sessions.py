"""Server-side sessions: renewed at sign-in, ended after 30 idle minutes or at sign-out; careful cookies."""

from datetime import timedelta

import pytest
from sqlmodel import func, select

from portal import clock
from portal.app import create_app
from portal.models import WebSession
from portal.settings import Settings
from tests.helpers import (
    PASSWORD,
    SESSION_COOKIE,
    another_browser,
    cookie_header,
    new_person,
    session_cookie,
    set_cookie_headers,
    sign_in_person,
    token_from,
)


def visit_with(app, token: str, path: str = "/me"):
    """Another browser presenting a copied session cookie value."""
    with another_browser(app) as browser:
        return browser.get(path, headers={"Cookie": f"{SESSION_COOKIE}={token}"})


def open_sessions(db) -> int:
    found = db.exec(select(func.count()).select_from(WebSession)).one()
    db.commit()
    return found


def sign_in_again(client, number: str):
    """Signing in while already signed in: the form posted from a page of the signed-in session."""
    return client.post("/login", data={"account_type": "person", "username": number, "password": PASSWORD,
                                       "csrf_token": token_from(client, "/me")})


def test_signing_in_sets_a_session_cookie_and_stores_only_its_hash(client, db, frozen_clock):
    sign_in_person(client, new_person(db))
    token = session_cookie(client)
    assert token and len(token) >= 40
    stored = db.exec(select(WebSession)).one()
    assert stored.id != token and token not in stored.id
    assert (stored.account_kind, stored.created_at, stored.client_address) == ("person", clock.now(), "testclient")


def test_each_sign_in_gets_a_new_session_id_and_the_old_one_stops_working(client, app, db, frozen_clock):
    number = new_person(db)
    sign_in_person(client, number)
    first = session_cookie(client)

    response = sign_in_again(client, number)

    assert response.status_code == 303 and response.headers["location"] == "/me"
    second = session_cookie(client)
    assert second and second != first
    assert client.get("/me").status_code == 200
    assert open_sessions(db) == 1
    assert visit_with(app, second).status_code == 200
    stale = visit_with(app, first)
    assert stale.status_code == 303 and stale.headers["location"].startswith("/login")


def test_a_session_id_chosen_by_someone_else_is_never_adopted(client, db, frozen_clock):
    number = new_person(db)
    client.cookies.set(SESSION_COOKIE, "planted-by-an-attacker", domain="testserver.local")
    sign_in_person(client, number)
    assert session_cookie(client) not in (None, "planted-by-an-attacker")


def test_thirty_one_idle_minutes_end_the_session(client, db, frozen_clock):
    sign_in_person(client, new_person(db))
    frozen_clock(clock.now() + timedelta(minutes=31))

    response = client.get("/me")

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fme&account_type=person"
    assert open_sessions(db) == 0


def test_twenty_nine_idle_minutes_do_not(client, db, frozen_clock):
    sign_in_person(client, new_person(db))
    frozen_clock(clock.now() + timedelta(minutes=29))
    assert client.get("/me").status_code == 200


def test_activity_keeps_the_session_alive(client, db, frozen_clock):
    sign_in_person(client, new_person(db))
    start = clock.now()
    for minutes in (20, 40, 60, 80):
        frozen_clock(start + timedelta(minutes=minutes))
        assert client.get("/me").status_code == 200, minutes
    frozen_clock(start + timedelta(minutes=111))
    assert client.get("/me").status_code == 303


def test_signing_out_ends_the_session_on_the_server(client, app, db, frozen_clock):
    sign_in_person(client, new_person(db))
    token = session_cookie(client)
    assert visit_with(app, token).status_code == 200

    response = client.post("/logout", data={"csrf_token": token_from(client, "/me")})

    assert response.status_code == 303 and response.headers["location"] == "/"
    assert session_cookie(client) is None
    assert open_sessions(db) == 0
    assert visit_with(app, token).status_code == 303


def test_the_session_cookie_is_http_only_and_same_site_lax_but_not_secure_in_tests(client, db, frozen_clock):
    number = new_person(db)
    client.get("/login")
    response = sign_in_person(client, number)

    header = cookie_header(response, SESSION_COOKIE).lower()
    assert "httponly" in header and "samesite=lax" in header and "path=/" in header
    assert "secure" not in header


@pytest.fixture
def production_app(database_url, db):
    application = create_app(Settings(database_url=database_url, secret_key="a-production-secret-for-tests",
                                      env="production", payment_secret="a-production-payment-secret"))
    yield application
    application.state.engine.dispose()


def test_in_production_every_cookie_is_also_secure(production_app, db, frozen_clock):
    number = new_person(db)
    with another_browser(production_app, base_url="https://testserver") as browser:
        first = browser.get("/login?lang=en")
        signed_in = sign_in_person(browser, number)
        out = browser.post("/logout", data={"csrf_token": token_from(browser, "/me")})
        display = browser.post("/display", data={"mode": "large", "csrf_token": token_from(browser, "/")})

    assert signed_in.headers["location"] == "/me"
    headers = set_cookie_headers(first) + set_cookie_headers(signed_in) + set_cookie_headers(out) \
        + set_cookie_headers(display)
    names = {header.split("=", 1)[0] for header in headers}
    assert {"portal_lang", "portal_csrf", SESSION_COOKIE, "portal_flash", "portal_display"} <= names
    for header in headers:
        flags = [flag.strip().lower() for flag in header.split(";")[1:]]
        assert "secure" in flags and "samesite=lax" in flags and "httponly" in flags, header


def test_every_cookie_is_http_only_and_same_site_lax(client, db, frozen_clock):
    number = new_person(db)
    headers = set_cookie_headers(client.get("/login?lang=en")) + set_cookie_headers(sign_in_person(client, number))
    headers += set_cookie_headers(client.post("/logout", data={"csrf_token": token_from(client, "/me")}))
    for header in headers:
        flags = [flag.strip().lower() for flag in header.split(";")[1:]]
        assert "samesite=lax" in flags and "httponly" in flags, header
