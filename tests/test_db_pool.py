"""Pooled PostgreSQL connections: checked before use after an idle spell, not on every checkout."""

import pytest
from sqlalchemy import text

from portal.db import make_engine

pytestmark = [pytest.mark.db, pytest.mark.postgres_only]  # SQLite opens a file: no pool to ping


@pytest.fixture
def pg_url(database_url):
    return database_url


def backend_of(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar()


def kill(engine, pid: int) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def test_a_connection_that_died_while_idle_is_replaced_before_anyone_uses_it(pg_url):
    engine = make_engine(pg_url, ping_after_idle=0)
    killer = make_engine(pg_url)
    try:
        dead = backend_of(engine)
        kill(killer, dead)
        assert backend_of(engine) != dead  # the caller got a live connection, no error
    finally:
        engine.dispose()
        killer.dispose()


def test_a_connection_in_steady_use_is_not_pinged(pg_url):
    engine = make_engine(pg_url, ping_after_idle=3600)
    killer = make_engine(pg_url)
    try:
        kill(killer, backend_of(engine))
        # Not idle long enough to be checked: the dead connection is handed out and its first use fails.
        with pytest.raises(Exception, match="terminat|closed|connection"):
            backend_of(engine)
        assert backend_of(engine)  # and the pool recovers on the next checkout
    finally:
        engine.dispose()
        killer.dispose()
