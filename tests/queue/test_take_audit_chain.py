"""Many handlers taking cases leave an audit chain that verifies: each take's audit row is sealed once, in
batches (a worker's sealer links what many takes wrote in one transaction), and nothing is left unsealed.

On PostgreSQL a batch is linked by one statement over arrays; on SQLite one update per event. Both give the
links ``verify`` recomputes from the stored rows.
"""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import date

from sqlmodel import func, select

from portal import audit
from portal.auth.principal import SYSTEM
from portal.db import make_sessionmaker
from portal.models import AuditEvent, Case
from portal.queue import take
from tests import factories
from tests.queue.helpers import NOW, staff_actor

HANDLERS = 4


def _cases(db, n: int, applicant_id: int) -> None:
    db.add_all([
        Case(reference=f"JL20261130{i:06d}", kind="deferral", applicant_kind="person", applicant_id=applicant_id,
             prefecture="220100", route="single", state="checked", checks_passed=True, submitted_at=NOW,
             due_on=date(2026, 12, 1 + i % 20), idempotency_key=f"c{i}", updated_at=NOW)
        for i in range(1, n + 1)
    ])
    db.commit()


def _take_everything(engine, handlers, sealer: audit.Sealer | None) -> list[int]:
    """Each handler presses "take next" until the queue is empty; after each commit the worker's sealer (if
    any) is asked, as the request boundary asks it once the response has gone."""
    factory = make_sessionmaker(engine)
    taken: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(handlers))

    def work(handler) -> None:
        try:
            start.wait()
            while True:
                with factory() as session:
                    case = take.take_next(session, staff=handler, now=NOW)
                    if case is None:
                        session.rollback()
                        return
                    session.commit()
                    taken.append(case.id)
                if audit.pending_seal(session) and sealer is not None:
                    sealer.request()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(handler,)) for handler in handlers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    return taken


def test_many_takes_are_sealed_in_batches_and_the_chain_verifies(db, engine):
    n = 400 if engine.dialect.name == "postgresql" else 80
    applicant = factories.person_account(db)
    handlers = [staff_actor(factories.staff(db, name=f"经办{i}", roles="handler")) for i in range(HANDLERS)]
    audit.record(session=db, actor=SYSTEM, action="test.setup", now=NOW)
    db.commit()
    audit.seal_all(make_sessionmaker(engine))
    _cases(db, n, applicant.person_id)

    # A worker's sealer that rests an hour between seals: one seal at the first take, the rest when it stops.
    sealer = audit.Sealer(make_sessionmaker(engine), interval_ms=3_600_000)
    taken = _take_everything(engine, handlers, sealer)
    assert len(set(taken)) == len(taken) == n
    assert sealer.wait_for_seals(1)
    sealer.close()

    assert sealer.seals == 1  # n takes, one background seal and the one at shutdown: never one per take
    report = audit.verify(session=db)
    everything = db.exec(select(func.count()).select_from(AuditEvent)).one()
    assert (report.intact, report.events, report.unsealed) == (True, everything, 0)
    sealed_takes = db.exec(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "case.take", AuditEvent.chain_pos.is_not(None))).one()
    assert sealed_takes == n


def test_takes_sealed_in_many_small_batches_chain_across_the_batches(db, engine):
    n = 60
    applicant = factories.person_account(db)
    handlers = [staff_actor(factories.staff(db, name=f"经办{i}", roles="handler")) for i in range(HANDLERS)]
    _cases(db, n, applicant.person_id)
    factory = make_sessionmaker(engine)
    # No sealer asked: everything waits for the cron command, which seals 7 at a time here.
    taken = _take_everything(engine, handlers, None)
    assert len(taken) == n
    waiting = audit.verify(session=db).unsealed  # the takes' events, and those of the arrangement above
    db.commit()
    assert waiting >= n

    assert audit.seal_all(factory, batch=7) == waiting

    report = audit.verify(session=db)
    assert (report.intact, report.events, report.unsealed) == (True, waiting, 0)
    chain = db.exec(select(AuditEvent).order_by(AuditEvent.chain_pos)).all()
    assert [event.chain_pos for event in chain] == list(range(1, waiting + 1))
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(chain, chain[1:], strict=False))


def test_a_link_is_the_sha256_of_the_events_content_and_the_previous_hash_as_it_always_was(db, engine):
    audit.record(session=db, actor=SYSTEM, action="test.一", now=NOW, object_type="case", object_id="JL1",
                 detail={"到": "审核"})
    db.commit()
    audit.seal_all(make_sessionmaker(engine))
    event = db.exec(select(AuditEvent)).one()
    body = json.dumps([event.seq, event.at.isoformat(timespec="microseconds"), event.actor_kind, event.actor_id,
                       event.client_address, event.action, event.object_type, event.object_id, event.detail,
                       audit.GENESIS], ensure_ascii=False, separators=(",", ":"))
    assert (event.chain_pos, event.prev_hash) == (1, audit.GENESIS)
    assert event.hash == hashlib.sha256(body.encode("utf-8")).hexdigest()
