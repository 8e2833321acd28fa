"""The append-only, hash-chained audit log: written without a lock, sealed into a chain just after.

Writing. ``record`` only inserts a row. Its ``seq`` comes from the database (a PostgreSQL
sequence, SQLite's rowid) and its ``chain_pos``, ``prev_hash`` and ``hash`` stay empty, so
concurrent requests never wait for each other on the audit log.

Sealing. ``seal`` takes the committed rows that are not sealed yet, in ``seq`` order, and links
each to the chain's tip kept in ``audit_head``: the next chain position (1, 2, 3, … with no
gaps), the previous row's hash, and a SHA-256 over the row's content and that previous hash.
Only one sealer runs at a time (a PostgreSQL advisory lock; SQLite serializes writers anyway).
Requests never seal themselves: they hand their process's ``Sealer`` a flag, and its thread seals
everything waiting in one batch at most every ``interval_ms`` (see ``Sealer``); the command line
seals inline; ``portal audit seal`` (run it from cron) seals whatever is left.
Sealing a batch and moving the head happen in one transaction, so a crash leaves the chain as
it was and a rerun simply carries on: sealing is idempotent. A batch costs the same few statements
whatever its size (on PostgreSQL its links are written by one UPDATE over arrays), and a sealer
that finds nothing waiting does not touch the head: the many takes of eight handlers are linked
by one seal every ``interval_ms`` rather than one each.

Why the chain follows the sealing order and not ``seq``: sequence numbers are handed out when a
row is inserted but become visible when its transaction commits, so a row with a lower ``seq``
can commit after a higher one has been sealed; and rolled-back transactions leave gaps. The
sealer's own counter ``chain_pos`` has neither problem.

What ``verify`` guarantees, for sealed rows: walking them by ``chain_pos``, a changed field
breaks that row's hash; a rewritten hash breaks the next row's link; a deleted row leaves a gap
in the positions and breaks the next link; rows deleted from the end no longer reach the
head's ``last_pos`` / ``last_hash``; a row "unsealed" again (its position cleared) is a gap
too. It reports the first such row, by ``seq``. Unsealed rows are counted separately: until
they are sealed (normally within moments of their commit) they are not yet protected. As with
any hash chain kept in the same database, someone able to rewrite every row after a point and
the head together is not detected; exporting the head's hash elsewhere from time to time
closes that gap.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, text
from sqlalchemy import select as sa_select
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, select

from portal.auth.principal import Actor
from portal.models import AuditEvent, AuditHead

GENESIS = "0" * 64
# Marks a session that appended events, so its owner seals after committing.
UNSEALED = "audit_unsealed"
# The PostgreSQL advisory lock held by whoever is sealing ("audit" in ASCII).
SEAL_LOCK = 0x6175646974
SEAL_BATCH = 1000  # events linked per sealing transaction
log = logging.getLogger("portal.audit")


# What ``json.dumps(..., ensure_ascii=False, separators=(",", ":"))`` writes, without building an encoder per call.
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_SHA256 = hashlib.sha256


def _hash(seq, at: datetime, actor_kind, actor_id, client_address, action, object_type, object_id, detail,
          prev_hash) -> str:
    """The SHA-256 of an event's content and the previous event's hash (the chain's link)."""
    body = _ENCODE([seq, at.isoformat(timespec="microseconds"), actor_kind, actor_id, client_address, action,
                    object_type, object_id, detail, prev_hash])
    return _SHA256(body.encode("utf-8")).hexdigest()


def _digest(event: AuditEvent) -> str:
    return _hash(event.seq, event.at, event.actor_kind, event.actor_id, event.client_address, event.action,
                 event.object_type, event.object_id, event.detail, event.prev_hash)


def record(
    *,
    session: Session,
    actor: Actor,
    action: str,
    now: datetime,
    object_type: str = "",
    object_id: str | int = "",
    detail: dict | None = None,
) -> AuditEvent:
    """Appends one event (unsealed; see the module docstring). Takes no lock."""
    event = AuditEvent(
        at=now,
        actor_kind=actor.kind,
        actor_id=actor.id,
        client_address=(actor.address or "")[:45],
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str),
    )
    session.add(event)  # inserted with the transaction's next flush; no round trip of its own
    session.info[UNSEALED] = True
    return event


def record_apart(factory: sessionmaker, *, actor: Actor, action: str, now: datetime, object_type: str = "",
                 object_id: str | int = "", detail: dict | None = None) -> None:
    """Appends one event in a transaction of its own, committed at once.

    For refusals: the request's own transaction may be rolled back (or fail later), and a refused attempt
    must stay on the record all the same. The caller ends its own writing transaction first (SQLite has
    one writer at a time).
    """
    with factory() as session:
        record(session=session, actor=actor, action=action, now=now, object_type=object_type,
               object_id=object_id, detail=detail)
        session.commit()


_EVENT = AuditEvent.__table__
_HEAD = AuditHead.__table__
# Built once: the sealer runs after every writing request, and building statements costs more than running them.
_TRY_LOCK = sa_select(func.pg_try_advisory_xact_lock(SEAL_LOCK))
_WAIT_LOCK = sa_select(func.pg_advisory_xact_lock(SEAL_LOCK))
_TIP = sa_select(_HEAD.c.last_seq, _HEAD.c.last_pos, _HEAD.c.last_hash).where(_HEAD.c.id == 1).with_for_update()
_NEW_HEAD = _HEAD.insert().values(id=1, last_seq=0, last_pos=0, last_hash=GENESIS)
# Only what the hash covers, in ``_hash``'s order.
_UNSEALED = (sa_select(_EVENT.c.seq, _EVENT.c.at, _EVENT.c.actor_kind, _EVENT.c.actor_id, _EVENT.c.client_address,
                       _EVENT.c.action, _EVENT.c.object_type, _EVENT.c.object_id, _EVENT.c.detail)
             .where(_EVENT.c.chain_pos.is_(None)).order_by(_EVENT.c.seq)
             .limit(bindparam("limit", literal_execute=False)))
_LINK = (_EVENT.update().where(_EVENT.c.seq == bindparam("b_seq"))
         .values(chain_pos=bindparam("b_pos"), prev_hash=bindparam("b_prev"), hash=bindparam("b_hash")))
# PostgreSQL: the whole batch linked by one statement over four arrays, instead of one UPDATE per event
# (each planned and executed on its own); the same rows get the same values.
_LINK_ALL = text(
    "UPDATE audit_event AS e SET chain_pos = v.pos, prev_hash = v.prev, hash = v.hash "
    "FROM unnest(CAST(:seqs AS bigint[]), CAST(:positions AS bigint[]), CAST(:prevs AS text[]), "
    "CAST(:hashes AS text[])) AS v(seq, pos, prev, hash) "
    "WHERE e.seq = v.seq AND e.chain_pos IS NULL")
_MOVE_TIP = (_HEAD.update().where(_HEAD.c.id == 1)
             .values(last_seq=bindparam("b_seq"), last_pos=bindparam("b_pos"), last_hash=bindparam("b_hash")))


def _lock(session: Session, *, wait: bool) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return True  # SQLite: this transaction already holds the database's only write lock
    if wait:
        session.execute(_WAIT_LOCK)
        return True
    return bool(session.execute(_TRY_LOCK).scalar())


def seal(session: Session, *, wait: bool = True, limit: int = SEAL_BATCH) -> int | None:
    """Seals up to ``limit`` committed, unsealed events in ``seq`` order, in the caller's transaction.

    Returns how many were sealed, or None when ``wait`` is false and another sealer is at work.
    Plain SQL rather than ORM objects: it runs after every writing request, so it is kept cheap. Under the
    seal lock nobody else links events, so the waiting events are read first and the head is not even locked
    when there are none (the common case for the sealers of the processes that lost the race).
    """
    if not _lock(session, wait=wait):
        return None
    rows = session.execute(_UNSEALED, {"limit": limit}).all()
    if not rows:
        return 0
    tip = session.execute(_TIP).first()
    if tip is None:
        session.execute(_NEW_HEAD)
        tip = (0, 0, GENESIS)
    last_seq, last_pos, last_hash = tip
    first_pos = last_pos + 1
    seqs, prevs, hashes = [], [], []
    for row in rows:
        prevs.append(last_hash)
        last_hash = _hash(*row, last_hash)
        seqs.append(row[0])
        hashes.append(last_hash)
    last_seq, last_pos = seqs[-1], last_pos + len(rows)
    positions = list(range(first_pos, last_pos + 1))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_LINK_ALL, {"seqs": seqs, "positions": positions, "prevs": prevs, "hashes": hashes})
    else:  # SQLite: in-process statements, one per event costs next to nothing
        session.execute(_LINK, [{"b_seq": seq, "b_pos": pos, "b_prev": prev, "b_hash": digest}
                                for seq, pos, prev, digest in zip(seqs, positions, prevs, hashes, strict=True)])
    session.execute(_MOVE_TIP, {"b_seq": last_seq, "b_pos": last_pos, "b_hash": last_hash})
    return len(rows)


def seal_all(factory: sessionmaker, *, batch: int = SEAL_BATCH) -> int:
    """Seals every unsealed event, one committed batch at a time (``portal audit seal``)."""
    total = 0
    while True:
        with factory() as session:
            sealed = seal(session, wait=True, limit=batch) or 0
            session.commit()
        total += sealed
        if sealed < batch:
            return total


def seal_if_free(factory: sessionmaker, *, limit: int = SEAL_BATCH) -> int | None:
    """Seal what is waiting if no one else is sealing. Never raises, never waits for another sealer."""
    try:
        with factory() as session:
            sealed = seal(session, wait=False, limit=limit)
            session.commit()
            return sealed
    except Exception:  # the events are safe in the table; the next sealer links them
        log.warning("sealing the audit log failed; it will be retried", exc_info=True)
        return None


# Within one process, threads that committed events while another thread is sealing leave the
# sealing to it: they raise the flag, and the sealer goes round again until the flag stays down.
# Under load that makes one sealing transaction out of many requests' events.
_sealing = threading.Lock()
_more = threading.Event()


def seal_soon(factory: sessionmaker) -> None:
    """After a commit that wrote events: seal them now, or leave them to whoever is sealing."""
    _more.set()
    while _more.is_set():
        if not _sealing.acquire(blocking=False):
            return  # that thread sees the flag and goes round again
        try:
            _more.clear()
            if seal_if_free(factory) is None:
                return  # another process is sealing; what it misses, the next sealer or `portal audit seal` links
        finally:
            _sealing.release()


class Sealer:
    """Seals a process's committed events from one background thread, at most once per ``interval_ms``.

    Why: a seal is a transaction of its own (lock, tip, events, links, commit) and cost as much as
    the request that asked for it; sealing after every request doubled the cost of the busiest
    writes (taking the next case) and made concurrent requests queue for the CPU. Requests now only
    raise a flag; the thread seals everything waiting in one batch, then rests for ``interval_ms``
    milliseconds, so under load one seal covers many requests and no request ever waits for one.
    Events stay unsealed for at most about ``interval_ms`` plus one seal (``verify`` counts them apart).

    When another process holds the seal lock, the thread tries again after the interval.
    ``close`` stops the thread and seals what is left; ``portal audit seal`` picks up anything a
    crashed process leaves behind. ``interval_ms`` 0 seals inline instead, in the caller's thread
    (the command line, and tests that read the chain right after a request).
    """

    def __init__(self, factory: sessionmaker, *, interval_ms: int) -> None:
        self._factory = factory
        self._interval = interval_ms / 1000
        self._wanted = threading.Event()
        self._stopping = threading.Event()
        self._sealed = threading.Condition()
        self._start = threading.Lock()
        self._thread: threading.Thread | None = None
        self.seals = 0  # seal transactions that linked at least one event (for tests and the bench)

    def request(self) -> None:
        """Events were committed: seal them soon. Returns at once unless ``interval_ms`` is 0."""
        if self._interval <= 0:
            seal_soon(self._factory)
            return
        self._wanted.set()
        if self._thread is None:
            with self._start:
                if self._thread is None and not self._stopping.is_set():
                    self._thread = threading.Thread(target=self._run, name="audit-sealer", daemon=True)
                    self._thread.start()

    def wait_for_seals(self, count: int, timeout: int = 10) -> bool:
        """Blocks until ``count`` seals have linked events (or ``timeout`` passes); True if they have."""
        with self._sealed:
            return self._sealed.wait_for(lambda: self.seals >= count, timeout=timeout)

    def close(self) -> None:
        """Stops the thread and seals whatever this process left waiting."""
        self._stopping.set()
        self._wanted.set()
        thread = self._thread
        if thread is None:
            return  # never asked (or sealing inline): nothing of this process's is waiting
        thread.join()
        seal_if_free(self._factory)

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            if self._stopping.is_set():
                return
            self._wanted.clear()
            sealed = seal_if_free(self._factory)
            if sealed is None or sealed >= SEAL_BATCH:
                self._wanted.set()  # another sealer holds the lock, or more is waiting: go round again
            if sealed:
                with self._sealed:
                    self.seals += 1
                    self._sealed.notify_all()
            if self._stopping.wait(self._interval):
                return


def pending_seal(session: Session) -> bool:
    """Whether this session appended events since it was last asked (clears the mark)."""
    return bool(session.info.pop(UNSEALED, False))


def seal_committed(session: Session, factory: sessionmaker) -> None:
    """After a unit of work (``portal.db.transaction``) committed: seal the events it wrote, in the caller's
    thread. Installed by the start-up assembly; the web's requests ask their worker's ``Sealer`` instead."""
    if pending_seal(session):
        seal_soon(factory)


@dataclass(frozen=True)
class ChainReport:
    events: int  # sealed events that verified, up to the first broken one
    first_broken: int | None  # the seq of the first row whose link or content does not match
    unsealed: int = 0  # events not yet sealed: not broken, not yet protected
    missing_tail: bool = False  # sealed rows are missing from the end (first_broken is the head's last seq)

    @property
    def intact(self) -> bool:
        return self.first_broken is None


def verify(*, session: Session, batch: int = 5000) -> ChainReport:
    """Walks the sealed events by chain position and reports the first broken link."""
    unsealed = session.exec(select(func.count()).select_from(AuditEvent)
                            .where(AuditEvent.chain_pos.is_(None))).one()
    previous, count = GENESIS, 0
    while True:
        rows = session.exec(
            select(AuditEvent).where(AuditEvent.chain_pos > count).order_by(AuditEvent.chain_pos).limit(batch)
            # What is stored now, not copies the session loaded earlier (they would hide tampering).
            .execution_options(populate_existing=True)
        ).all()
        if not rows:
            break
        for event in rows:
            if event.chain_pos != count + 1 or event.prev_hash != previous or _digest(event) != event.hash:
                return ChainReport(events=count, first_broken=event.seq, unsealed=unsealed)
            previous, count = event.hash, count + 1
    head = session.get(AuditHead, 1, populate_existing=True)
    if head is not None and (head.last_pos != count or head.last_hash != previous):
        # Sealed rows were deleted from the end: the head remembers more than the table holds.
        return ChainReport(events=count, first_broken=head.last_seq, unsealed=unsealed, missing_tail=True)
    return ChainReport(events=count, first_broken=None, unsealed=unsealed)
