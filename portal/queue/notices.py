"""Notices to applicants: an inbox per person or employer, with an unread count for the header.

A notice's title is an English message id with named parameters, translated when shown,
so each reader sees it in their own language.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, select

from portal.auth.principal import Principal
from portal.models import Case, Notice

RECIPIENT_KINDS = ("person", "employer")


def recipient_of(principal: Principal | None) -> tuple[str, int] | None:
    """Whose inbox a signed-in account reads: a person's own (once proven to be theirs), or their employer's
    (shared by its operators)."""
    if principal is None:
        return None
    if principal.kind == "person" and not principal.identity_proven:
        return None
    return principal.party


def notify(session: Session, *, recipient_kind: str, recipient_id: int, title: str, now: datetime,
           params: dict | None = None, case_id: int | None = None) -> Notice:
    if recipient_kind not in RECIPIENT_KINDS:
        raise ValueError(f"unknown recipient kind {recipient_kind!r}")
    notice = Notice(recipient_kind=recipient_kind, recipient_id=recipient_id, case_id=case_id, at=now, title=title,
                    params=json.dumps(params or {}, ensure_ascii=False, sort_keys=True))
    session.add(notice)
    session.flush()
    return notice


def unread_count(session: Session, *, principal: Principal | None) -> int:
    """The number shown in the header; 0 for staff and visitors."""
    recipient = recipient_of(principal)
    if recipient is None:
        return 0
    kind, rid = recipient
    return session.exec(
        select(func.count()).select_from(Notice)
        .where(Notice.recipient_kind == kind, Notice.recipient_id == rid, Notice.read_at.is_(None))
    ).one()


def inbox(session: Session, *, principal: Principal, limit: int = 100) -> list[tuple[Notice, str | None]]:
    """The newest notices first, each with its case reference (or None)."""
    recipient = recipient_of(principal)
    if recipient is None:
        return []
    kind, rid = recipient
    rows = session.exec(
        select(Notice, Case.reference).outerjoin(Case, Case.id == Notice.case_id)
        .where(Notice.recipient_kind == kind, Notice.recipient_id == rid)
        .order_by(Notice.at.desc(), Notice.id.desc()).limit(limit)
    ).all()
    return [(notice, reference) for notice, reference in rows]


def mark_all_read(session: Session, *, principal: Principal, now: datetime, up_to: int | None = None) -> int:
    """Marks the inbox read up to notice ``up_to`` (the newest the reader was shown); returns how many.

    The reader asks for it (a POST): viewing the inbox changes nothing. A notice that arrived after the
    page was shown stays unread. Notices already loaded keep their old ``read_at``.
    """
    recipient = recipient_of(principal)
    if recipient is None:
        return 0
    kind, rid = recipient
    unread = (Notice.recipient_kind == kind, Notice.recipient_id == rid, Notice.read_at.is_(None))
    if up_to is not None:
        unread = (*unread, Notice.id <= up_to)
    result = session.execute(
        update(Notice).where(*unread).values(read_at=now).execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def params_of(notice: Notice) -> dict:
    try:
        return json.loads(notice.params or "{}")
    except ValueError:
        return {}
