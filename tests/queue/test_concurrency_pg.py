"""Eight handlers pressing "take next" at once: every case is taken exactly once.

On PostgreSQL (PORTAL_TEST_DB=postgres) with 1,000 cases and SKIP LOCKED; on SQLite the same
test runs with fewer cases through the guarded conditional update.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date

from sqlmodel import func, select

from portal import audit
from portal.auth.principal import SYSTEM
from portal.db import make_sessionmaker
from portal.models import Case, CaseEvent
from portal.queue import take
from tests import factories
from tests.queue.helpers import NOW, staff_actor

WORKERS = 8


def _fill(db, n: int, applicant_id: int) -> None:
    db.add_all([
        Case(reference=f"JL20261130{i:06d}", kind="deferral", applicant_kind="person", applicant_id=applicant_id,
             prefecture="220100", route="single", state="checked", checks_passed=True, submitted_at=NOW,
             due_on=date(2026, 12, 1 + i % 20), idempotency_key=f"c{i}", updated_at=NOW)
        for i in range(1, n + 1)
    ])
    db.commit()


def test_eight_handlers_take_every_case_exactly_once(db, engine):
    n = 1000 if engine.dialect.name == "postgresql" else 120
    applicant = factories.person_account(db)
    handlers = [staff_actor(factories.staff(db, name=f"经办{i}", roles="handler")) for i in range(WORKERS)]
    # The audit chain's head row is created by the first event ever; make it exist, as it does in service.
    audit.record(session=db, actor=SYSTEM, action="test.setup", now=NOW)
    db.commit()
    _fill(db, n, applicant.person_id)

    factory = make_sessionmaker(engine)
    taken: list[list[int]] = [[] for _ in range(WORKERS)]
    errors: list[BaseException] = []
    start = threading.Barrier(WORKERS)

    def work(index: int) -> None:
        try:
            start.wait()
            while True:
                with factory() as session:
                    case = take.take_next(session, staff=handlers[index], now=NOW)
                    if case is None:
                        session.rollback()
                        return
                    assert case.handler_id == handlers[index].principal.account_id
                    session.commit()
                    taken[index].append(case.id)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors

    all_taken = [case_id for ids in taken for case_id in ids]
    counts = Counter(all_taken)
    assert len(counts) == n and max(counts.values()) == 1
    if engine.dialect.name == "postgresql":
        # The work really was shared. (SQLite serialises writers, so one thread may win every round.)
        assert sum(1 for ids in taken if ids) > 1
    db.expire_all()
    assert db.exec(select(func.count()).select_from(Case).where(Case.state == "in_progress")).one() == n
    assert db.exec(select(func.count()).select_from(CaseEvent).where(CaseEvent.action == "take")).one() == n
    owners = db.exec(select(Case.id, Case.handler_id)).all()
    by_worker = {case_id: handlers[i].principal.account_id for i, ids in enumerate(taken) for case_id in ids}
    assert all(by_worker[case_id] == handler_id for case_id, handler_id in owners)
