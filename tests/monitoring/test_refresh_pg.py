"""Two refreshes at once (cron overlapping a run by hand): on PostgreSQL the second waits for the first and then
finds every month done; SQLite serializes writers at BEGIN, so there the race cannot happen."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from portal.db import make_sessionmaker
from portal.services import monitoring
from tests.monitoring.support import NOW, TODAY, Province

pytestmark = pytest.mark.postgres_only


def wait_until_someone_waits_for_a_lock(engine, deadline_seconds: int = 20) -> None:
    give_up = time.monotonic() + deadline_seconds
    with engine.connect() as watcher:
        while time.monotonic() < give_up:
            waiting = watcher.execute(text("SELECT count(*) FROM pg_stat_activity "
                                           "WHERE wait_event_type = 'Lock' AND datname = current_database()")).scalar()
            watcher.rollback()
            if waiting:
                return
    raise AssertionError("the second refresh never reached the lock")


def test_a_refresh_started_while_another_runs_waits_and_then_finds_nothing_to_do(db, engine):
    Province(db)
    factory = make_sessionmaker(engine)
    first = factory()
    done_first = monitoring.refresh(first, now=NOW, today=TODAY)
    assert done_first.recomputed

    outcome: dict[str, object] = {}

    def second_refresh() -> None:
        with factory() as session:
            try:
                outcome["report"] = monitoring.refresh(session, now=NOW, today=TODAY)
                session.commit()
            except Exception as error:  # noqa: BLE001 - the failure this test guards against
                outcome["report"] = f"{type(error).__name__}"

    thread = threading.Thread(target=second_refresh)
    thread.start()
    wait_until_someone_waits_for_a_lock(engine)
    first.commit()
    first.close()
    thread.join(timeout=30)

    assert not isinstance(outcome["report"], str), outcome["report"]
    assert outcome["report"].recomputed == []
