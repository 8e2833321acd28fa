from sqlalchemy import event

from tests import factories
from tests.conftest import csrf_token


def test_the_liveness_check_answers_without_asking_the_database_and_the_readiness_check_asks_it(client):
    asked: list[str] = []

    def count(conn, cursor, statement, *args):
        asked.append(statement)

    engine = client.app.state.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get("/healthz")
        assert response.status_code == 200 and response.json() == {"status": "ok"}
        assert asked == []
        assert client.get("/readyz").json() == {"status": "ready", "db": "ok"}
        assert asked != []
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_health_probes_answer_without_a_session_or_a_cookie_and_keep_the_security_headers(client):
    for path in ("/healthz", "/readyz"):
        response = client.get(path)
        assert response.status_code == 200
        assert "set-cookie" not in response.headers  # a page would hand an anonymous visitor a CSRF seed
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-request-id"]


def test_a_person_signs_in_and_lands_on_their_page(client, db):
    account = factories.person_account(db)
    number = db.get(factories.Person, account.person_id).id_number
    db.commit()
    page = client.get("/login")
    response = client.post("/login", data={"account_type": "person", "username": number,
                                           "password": factories.PASSWORD, "csrf_token": csrf_token(page.text)})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/me"
    me = client.get("/me")
    assert me.status_code == 200
    assert "王小明" in me.text
