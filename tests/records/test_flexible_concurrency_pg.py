"""Two payments for the same unbilled month at the same moment (a double click, two devices).

On PostgreSQL the second request really runs while the first holds its transaction open; SQLite
serializes writers at BEGIN, so there the race cannot happen.
"""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from sqlalchemy import text
from sqlmodel import select

from portal.db import make_sessionmaker
from portal.errors import ValidationFailed
from portal.models import ContributionMonth, PaymentOrder
from portal.services import flexible as service
from tests.records.support import NOW, TODAY, person_actor
from tests.records.test_flexible import worker

pytestmark = pytest.mark.postgres_only


def wait_until_someone_waits_for_a_lock(engine, deadline_seconds: int = 20) -> None:
    """Polls the server until a backend is blocked on a lock (the second request has reached it)."""
    give_up = time.monotonic() + deadline_seconds
    with engine.connect() as watcher:
        while time.monotonic() < give_up:
            waiting = watcher.execute(text("SELECT count(*) FROM pg_stat_activity "
                                           "WHERE wait_event_type = 'Lock' AND datname = current_database()")).scalar()
            watcher.rollback()
            if waiting:
                return
    raise AssertionError("the second payment never reached the lock")


def test_a_second_payment_started_while_the_first_is_open_is_refused_plainly_and_bills_nothing_twice(db, engine):
    person = worker(db, paid_until=date(2026, 10, 1))
    db.commit()
    factory = make_sessionmaker(engine)
    first = factory()
    service.pay(first, actor=person_actor(person), period="month", first_month="2026-11", today=TODAY, now=NOW)

    outcome: dict[str, object] = {}

    def second_request() -> None:
        with factory() as session:
            try:
                service.pay(session, actor=person_actor(person), period="month", first_month="2026-11",
                            today=TODAY, now=NOW)
                session.commit()
                outcome["result"] = "a second order"
            except ValidationFailed as refused:
                outcome["result"] = sorted(refused.errors)
            except Exception as error:  # noqa: BLE001 - the failure this test guards against
                outcome["result"] = f"{type(error).__name__}"

    racer = threading.Thread(target=second_request)
    racer.start()
    wait_until_someone_waits_for_a_lock(engine)
    first.commit()
    first.close()
    racer.join(timeout=30)

    assert outcome["result"] == ["month"]  # "Choose a month you can pay for now.", not an error page
    assert len(db.exec(select(PaymentOrder)).all()) == 1
    assert len(db.exec(select(ContributionMonth).where(ContributionMonth.person_id == person.id,
                                                       ContributionMonth.month == date(2026, 11, 1))).all()) == 1
