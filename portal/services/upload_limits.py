"""How many files one account may send in a while: uploads are the costliest requests to read.

Counted from the audit log (``upload.received`` events), so the limit holds across every worker and
host, like the sign-in throttle. Every upload is recorded, refused ones included: a refused workbook
costs as much to check as an accepted one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from portal import audit
from portal.auth.principal import Actor
from portal.models import AuditEvent

ACTION = "upload.received"


@dataclass(frozen=True)
class UploadRate:
    """A technical limit of the server, not a policy figure: a busy payroll clerk sends a handful an hour."""

    count: int = 20
    window: timedelta = timedelta(minutes=10)


RATE = UploadRate()


def retry_after(session: Session, *, actor: Actor, now: datetime, rate: UploadRate | None = None
                ) -> timedelta | None:
    """None when the account may upload now; otherwise how long until its oldest counted upload ages out."""
    rate = rate or RATE
    times = session.exec(
        select(AuditEvent.at)
        .where(AuditEvent.action == ACTION, AuditEvent.actor_kind == actor.kind, AuditEvent.actor_id == actor.id,
               AuditEvent.at > now - rate.window)
        .order_by(AuditEvent.at.desc()).limit(rate.count)
    ).all()
    if len(times) < rate.count:
        return None
    oldest = min(times)
    if oldest.tzinfo is None:  # SQLite hands back naive UTC
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return max(oldest + rate.window - now, timedelta(seconds=1))


def note(session: Session, *, actor: Actor, now: datetime, what: str, accepted: bool) -> None:
    """Records one upload; call it after a refusal's rollback too, so the refused one is counted."""
    audit.record(session=session, actor=actor, action=ACTION, now=now, object_type=what,
                 detail={"accepted": accepted})
