"""The audit log: who did what, when, from where, to what; a hash chain that shows tampering."""

import json

import pytest
from sqlalchemy import text
from sqlmodel import select

from portal import clock
from portal.cli import main as portal
from portal.models import AuditEvent, PersonAccount
from portal.services import audit
from tests import factories
from tests.helpers import WRONG_PASSWORD, new_person, sign_in_person, token_from

pytestmark = pytest.mark.usefixtures("cheap_hashing")  # these tests create passwords


def events(db, action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.seq)
    if action:
        query = query.where(AuditEvent.action == action)
    found = list(db.exec(query).all())
    db.commit()
    return found


def verify(db) -> audit.ChainReport:
    report = audit.verify(session=db)
    db.commit()
    return report


@pytest.fixture
def cli_database(database_url, monkeypatch):
    """Points the ``portal`` command at the test database."""
    monkeypatch.setenv("PORTAL_DATABASE_URL", database_url)
    monkeypatch.setenv("PORTAL_ENV", "test")


@pytest.fixture
def busy_chain(client, db, frozen_clock):
    """A few events of different kinds, written through the app."""
    number = new_person(db)
    sign_in_person(client, number, WRONG_PASSWORD)
    sign_in_person(client, number)
    client.post("/logout", data={"csrf_token": token_from(client, "/me")})
    sign_in_person(client, number)
    chain = events(db)
    assert len(chain) == 4
    return chain


def test_a_successful_sign_in_is_recorded_with_actor_time_address_and_object(client, db, frozen_clock):
    number = new_person(db)
    sign_in_person(client, number)
    account = db.exec(select(PersonAccount)).one()

    [event] = events(db, "auth.signed_in")

    assert (event.actor_kind, event.actor_id) == ("person", str(account.id))
    assert (event.at, event.client_address) == (clock.now(), "testclient")
    assert (event.object_type, event.object_id) == ("person", str(account.id))


def test_a_failed_sign_in_is_recorded_without_the_password(client, db, frozen_clock):
    number = new_person(db)
    sign_in_person(client, number, WRONG_PASSWORD)
    account = db.exec(select(PersonAccount)).one()

    [event] = events(db, "auth.sign_in_failed")

    assert (event.actor_kind, event.actor_id, event.client_address) == ("anonymous", "", "testclient")
    assert (event.object_type, event.object_id, event.at) == ("person", str(account.id), clock.now())
    assert json.loads(event.detail)["username"] == number
    assert WRONG_PASSWORD not in event.detail


def test_a_sign_in_to_an_unknown_account_is_recorded_too(client, db, frozen_clock):
    sign_in_person(client, "22010219900101005X")
    [event] = events(db, "auth.sign_in_failed")
    assert (event.object_type, event.object_id) == ("person", "")


def test_a_lockout_and_the_refusals_that_follow_are_recorded(client, db, frozen_clock):
    number = new_person(db)
    for _ in range(6):
        sign_in_person(client, number, WRONG_PASSWORD)
    account_id = str(db.exec(select(PersonAccount.id)).one())

    actions = [(event.action, event.object_id) for event in events(db)]

    assert actions == [("auth.sign_in_failed", account_id)] * 5 + [("auth.locked", account_id),
                                                                    ("auth.refused_locked", account_id)]


def test_registration_is_recorded(client, db, frozen_clock):
    password = "Spring-Garden-Lantern"
    client.post("/register", data={"id_number": "22010219900101005X", "name": "李明", "mobile": "13912345678",
                                   "password": password, "password_confirm": password,
                                   "csrf_token": token_from(client, "/register")})
    [event] = events(db, "account.person_registered")
    assert (event.actor_kind, event.client_address, event.object_type) == ("anonymous", "testclient", "person")
    assert password not in event.detail


def test_a_role_change_is_recorded_with_before_and_after(db, cli_database, frozen_clock, capsys):
    member = factories.staff(db, staff_number="S9001", roles="handler")
    db.commit()

    assert portal(["staff", "roles", "S9001", "--role", "reviewer", "--role", "supervisor"]) == 0

    [event] = events(db, "account.role_changed")
    assert (event.actor_kind, event.object_type, event.object_id) == ("system", "staff", str(member.id))
    assert json.loads(event.detail) == {"before": "handler", "after": "reviewer supervisor"}
    assert event.at == clock.now()


def test_each_event_carries_the_hash_of_the_one_before(busy_chain):
    assert [event.seq for event in busy_chain] == [1, 2, 3, 4]
    assert busy_chain[0].prev_hash == audit.GENESIS
    for previous, event in zip(busy_chain, busy_chain[1:], strict=False):
        assert event.prev_hash == previous.hash
    assert len({event.hash for event in busy_chain}) == 4


def test_an_untouched_chain_verifies(db, busy_chain):
    report = verify(db)
    assert report.intact and report.events == 4


def test_an_empty_log_verifies(db):
    assert verify(db).intact


def test_changing_an_events_detail_breaks_the_chain_at_that_event(db, engine, busy_chain):
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_event SET detail = '{\"username\": \"someone else\"}' WHERE seq = 2"))
    report = verify(db)
    assert (report.intact, report.first_broken, report.events) == (False, 2, 1)


def test_rewriting_an_event_and_its_hash_breaks_the_link_to_the_next(db, engine, busy_chain):
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_event SET client_address = '10.0.0.9', hash = :fake WHERE seq = 2"),
                           {"fake": "f" * 64})
    assert verify(db).first_broken == 2


def test_deleting_the_last_event_is_noticed(db, engine, busy_chain):
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_event WHERE seq = 4"))
    report = verify(db)
    assert (report.intact, report.first_broken, report.events) == (False, 4, 3)


def test_deleting_an_event_in_the_middle_is_noticed(db, engine, busy_chain):
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_event WHERE seq = 2"))
    assert verify(db).first_broken == 3


def test_the_command_reports_an_intact_chain_with_exit_code_0(db, busy_chain, cli_database, capsys):
    assert portal(["audit", "verify"]) == 0
    assert "intact: 4 events" in capsys.readouterr().out


def test_the_command_reports_the_first_broken_event_with_exit_code_1(db, engine, busy_chain, cli_database,
                                                                     capsys):
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_event SET action = 'auth.nothing_happened' WHERE seq = 3"))
    assert portal(["audit", "verify"]) == 1
    assert "broken at event 3" in capsys.readouterr().out
