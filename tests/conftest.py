"""Test set-up: a real database built by the migrations, emptied after every test.

SQLite by default; ``PORTAL_TEST_DB=postgres`` runs the same tests on ``PORTAL_TEST_PG_URL``.
"""

from __future__ import annotations

import os

os.environ.setdefault("PORTAL_ENV", "test")
os.environ.setdefault("PORTAL_SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("PORTAL_PAYMENT_SECRET", "test-payment-secret")

import re  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

import pytest  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402

from portal import assembly, clock  # noqa: E402
from portal.settings import Settings  # noqa: E402

assembly.assemble()  # the request kinds, as the app and the command line register them at start-up

DB_FIXTURES = {"engine", "database_url", "db", "app", "client", "settings"}
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def pytest_collection_modifyitems(config, items):
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)
    # Tests of PostgreSQL-only machinery run in the PostgreSQL pass; on SQLite they are left out, not skipped.
    if os.environ.get("PORTAL_TEST_DB") != "postgres":
        left_out = [item for item in items if item.get_closest_marker("postgres_only")]
        if left_out:
            config.hook.pytest_deselected(items=left_out)
            items[:] = [item for item in items if not item.get_closest_marker("postgres_only")]


def pytest_configure(config):
    config.addinivalue_line("markers", "db: uses the database (run again on PostgreSQL)")
    config.addinivalue_line("markers", "postgres_only: runs only in the PostgreSQL pass")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    from portal.migrate import upgrade

    if os.environ.get("PORTAL_TEST_DB") == "postgres":
        url = os.environ.get("PORTAL_TEST_PG_URL")
        if not url:
            pytest.exit("PORTAL_TEST_DB=postgres needs PORTAL_TEST_PG_URL", returncode=3)
        from sqlalchemy import create_engine

        try:
            engine = create_engine(url)
            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
            engine.dispose()
        except Exception as error:  # an unreachable database is a failure, never a skip
            pytest.exit(f"PostgreSQL at {url} is unreachable: {error}", returncode=3)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def engine(database_url):
    from portal.db import make_engine

    engine = make_engine(database_url)
    yield engine
    engine.dispose()


# Above this many rows in a table, a test's rows are truncated whatever it costs.
_DELETE_UP_TO = 5000


def _deleted_not_truncated(tables) -> list[str]:
    """The partitioned tables and every table they refer to, directly or not: emptied by DELETE, not TRUNCATE."""
    from portal.migrate import PARTITIONED_TABLES

    kept, by_name = set(PARTITIONED_TABLES), SQLModel.metadata.tables
    while True:
        more = {key.column.table.name for name in kept for key in by_name[name].foreign_keys} - kept
        if not more:
            return [name for name in tables if name in kept]
        kept |= more


def _empty_all_tables(engine) -> None:
    tables = [table.name for table in reversed(SQLModel.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # A TRUNCATE renews a table's files, and a partitioned table's are those of every yearly partition
            # (about half a second for the two tables, after every test). Those and the tables they refer to
            # (which a TRUNCATE could only empty together with them) are emptied by DELETE when the test left
            # them small, their ids restarted as TRUNCATE restarts them; the others are truncated as before.
            deleted = _deleted_not_truncated(tables)  # children first
            counts = dict(connection.execute(text(" UNION ALL ".join(
                f"SELECT '{name}', (SELECT COUNT(*) FROM (SELECT 1 FROM {name} LIMIT {_DELETE_UP_TO + 1}) x)"  # noqa: S608
                for name in deleted))).all())
            if max(counts.values()) > _DELETE_UP_TO:
                connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
                return
            connection.execute(text(f"TRUNCATE {', '.join(name for name in tables if name not in deleted)} "
                                    "RESTART IDENTITY"))
            if any(counts.values()):
                connection.exec_driver_sql("".join(f"DELETE FROM {name};" for name in deleted if counts[name]))  # noqa: S608
            connection.execute(text(
                "SELECT setval(s.oid, 1, false) FROM pg_class s JOIN pg_depend d ON d.objid = s.oid "
                "WHERE s.relkind = 'S' AND d.deptype = 'a' AND d.refobjid = ANY(CAST(:tables AS regclass[]))"),
                {"tables": deleted})
        else:
            for name in tables:
                connection.execute(text(f'DELETE FROM "{name}"'))  # noqa: S608 - names from our metadata


@pytest.fixture
def settings(database_url) -> Settings:
    # Sealing inline after each request, so a test can read the chain right after it (the background
    # sealer has tests of its own).
    return Settings(database_url=database_url, secret_key="test-secret-key-not-for-production", env="test",
                    payment_secret="test-payment-secret", audit_seal_ms=0)


@pytest.fixture
def db(engine):
    """A session for arranging and checking data; commit what the app should see."""
    from portal.db import make_sessionmaker

    session = make_sessionmaker(engine)()
    try:
        yield session
    finally:
        session.rollback()
        session.close()
        _empty_all_tables(engine)


@pytest.fixture
def app(settings, db):
    from portal.app import create_app

    application = create_app(settings)
    yield application
    application.state.sealer.close()
    application.state.engine.dispose()


@pytest.fixture
def client(app):
    from starlette.testclient import TestClient

    with TestClient(app, base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def frozen_clock():
    """Pins the wall clock; call the returned function to move it."""
    def move(at: datetime) -> None:
        clock.freeze(at)

    move(datetime(2026, 11, 28, 2, 0, tzinfo=UTC))
    yield move
    clock.freeze(None)


def csrf_token(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


@pytest.fixture
def cheap_hashing(monkeypatch):
    """Argon2id at its lowest cost for tests that create passwords (registration, demo seed): the same
    code path in a fraction of the time. Checking a password follows the cost stored in its hash."""
    from argon2 import PasswordHasher

    from portal.auth import passwords

    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
