"""Losing the database while requests flow: a translated 503 page, nothing half-written, recovery without a restart.

PostgreSQL is not stopped (other people use the server): the portal reaches it through a forwarder the test cuts
(new connections refused, open ones dropped) and restores, or its connections are ended on the server.
"""

from __future__ import annotations

import dataclasses
import time

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from portal.app import create_app
from portal.auth import sessions
from tests import factories
from tests.db_proxy import DatabaseProxy
from tests.helpers import another_browser, id_number_of, sign_in_person, snapshot, token_from

APP_NAME = "portal_database_loss_test"


def test_readiness_and_liveness_both_answer_while_the_database_answers(client):
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready", "db": "ok"}
    assert client.get("/healthz").json() == {"status": "ok"}


def test_a_database_that_cannot_be_opened_gives_a_translated_503_page_not_a_trace(settings, tmp_path):
    unreachable = f"sqlite:///{tmp_path / 'no-such-directory' / 'portal.db'}"
    app = create_app(dataclasses.replace(settings, database_url=unreachable))
    try:
        # A returning visitor's session cookie makes every page read the database first.
        with TestClient(app, follow_redirects=False, cookies={sessions.COOKIE: "a-returning-visitor"}) as browser:
            for language, words in (("zh-CN", "抱歉，服务暂时不可用"), ("en", "Nothing you entered was saved")):
                page = browser.get("/", headers={"Accept-Language": language})
                assert page.status_code == 503 and words in page.text and "Traceback" not in page.text
        with another_browser(app) as probe:  # a load balancer's probe carries no session
            assert probe.get("/readyz").status_code == 503
            assert probe.get("/healthz").json() == {"status": "ok"}  # the process serves; /readyz tells the rest
    finally:
        app.state.engine.dispose()


@pytest.fixture
def proxy(database_url):
    url = make_url(database_url)
    forwarder = DatabaseProxy(url.host or "127.0.0.1", url.port or 5432).start()
    yield forwarder
    forwarder.close()


@pytest.fixture
def proxied(settings, proxy, db):
    """A browser on a portal whose only way to the database is the proxy."""
    url = make_url(settings.database_url).set(host="127.0.0.1", port=proxy.port)
    url = url.update_query_dict({"application_name": APP_NAME})
    app = create_app(dataclasses.replace(settings, database_url=url.render_as_string(hide_password=False)))
    try:
        with TestClient(app, base_url="http://testserver", follow_redirects=False) as browser:
            yield browser
    finally:
        app.state.sealer.close()
        app.state.engine.dispose()


def _signed_in_person(db, browser) -> None:
    """Signed in, every page reads the visitor's session from the database first."""
    account = factories.person_account(db, name="王小明")
    number = id_number_of(db, account)
    db.commit()
    assert sign_in_person(browser, number).status_code == 303
    assert _signed_in_home(browser)


def _signed_in_home(browser) -> bool:
    page = browser.get("/")
    return page.status_code == 200 and "王小明" in page.text


@pytest.mark.postgres_only
def test_while_the_database_is_away_pages_answer_a_translated_503_and_come_back_by_themselves(db, proxied, proxy):
    _signed_in_person(db, proxied)
    proxy.cut()
    for language, words in (("zh-CN", "抱歉，服务暂时不可用"), ("en", "Sorry, the service is unavailable at the moment")):
        page = proxied.get("/", headers={"Accept-Language": language})
        assert page.status_code == 503, page.text
        assert words in page.text and "Traceback" not in page.text and "psycopg" not in page.text
        assert page.headers["content-type"].startswith("text/html") and page.headers["Retry-After"]
    with another_browser(proxied.app) as probe:  # a load balancer's probe, without a session
        ready = probe.get("/readyz")
        assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
        alive = probe.get("/healthz")  # liveness: restarting the process would not bring the database back
        assert alive.status_code == 200 and alive.json() == {"status": "ok"}

        proxy.restore()
        started = time.monotonic()
        assert probe.get("/readyz").status_code == 200  # the very first request after the return succeeds
        assert time.monotonic() - started < 5
    assert _signed_in_home(proxied)  # the same session, no restart


@pytest.mark.postgres_only
def test_a_request_whose_database_goes_away_before_its_commit_leaves_nothing_half_written(
        db, engine, proxied, proxy):
    account = factories.person_account(db)
    number = id_number_of(db, account)
    db.commit()
    token = token_from(proxied, "/login?account_type=person")
    before = snapshot(engine)

    def cut_after_everything_is_written(session):
        session.flush()  # the session, its audit event and any counters are on the server, not committed
        proxy.cut()

    event.listen(proxied.app.state.sessionmaker, "before_commit", cut_after_everything_is_written, once=True)
    answer = proxied.post("/login", data={"account_type": "person", "username": number,
                                          "password": factories.PASSWORD, "csrf_token": token})
    assert answer.status_code == 503
    proxy.restore()
    assert snapshot(engine) == before
    assert sign_in_person(proxied, number).status_code == 303


@pytest.mark.postgres_only
def test_when_the_server_ends_the_portals_connections_at_most_one_request_fails_and_with_a_503(
        db, engine, proxied):
    _signed_in_person(db, proxied)
    with engine.connect() as connection:
        ended = connection.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                        "WHERE application_name = :name"), {"name": APP_NAME}).scalar()
    assert ended >= 1
    answers = [proxied.get("/").status_code for _ in range(3)]
    assert answers in ([200, 200, 200], [503, 200, 200]), answers
