"""A case's stored facts read and written: its payload, check results, pauses and due dates, history and notices."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, select

from portal import audit, clock
from portal.auth.principal import Actor
from portal.errors import N_
from portal.models import Case, CaseEvent
from portal.queue import calendar, notices
from portal.queue.routing import (
    MONEY_KINDS,
    service_days_for,
)
from portal.queue.states import Action, State

# States in which the service clock runs, so a past due date means overdue.
CLOCK_RUNNING = (State.SUBMITTED, State.CHECKED, State.IN_PROGRESS, State.IN_REVIEW)
OPEN_STATES = (*CLOCK_RUNNING, State.WAITING_FOR_APPLICANT)
MAX_NOTE = 1000


# --- notices ------------------------------------------------------------------------------------

NOTICE_TITLES: dict[State, str] = {
    State.SUBMITTED: N_("We received your request %(reference)s."),
    State.CHECKED: N_("We received your request %(reference)s. It waits for a member of staff to handle it."),
    State.IN_PROGRESS: N_("Your request %(reference)s is being handled."),
    State.WAITING_FOR_APPLICANT: N_("Your request %(reference)s needs something from you. Open it to see what is asked."),
    State.IN_REVIEW: N_("Your request %(reference)s is being checked by a second member of staff."),
    State.APPROVED: N_("Your request %(reference)s was approved."),
    State.REJECTED: N_("Your request %(reference)s was not approved. Open it to see why."),
    State.CLOSED: N_("Your request %(reference)s is closed."),
    State.WITHDRAWN: N_("Your request %(reference)s was withdrawn."),
}


def notify(session: Session, *, case: Case, now: datetime) -> None:
    """Tells the applicant of a change; an area (the province or a prefecture) has no inbox, so is not told."""
    if case.applicant_kind not in notices.RECIPIENT_KINDS:
        return
    notices.notify(session, recipient_kind=case.applicant_kind, recipient_id=case.applicant_id,
                   title=NOTICE_TITLES[State(case.state)], params={"reference": case.reference}, case_id=case.id,
                   now=now)


# --- small helpers ------------------------------------------------------------------------------------


def payload_of(case: Case) -> dict:
    try:
        value = json.loads(case.payload or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def check_results_of(case: Case) -> list[dict]:
    try:
        return json.loads(case.check_results or "[]")
    except ValueError:
        return []


def pauses_of(case: Case) -> list[tuple[date, date]]:
    try:
        return [(date.fromisoformat(a), date.fromisoformat(b)) for a, b in json.loads(case.pauses or "[]")]
    except (ValueError, TypeError):
        return []


def china_date(moment: datetime) -> date:
    return moment.astimezone(clock.CHINA).date()


@dataclass(frozen=True)
class Deadline:
    on: date
    provisional_year: int | None  # the first year counted whose holiday schedule is not announced yet


def deadline(submitted_on: date, kind: str, pauses: Iterable[tuple[date, date]] = (), *,
             cal: calendar.WorkingCalendar | None = None) -> Deadline:
    """The due date by the working-day calendar, paused time not counted, and whether it may still move.

    A year whose State Council notice is not encoded yet is counted with the statutory holidays
    only, so a due date counted through it is provisional until the year is encoded.
    """
    cal = cal or calendar.default_calendar()
    on = cal.due_date(submitted_on, service_days_for(kind), list(pauses))
    years = cal.provisional_years(submitted_on, on)
    return Deadline(on, years[0] if years else None)


def due_on(submitted_on: date, kind: str, pauses: Iterable[tuple[date, date]] = ()) -> date:
    return deadline(submitted_on, kind, pauses).on


def set_due(case: Case, due: Deadline) -> None:
    case.due_on, case.due_provisional_year = due.on, due.provisional_year


def pauses_counted(case: Case) -> list[tuple[date, date]]:
    """The pauses a case's due date was computed with: a running pause counts up to the day it began."""
    running = [(case.paused_since, case.paused_since)] if case.paused_since else []
    return [*pauses_of(case), *running]


def is_overdue(case: Case, today: date) -> bool:
    return case.state in CLOCK_RUNNING and case.due_on < today


def add_event(session: Session, *, case: Case, actor: Actor, action: str, from_state: str | None,
           reason_code: str | None = None, note: str = "", now: datetime) -> CaseEvent:
    principal = actor.principal
    event = CaseEvent(case_id=case.id, at=now, actor_kind=principal.kind if principal else "system",
                      actor_id=principal.account_id if principal else None, action=action, from_state=from_state,
                      to_state=case.state, reason_code=reason_code, note=(note or "")[:MAX_NOTE])
    session.add(event)
    return event


def audit_case(session: Session, *, case: Case, actor: Actor, action: str, from_state: str | None, now: datetime,
           **detail) -> None:
    audit.record(session=session, actor=actor, action=f"case.{action}", now=now, object_type="case",
                 object_id=case.reference, detail={"kind": case.kind, "from": from_state, "to": case.state,
                                                   **{k: v for k, v in detail.items() if v not in (None, "")}})


def events_of(session: Session, *, case: Case) -> list[CaseEvent]:
    return list(session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id)
                             .order_by(CaseEvent.at, CaseEvent.id)).all())


def last_return(events: list[CaseEvent]) -> CaseEvent | None:
    """The most recent return to the applicant: what is asked of them."""
    for event in reversed(events):
        if event.action == Action.RETURN_TO_APPLICANT:
            return event
    return None


def is_money(case: Case) -> bool:
    return case.kind in MONEY_KINDS
