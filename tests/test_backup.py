"""Backup and restore drill: a backup restored into an empty database holds the same records and audit chain."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portal import audit, clock
from portal.auth.principal import SYSTEM
from portal.db import make_engine, make_sessionmaker, transaction
from portal.services import billing
from tests import factories
from tests.helpers import snapshot
from tests.records.support import flexible, spell
from tests.records.test_batch_crashes import portal_command


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    """A second, empty database on the same server (PostgreSQL) or in a new file (SQLite)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    name = f"{url.database}_restore"
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        server.dispose()


def _records(db, engine) -> None:
    employer = factories.employer(db)
    for wage in (450000, 900000):
        spell(db, employer=employer, wage_fen=wage)
    flexible(db, percents={2025: 120})
    factories.person_account(db)
    billing.run_billing(db, month=date(2025, 9, 1), now=clock.now())
    audit.record(session=db, actor=SYSTEM, action="drill.before_backup", now=clock.now())
    db.commit()
    audit.seal_all(make_sessionmaker(engine))


def test_a_backup_restored_into_an_empty_database_has_the_same_records_and_a_verifying_chain(
        db, engine, database_url, empty_database_url, tmp_path):
    _records(db, engine)
    backup_file = tmp_path / "portal.backup"
    made = portal_command(database_url, "db", "backup", str(backup_file))
    assert made.returncode == 0, made.stderr
    assert backup_file.stat().st_size > 0

    restored = portal_command(empty_database_url, "db", "restore", str(backup_file))
    assert restored.returncode == 0, restored.stderr
    copy = make_engine(empty_database_url)
    try:
        assert snapshot(copy) == snapshot(engine)
        with copy.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM bill")).scalar() == 2
        verified = portal_command(empty_database_url, "audit", "verify")
        assert verified.returncode == 0 and "intact" in verified.stdout, verified.stdout
        # The restored database carries on: new rows take new numbers and extend the same chain.
        with transaction(make_sessionmaker(copy)) as session:
            audit.record(session=session, actor=SYSTEM, action="drill.after_restore", now=clock.now())
        assert portal_command(empty_database_url, "audit", "verify").returncode == 0
    finally:
        copy.dispose()


def test_a_restore_into_a_database_that_is_not_empty_is_refused_unless_forced(
        db, engine, database_url, empty_database_url, tmp_path):
    _records(db, engine)
    backup_file = tmp_path / "portal.backup"
    assert portal_command(database_url, "db", "backup", str(backup_file)).returncode == 0
    assert portal_command(empty_database_url, "db", "restore", str(backup_file)).returncode == 0
    copy = make_engine(empty_database_url)
    try:
        with transaction(make_sessionmaker(copy)) as session:
            audit.record(session=session, actor=SYSTEM, action="drill.written_after_restore", now=clock.now())
        changed = snapshot(copy)

        refused = portal_command(empty_database_url, "db", "restore", str(backup_file))
        assert refused.returncode == 1 and "not empty" in refused.stderr and "--force" in refused.stderr
        assert snapshot(copy) == changed

        forced = portal_command(empty_database_url, "db", "restore", "--force", str(backup_file))
        assert forced.returncode == 0, forced.stderr
        copy.dispose()  # the forced restore replaced the tables under any pooled connection
        assert snapshot(copy) == snapshot(engine)
    finally:
        copy.dispose()


def test_a_file_that_is_not_a_backup_is_refused_and_changes_nothing(database_url, empty_database_url, tmp_path):
    stray = tmp_path / "notes.txt"
    stray.write_text("not a database")
    refused = portal_command(empty_database_url, "db", "restore", str(stray))
    assert refused.returncode == 1 and "is not a" in refused.stderr
    assert portal_command(empty_database_url, "db", "restore", str(tmp_path / "missing.backup")).returncode == 1
