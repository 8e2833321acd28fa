"""Take next: the oldest case a member of staff may handle or review, claimed so no two people get the same one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, update
from sqlmodel import Session, select

from portal import audit
from portal.auth.principal import Actor, Principal
from portal.models import Case
from portal.models.types import UTCDateTime
from portal.queue import take_pg
from portal.queue.cases import NOTICE_TITLES, add_event, audit_case, notify
from portal.queue.errors import ActionRefused
from portal.queue.parties import covers
from portal.queue.service import refresh_checks
from portal.queue.states import Action, Refusal, State


def _require_staff(actor: Actor) -> Principal:
    principal = actor.principal
    if principal is None or principal.kind != "staff":
        raise ActionRefused(Refusal.ROLE_REQUIRED)
    return principal


def take_next(session: Session, *, staff: Actor, now: datetime) -> Case | None:
    """Give the member of staff the most urgent case they may work on, or None when there is none.

    Handlers get queued cases (``checked``); reviewers get cases waiting for a reviewer that
    someone else handled. Most urgent: the earliest due date (so overdue cases first), then
    the earliest submitted. On PostgreSQL the candidate row is locked with
    ``FOR UPDATE SKIP LOCKED`` so concurrent handlers pass over each other's row; on every
    database the claim itself is a guarded update that changes nothing if the case was
    taken meanwhile, in which case the next candidate is tried.
    """
    principal = _require_staff(staff)
    me = principal.account_id
    roles = principal.roles
    queues = []
    if "reviewer" in roles:
        queues.append("review")
    if roles & {"handler", "supervisor"}:
        queues.append("handle")
    if "supervisor" in roles and "review" not in queues:
        queues.append("review")
    if not queues:
        raise ActionRefused(Refusal.ROLE_REQUIRED)
    on_pg = session.get_bind().dialect.name == "postgresql"
    for queue in queues:
        if on_pg:
            case = _claim_and_record(session, queue=queue, staff=staff, region=principal.region, now=now)
            if case is not None:
                refresh_checks(session, case=case, now=now, locked=True)  # opened: what the handler reads holds now
                return case
            continue
        case = _claim(session, queue=queue, me=me, region=principal.region, now=now)
        if case is not None:
            _after_claim(session, case, staff, queue, now)
            refresh_checks(session, case=case, now=now, locked=True)  # opened: what the handler reads holds now
            return case
    return None


def _candidates(*, queue: str, me: int, region: str | None):
    """The cases this member of staff may claim, most urgent first (a query, not yet run)."""
    query = select(Case.id).where(*_guard(queue, me)).where((Case.counter_staff_id.is_(None)) | (Case.counter_staff_id != me))
    if not covers(region, ""):
        query = query.where(Case.prefecture == region)
    return query.order_by(Case.due_on, Case.submitted_at, Case.id)


def _guard(queue: str, me: int) -> tuple:
    """What must still hold when the claim is written: nobody took the case meanwhile."""
    if queue == "handle":
        return (Case.state == State.CHECKED, Case.handler_id.is_(None))
    return (Case.state == State.IN_REVIEW, Case.reviewer_id.is_(None), Case.handler_id != me)


def _claim_values(queue: str, me: int, now: datetime) -> dict:
    if queue == "handle":
        first_opened = func.coalesce(Case.opened_at, bindparam("first_opened", now, type_=UTCDateTime()))
        return {"handler_id": me, "state": State.IN_PROGRESS, "opened_at": first_opened,
                "version": Case.version + 1, "updated_at": now}
    return {"reviewer_id": me, "version": Case.version + 1, "updated_at": now}


def _claim(session: Session, *, queue: str, me: int, region: str | None, now: datetime) -> Case | None:
    candidates = _candidates(queue=queue, me=me, region=region)
    values = _claim_values(queue, me, now)
    # SQLite has no row locks: claim with a guarded conditional update, and try the next one if it changed nothing.
    for _attempt in range(5):
        ids = session.exec(candidates.limit(10)).all()
        if not ids:
            return None
        for case_id in ids:
            claim = update(Case).where(Case.id == case_id, *_guard(queue, me)).values(**values)
            if session.execute(claim.execution_options(synchronize_session=False)).rowcount == 1:
                return session.exec(select(Case).where(Case.id == case_id)
                                    .execution_options(populate_existing=True)).one()
    return None


def _claim_and_record(session: Session, *, queue: str, staff: Actor, region: str | None,
                      now: datetime) -> Case | None:
    case = take_pg.claim(session, queue=queue, staff=staff, one_prefecture=not covers(region, ""), region=region,
                         from_state=str(State.CHECKED if queue == "handle" else State.IN_REVIEW),
                         notice_title=NOTICE_TITLES[State.IN_PROGRESS], now=now)
    if case is not None:
        session.info[audit.UNSEALED] = True  # as audit.record does: the boundary seals after commit
    return case


def _after_claim(session: Session, case: Case, staff: Actor, queue: str, now: datetime) -> None:
    if queue == "handle":
        before = State.CHECKED
        action = Action.TAKE
    else:
        before = State.IN_REVIEW
        action = "take_review"
    add_event(session, case=case, actor=staff, action=action, from_state=before, now=now)
    if queue == "handle":
        notify(session, case=case, now=now)
    session.flush()
    audit_case(session, case=case, actor=staff, action=action, from_state=before, now=now)
