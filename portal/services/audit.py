"""The append-only, hash-chained audit log."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from portal.auth.principal import Actor
from portal.models import AuditEvent, AuditHead

GENESIS = "0" * 64


def _digest(event: AuditEvent) -> str:
    body = json.dumps(
        [
            event.seq,
            event.at.isoformat(timespec="microseconds"),
            event.actor_kind,
            event.actor_id,
            event.client_address,
            event.action,
            event.object_type,
            event.object_id,
            event.detail,
            event.prev_hash,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


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
    """Appends one event to the chain. The head row is locked so concurrent writers queue."""
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None:
        head = AuditHead(id=1, last_seq=0, last_hash=GENESIS)
        session.add(head)
        session.flush()
    event = AuditEvent(
        seq=head.last_seq + 1,
        at=now,
        actor_kind=actor.kind,
        actor_id=actor.id,
        client_address=(actor.address or "")[:45],
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str),
        prev_hash=head.last_hash,
        hash="",
    )
    event.hash = _digest(event)
    head.last_seq = event.seq
    head.last_hash = event.hash
    session.add(event)
    session.add(head)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    events: int
    first_broken: int | None  # the seq of the first row whose link or content does not match

    @property
    def intact(self) -> bool:
        return self.first_broken is None


def verify(*, session: Session, batch: int = 5000) -> ChainReport:
    """Walks the chain in order and reports the first broken link."""
    previous, expected_seq, count, last = GENESIS, 1, 0, 0
    while True:
        rows = session.exec(
            select(AuditEvent).where(AuditEvent.seq > last).order_by(AuditEvent.seq).limit(batch)
            # What is stored now, not copies the session loaded earlier (they would hide tampering).
            .execution_options(populate_existing=True)
        ).all()
        if not rows:
            break
        for event in rows:
            if event.seq != expected_seq or event.prev_hash != previous or _digest(event) != event.hash:
                return ChainReport(events=count, first_broken=event.seq)
            previous, expected_seq, count, last = event.hash, event.seq + 1, count + 1, event.seq
    head = session.get(AuditHead, 1, populate_existing=True)
    if head is not None and (head.last_seq != count or head.last_hash != previous):
        # Rows were deleted from the end: the head remembers more than the table holds.
        return ChainReport(events=count, first_broken=count + 1)
    return ChainReport(events=count, first_broken=None)
