"""The audit log: who did what, when, from where, to what; a hash chain that shows tampering.

Events are written without a lock and sealed into the chain right after the request commits
(or by ``portal audit seal``); the chain protects sealed events and counts the others apart.
"""

import json

import pytest
from sqlalchemy import text
from sqlmodel import select

from portal import audit, clock
from portal.auth.principal import SYSTEM
from portal.cli import main as portal
from portal.db import make_sessionmaker
from portal.models import AuditEvent, AuditHead, PersonAccount
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
    client.post("/register", data={"id_number": "22010219900101005X", "name": "李明",
                                   "password": password, "password_confirm": password,
                                   "csrf_token": token_from(client, "/register")})
    [event] = events(db, "identity.register_started")
    assert (event.actor_kind, event.client_address) == ("anonymous", "testclient")
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
    assert [event.chain_pos for event in busy_chain] == [1, 2, 3, 4]  # sealed right after each request
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


# --- sealing: written without a lock, linked into the chain just after -------------------------------


def write(db, action: str = "test.happened", **fields) -> AuditEvent:
    """One event written and committed the way a service writes it, not sealed yet."""
    event = audit.record(session=db, actor=SYSTEM, action=action, now=clock.now())
    for name, value in fields.items():
        setattr(event, name, value)
    db.commit()
    return event


def seal(engine) -> int | None:
    return audit.seal_if_free(make_sessionmaker(engine))


def head(db) -> tuple | None:
    row = db.get(AuditHead, 1, populate_existing=True)
    db.commit()
    return None if row is None else (row.last_seq, row.last_pos, row.last_hash)


def test_a_written_event_takes_no_chain_lock_and_waits_unsealed(db, frozen_clock):
    before = head(db)
    event = write(db)
    assert (event.chain_pos, event.prev_hash, event.hash) == (None, None, None)
    assert head(db) == before  # the writer never touched the chain's head
    report = verify(db)
    assert (report.intact, report.events, report.unsealed) == (True, 0, 1)


def test_sealing_links_new_events_in_order_and_a_second_run_changes_nothing(db, engine, busy_chain,
                                                                             frozen_clock):
    write(db, "test.first")
    write(db, "test.second")

    assert seal(engine) == 2
    assert seal(engine) == 0

    chain = events(db)
    assert [(event.chain_pos, event.action) for event in chain[4:]] == [(5, "test.first"), (6, "test.second")]
    assert chain[4].prev_hash == chain[3].hash and chain[5].prev_hash == chain[4].hash
    report = verify(db)
    assert (report.intact, report.events, report.unsealed) == (True, 6, 0)


def test_a_crash_while_sealing_leaves_the_chain_as_it_was_and_a_rerun_finishes(db, engine, busy_chain,
                                                                               frozen_clock):
    write(db)
    factory = make_sessionmaker(engine)
    with factory() as sealer:
        assert audit.seal(sealer) == 1
        sealer.rollback()  # the sealer died before committing
    assert verify(db).unsealed == 1

    assert seal(engine) == 1
    report = verify(db)
    assert (report.intact, report.events, report.unsealed) == (True, 5, 0)


def test_gaps_in_sequence_numbers_from_rolled_back_writes_do_not_break_the_chain(db, engine, busy_chain,
                                                                                frozen_clock):
    write(db, seq=9)  # numbers 5 to 8 went to transactions that rolled back
    seal(engine)
    report = verify(db)
    assert (report.intact, report.events) == (True, 5)
    assert events(db)[-1].chain_pos == 5


def test_an_event_that_commits_after_a_later_numbered_one_was_sealed_joins_the_chain_after_it(
        db, engine, busy_chain, frozen_clock):
    write(db, "test.quick", seq=11)
    seal(engine)
    write(db, "test.slow", seq=10)  # numbered first, committed last
    seal(engine)

    sealed = sorted(events(db), key=lambda event: event.chain_pos)
    assert [(event.seq, event.chain_pos) for event in sealed[4:]] == [(11, 5), (10, 6)]
    assert verify(db).intact


def test_a_sealer_that_finds_another_at_work_returns_at_once_and_leaves_the_events(db, engine, frozen_clock):
    write(db)
    if engine.dialect.name == "postgresql":
        with engine.connect() as other_sealer:
            other_sealer.execute(text("SELECT pg_advisory_lock(:key)"), {"key": audit.SEAL_LOCK})
            assert seal(engine) is None
            assert verify(db).unsealed == 1
            other_sealer.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": audit.SEAL_LOCK})
    # SQLite serializes writers: a sealer's own write transaction is the lock.
    assert seal(engine) == 1
    assert verify(db).unsealed == 0


# --- the background sealer: requests raise a flag, one thread per process seals in batches ------------


def test_the_background_sealer_seals_at_once_then_rests_so_later_events_wait_for_one_batch(db, engine,
                                                                                          frozen_clock):
    sealer = audit.Sealer(make_sessionmaker(engine), interval_ms=3_600_000)
    write(db)
    sealer.request()
    assert sealer.wait_for_seals(1)
    assert verify(db).unsealed == 0

    write(db)
    write(db)
    sealer.request()
    sealer.request()
    assert verify(db).unsealed == 2  # resting for the interval: no seal per request
    assert sealer.seals == 1

    sealer.close()  # a worker shutting down seals what it left waiting
    report = verify(db)
    assert (report.intact, report.events, report.unsealed) == (True, 3, 0)


def test_a_sealer_without_an_interval_seals_in_the_callers_thread(db, engine, frozen_clock):
    sealer = audit.Sealer(make_sessionmaker(engine), interval_ms=0)
    write(db)
    sealer.request()
    assert verify(db).unsealed == 0


def test_a_worker_seals_its_requests_events_in_the_background_and_the_rest_when_it_stops(
        settings, db, frozen_clock):
    from dataclasses import replace

    from starlette.testclient import TestClient

    from portal.app import create_app

    app = create_app(replace(settings, audit_seal_ms=3_600_000))
    number = new_person(db)
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        sign_in_person(client, number, password=WRONG_PASSWORD)
        assert app.state.sealer.wait_for_seals(1)
        sign_in_person(client, number)
        assert verify(db).unsealed >= 1  # the second request's events wait for the next batch
    app.state.engine.dispose()
    report = verify(db)
    assert (report.intact, report.unsealed) == (True, 0)


def test_clearing_a_sealed_events_position_to_pass_it_off_as_unsealed_is_noticed(db, engine, busy_chain):
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_event SET chain_pos = NULL, prev_hash = NULL, hash = NULL "
                                "WHERE seq = 2"))
    report = verify(db)
    assert (report.intact, report.first_broken, report.unsealed) == (False, 3, 1)


def test_deleting_several_events_at_the_end_is_noticed_and_named_as_missing(db, engine, busy_chain):
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_event WHERE seq >= 3"))
    report = verify(db)
    assert (report.intact, report.missing_tail, report.events, report.first_broken) == (False, True, 2, 4)


def test_the_seal_command_seals_what_is_waiting_and_verify_counts_what_is_not(db, busy_chain, cli_database,
                                                                              capsys, frozen_clock):
    write(db)
    write(db)
    assert portal(["audit", "verify"]) == 0
    assert "intact: 4 events; 2 newer events not sealed yet" in capsys.readouterr().out

    assert portal(["audit", "seal"]) == 0
    assert "sealed 2 audit event(s)" in capsys.readouterr().out
    assert portal(["audit", "seal"]) == 0
    assert "sealed 0 audit event(s)" in capsys.readouterr().out
    assert portal(["audit", "verify"]) == 0
    assert "intact: 6 events" in capsys.readouterr().out


def test_the_command_says_when_sealed_events_are_missing_from_the_end(db, engine, busy_chain, cli_database,
                                                                      capsys):
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_event WHERE seq = 4"))
    assert portal(["audit", "verify"]) == 1
    assert "sealed events are missing from the end" in capsys.readouterr().out
