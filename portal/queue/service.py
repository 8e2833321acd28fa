"""The handling queue's service layer: submit, take next, act, withdraw, resubmit, run the automatic work.

Every function takes the session first and keyword arguments after it, flushes and never
commits (the caller's boundary does). Every action on a case appends a ``case_event`` and an
audit record; every change of state leaves a notice for the applicant. The pure state machine
(portal.queue.states) decides what is allowed; this module loads and stores, and refuses
whatever the machine refuses.

Identities: the state machine compares strings. Staff are ``staff:<id>``; the applicant of a
case is ``person:<person id>`` or ``employer:<employer id>``, so any operator of an employer
may act on that employer's cases and nobody else may.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, func, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from portal import clock
from portal.auth.principal import SYSTEM, Actor, Principal
from portal.db import UTCDateTime
from portal.errors import N_, Conflict, Msg, NotFound, PortalError, ValidationFailed
from portal.models import Case, CaseEvent, StaffMember
from portal.queue import attachments, calendar, kinds, overlaps, take_pg
from portal.queue.kinds import Check, CheckResult
from portal.queue.routing import (
    DEFAULT_TIER,
    MONEY_KINDS,
    Kind,
    Route,
    Tier,
    close_after_days,
    route_for,
    service_days_for,
)
from portal.queue.states import (
    DECIDED,
    Action,
    ActorKind,
    CaseFacts,
    Recommendation,
    Refusal,
    Role,
    State,
    TransitionRefused,
    allowed_actions,
    transition,
)
from portal.queue.states import Actor as MachineActor
from portal.services import audit, notices

log = logging.getLogger("portal.queue")

PREFECTURES = ("220100", "220200", "220300", "220400", "220500", "220600", "220700", "220800", "222400")
PROVINCE = "220000"
CHANNELS = ("web", "counter")
APPLICANT_KINDS = ("person", "employer")
MACHINE_SYSTEM = MachineActor("system", ActorKind.SYSTEM)
# States in which the service clock runs, so a past due date means overdue.
CLOCK_RUNNING = (State.SUBMITTED, State.CHECKED, State.IN_PROGRESS, State.IN_REVIEW)
OPEN_STATES = (*CLOCK_RUNNING, State.WAITING_FOR_APPLICANT)
MAX_NOTE = 1000


# --- errors -------------------------------------------------------------------------------------

REFUSAL_MESSAGES: dict[Refusal, str] = {
    Refusal.TERMINAL_STATE: N_("This case is finished; nothing more can be done on it."),
    Refusal.NOT_ALLOWED_IN_STATE: N_("That cannot be done at the case's current stage."),
    Refusal.ROLE_REQUIRED: N_("Your role does not allow that action."),
    Refusal.NOT_OWN_CASE: N_("This is not your case."),
    Refusal.ACTOR_IS_APPLICANT: N_("You cannot handle a case that you applied for or filed yourself."),
    Refusal.NOT_THE_HANDLER: N_("Only the handler who holds this case can do that."),
    Refusal.REVIEWER_IS_HANDLER: N_("The review must be done by someone other than the handler."),
    Refusal.NOT_THE_REVIEWER: N_("Another reviewer has been assigned to this case."),
    Refusal.NEEDS_REVIEW: N_("This case needs a second person: submit it for review with your recommendation."),
    Refusal.ROUTE_NOT_AUTO: N_("This kind of case is not approved automatically."),
    Refusal.CHECKS_NOT_PASSED: N_("The automatic checks did not pass, so a person must decide."),
    Refusal.ALREADY_OPENED: N_("A person has already looked at this case, so a person must decide it."),
    Refusal.CHECK_RESULT_REQUIRED: N_("The automatic checks have not run yet."),
    Refusal.RECOMMENDATION_REQUIRED: N_("Choose your recommendation."),
    Refusal.REASON_REQUIRED: N_("Choose a reason."),
    Refusal.UNKNOWN_REASON: N_("Choose one of the reasons listed for this decision."),
    Refusal.ASSIGNEE_REQUIRED: N_("Choose a member of staff."),
    Refusal.ASSIGNEE_NOT_ELIGIBLE: N_("That member of staff cannot take this step of the case."),
    Refusal.WRITTEN_REASON_REQUIRED: N_("An automatic check failed on this case. To approve it anyway, write in the "
                                        "note why the failed check does not stand in the way."),
    Refusal.FAILED_CHECK_NEEDS_REVIEW: N_("An automatic check failed on this case, and it concerns who someone is: "
                                          "a second member of staff must review an approval. Recommend approval "
                                          "with your written reason and send it for review."),
}
# Refusals about a form field rather than the case, so the page can show the message at the field.
REFUSAL_FIELDS: dict[Refusal, str] = {
    Refusal.RECOMMENDATION_REQUIRED: "decision",
    Refusal.REASON_REQUIRED: "reason_code",
    Refusal.UNKNOWN_REASON: "reason_code",
    Refusal.ASSIGNEE_REQUIRED: "assignee",
    Refusal.ASSIGNEE_NOT_ELIGIBLE: "assignee",
    Refusal.WRITTEN_REASON_REQUIRED: "note",
}


class ActionRefused(PortalError):
    """The state machine (or an ownership or role rule) refused the action; ``code`` says which rule."""

    status_code = 409

    def __init__(self, code: Refusal):
        super().__init__(Msg(REFUSAL_MESSAGES.get(code, N_("That action is not allowed on this case."))))
        self.code = code
        self.field = REFUSAL_FIELDS.get(code)
        if code in (Refusal.ROLE_REQUIRED, Refusal.NOT_OWN_CASE, Refusal.ACTOR_IS_APPLICANT):
            self.status_code = 403


class StaleCase(Conflict):
    """Someone changed the case after the page was shown; ``case`` is its current state."""

    def __init__(self, case: Case, message: Msg | None = None):
        super().__init__(message or Msg(N_(
            "Someone else has just changed this case. Here is its current state: check it before you act again.")))
        self.case = case


class ChecksChanged(StaleCase):
    """The automatic checks, run again at the decision, no longer say what the page showed."""

    def __init__(self, case: Case):
        super().__init__(case, Msg(N_(
            "The automatic checks were run again and their results have changed. Read them before you decide.")))


# --- who is acting --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Applicant:
    """Who a case is for: a person or an employer, and the account that filed it."""

    kind: str  # person | employer
    id: int  # person.id or employer.id
    account_id: int | None = None

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.id}"


def applicant_of(who: Applicant | Actor | Principal) -> Applicant:
    if isinstance(who, Applicant):
        return who
    principal = who.principal if isinstance(who, Actor) else who
    if principal is not None and principal.kind == "person" and principal.person_id is not None:
        return Applicant("person", principal.person_id, principal.account_id)
    if principal is not None and principal.kind == "employer" and principal.employer_id is not None:
        return Applicant("employer", principal.employer_id, principal.account_id)
    raise PortalError(Msg(N_("Only a person or an employer can submit a request.")))


def staff_ref(staff_id: int | None) -> str | None:
    return None if staff_id is None else f"staff:{staff_id}"


def _staff_id(ref: str | None) -> int | None:
    return None if ref is None else int(ref.split(":", 1)[1])


def machine_actor(actor: Actor) -> MachineActor:
    """The state machine's view of whoever is acting."""
    principal = actor.principal
    if principal is None:
        if actor.kind == "system":
            return MACHINE_SYSTEM
        return MachineActor("anonymous", ActorKind.APPLICANT)
    if principal.kind == "staff":
        roles = frozenset(Role(r) for r in principal.roles if r in Role._value2member_map_)
        return MachineActor(f"staff:{principal.account_id}", ActorKind.STAFF, roles)
    return MachineActor(applicant_of(principal).ref, ActorKind.APPLICANT)


def staff_actor(staff: StaffMember) -> MachineActor:
    roles = frozenset(Role(r) for r in staff.role_set if r in Role._value2member_map_)
    return MachineActor(f"staff:{staff.id}", ActorKind.STAFF, roles)


def covers(region: str | None, prefecture: str) -> bool:
    """Provincial staff see every prefecture; staff posted to a prefecture see that one only."""
    return region in (None, "", PROVINCE) or region == prefecture


def may_see(actor: Actor, case: Case) -> bool:
    principal = actor.principal
    if principal is None:
        return actor.kind == "system"
    if principal.kind == "staff":
        return covers(principal.region, case.prefecture)
    applicant = applicant_of(principal)
    return (applicant.kind, applicant.id) == (case.applicant_kind, case.applicant_id)


def facts_of(case: Case) -> CaseFacts:
    return CaseFacts(
        kind=case.kind,
        state=State(case.state),
        path=Route(case.route),
        applicant_account_id=f"{case.applicant_kind}:{case.applicant_id}",
        handler_id=staff_ref(case.handler_id),
        reviewer_id=staff_ref(case.reviewer_id),
        recommendation=Recommendation(case.recommendation) if case.recommendation else None,
        recommendation_reason=case.recommendation_reason,
        checks_passed=case.checks_passed,
        opened=case.opened_at is not None,
    )


def actions_for(case: Case, actor: Actor) -> list[Action]:
    """What the actor may attempt now, for the page (the service still checks everything)."""
    if not may_see(actor, case) or _filed_at_counter_by(case, actor):
        return []
    return allowed_actions(facts_of(case), machine_actor(actor))


def _filed_at_counter_by(case: Case, actor: Actor) -> bool:
    principal = actor.principal
    return (principal is not None and principal.kind == "staff" and case.counter_staff_id is not None
            and case.counter_staff_id == principal.account_id)


# --- automatic checks, as data -----------------------------------------------------------------------


def prefecture_of(region: str) -> str:
    """The prefecture (city level) of a six-digit administrative code: 220102 → 220100."""
    return region[:4] + "00"


def check_no_duplicate(session: Session, case: Case, payload: dict) -> CheckResult:
    other = session.exec(
        select(Case.reference).where(
            Case.applicant_kind == case.applicant_kind, Case.applicant_id == case.applicant_id,
            Case.kind == case.kind, Case.id != case.id, Case.state.in_([str(s) for s in OPEN_STATES]),
        ).limit(1)
    ).first()
    if other:
        return CheckResult("no_duplicate", False, N_("Another open request of the same kind exists: %(reference)s."),
                           {"reference": other})
    return CheckResult("no_duplicate", True, N_("No other open request of the same kind."))


COMMON_CHECKS: tuple[Check, ...] = (check_no_duplicate,)


def run_checks(session: Session, case: Case) -> list[CheckResult]:
    payload = payload_of(case)
    return [check(session, case, payload) for check in (*COMMON_CHECKS, *kinds.spec_of(case.kind).checks)]


# Where a person looks at or decides a case, so the checks are run again there (see refresh_checks).
RECHECKED_STATES = (State.CHECKED, State.IN_PROGRESS, State.IN_REVIEW, State.WAITING_FOR_APPLICANT)
RECHECKED_ACTIONS = (Action.TAKE, Action.APPROVE, Action.REJECT, Action.SUBMIT_FOR_REVIEW, Action.REVIEW_APPROVE,
                     Action.REVIEW_REJECT)


def refresh_checks(session: Session, *, case: Case, now: datetime) -> bool:
    """Run the automatic checks again on an open case that staff open or decide; True when the results changed.

    A check such as "no other open request of the same kind" is only true when it runs: one computed at
    submission can be stale by the time a person decides. Changed results are stored, the case's version
    moves (a form showing the old results is stale) and the history says the checks were run again.
    """
    if case.state not in RECHECKED_STATES:
        return False
    case = session.exec(select(Case).where(Case.id == case.id).with_for_update()
                        .execution_options(populate_existing=True)).one()
    results = run_checks(session, case)
    stored = json.dumps([r.as_json() for r in results], ensure_ascii=False)
    if stored == case.check_results:
        return False
    passed = all(r.passed for r in results)
    case.check_results = stored
    case.checks_passed = passed
    case.version += 1
    case.updated_at = now
    session.add(case)
    session.flush()
    _event(session, case, SYSTEM, Action.AUTO_CHECK, case.state, now=now,
           note="" if passed else ", ".join(r.code for r in results if not r.passed))
    _audit(session, case, SYSTEM, "checks_rerun", case.state, now, passed=passed)
    return True


def _approving(case: Case, action: Action, recommendation: str | None) -> bool:
    if action is Action.APPROVE:
        return True
    if action is Action.SUBMIT_FOR_REVIEW:
        return recommendation == Recommendation.APPROVE
    return action is Action.REVIEW_APPROVE and case.recommendation == Recommendation.APPROVE


# --- what a decision does outside the queue -------------------------------------------------------------

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


def _notify(session: Session, case: Case, now: datetime) -> None:
    notices.notify(session=session, recipient_kind=case.applicant_kind, recipient_id=case.applicant_id,
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


def _set_due(case: Case, due: Deadline) -> None:
    case.due_on, case.due_provisional_year = due.on, due.provisional_year


def _pauses_counted(case: Case) -> list[tuple[date, date]]:
    """The pauses a case's due date was computed with: a running pause counts up to the day it began."""
    running = [(case.paused_since, case.paused_since)] if case.paused_since else []
    return [*pauses_of(case), *running]


def is_overdue(case: Case, today: date) -> bool:
    return case.state in CLOCK_RUNNING and case.due_on < today


def _event(session: Session, case: Case, actor: Actor, action: str, from_state: str | None, *,
           reason_code: str | None = None, note: str = "", now: datetime) -> CaseEvent:
    principal = actor.principal
    event = CaseEvent(case_id=case.id, at=now, actor_kind=principal.kind if principal else "system",
                      actor_id=principal.account_id if principal else None, action=action, from_state=from_state,
                      to_state=case.state, reason_code=reason_code, note=(note or "")[:MAX_NOTE])
    session.add(event)
    return event


def _audit(session: Session, case: Case, actor: Actor, action: str, from_state: str | None, now: datetime,
           **detail) -> None:
    audit.record(session=session, actor=actor, action=f"case.{action}", now=now, object_type="case",
                 object_id=case.reference, detail={"kind": case.kind, "from": from_state, "to": case.state,
                                                   **{k: v for k, v in detail.items() if v not in (None, "")}})


def _next_reference(session: Session, now: datetime) -> str:
    """JL + the China date + that day's sequence, from a counter row locked until commit."""
    day = china_date(now).strftime("%Y%m%d")
    session.execute(text("INSERT INTO case_counter (day, last) VALUES (:day, 0) ON CONFLICT (day) DO NOTHING"),
                    {"day": day})
    number = session.execute(text("UPDATE case_counter SET last = last + 1 WHERE day = :day RETURNING last"),
                             {"day": day}).scalar_one()
    if number > 999_999:
        raise PortalError(Msg(N_("Too many requests today; try again tomorrow.")))
    return f"JL{day}{number:06d}"


def _refuse_overlap(session: Session, kind: str, who: Applicant, payload: dict) -> None:
    """A request covering what an open one of the same applicant and kind covers is refused, naming that one."""
    other = overlaps.open_overlap(session, kind=kind, applicant_kind=who.kind, applicant_id=who.id,
                                  payload=payload, open_states=OPEN_STATES)
    if other is not None:
        _subjects, field_name, message = overlaps.COVERS[str(kind)]
        raise ValidationFailed({field_name: Msg(message, {"reference": other.reference})})


def _find_by_key(session: Session, applicant: Applicant, key: str) -> Case | None:
    return session.exec(select(Case).where(Case.applicant_kind == applicant.kind, Case.applicant_id == applicant.id,
                                           Case.idempotency_key == key)).first()


# --- submit and the automatic work -------------------------------------------------------------------


def submit(
    session: Session, *, kind: str, applicant: Applicant | Actor | Principal, payload: dict, prefecture: str,
    channel: str = "web", idempotency_key: str, now: datetime, tier: str = DEFAULT_TIER,
    actor: Actor | None = None, counter_staff_id: int | None = None, uploads: list | None = None,
) -> Case:
    """Open a case (or return the one already opened with this key), run the checks, auto-approve where routed.

    ``actor`` is who is doing it, for the audit log: by default the applicant's own account;
    pass a staff member's actor with ``channel="counter"`` and ``counter_staff_id``.
    ``uploads`` (portal.queue.attachments.Upload) are checked first and stored with the new case;
    a resent form with the same key returns the existing case and stores nothing again.
    """
    try:
        kind = Kind(kind)
        tier = Tier(tier)
    except ValueError:
        raise PortalError(Msg(N_("Unknown kind of request."))) from None
    who = applicant_of(applicant)
    if actor is None:
        actor = applicant if isinstance(applicant, Actor) else SYSTEM
    errors: dict[str, Msg] = {}
    if prefecture not in PREFECTURES:
        errors["prefecture"] = Msg(N_("Choose the prefecture that handles this request."))
    if channel not in CHANNELS:
        errors["channel"] = Msg(N_("Unknown channel."))
    key = (idempotency_key or "").strip()[:64]
    if not key:
        errors["idempotency_key"] = Msg(N_("The form is incomplete. Reload the page and submit it again."))
    if not isinstance(payload, dict):
        errors["payload"] = Msg(N_("The request's details are missing."))
    if errors:
        raise ValidationFailed(errors)
    attachments.check(uploads or [])

    existing = _find_by_key(session, who, key)
    if existing is not None:
        return existing
    overlaps.lock(session, applicant_kind=who.kind, applicant_id=who.id, kind=kind)
    reference = _next_reference(session, now)  # also queues concurrent submitters behind one another
    existing = _find_by_key(session, who, key)
    if existing is not None:
        return existing
    _refuse_overlap(session, kind, who, payload)

    submitted_on = china_date(now)
    due = deadline(submitted_on, kind)
    case = Case(
        reference=reference, kind=kind, applicant_kind=who.kind, applicant_id=who.id,
        applicant_account_id=who.account_id, counter_staff_id=counter_staff_id, prefecture=prefecture,
        channel=channel, payload=json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str),
        risk_tier=tier, route=route_for(kind, tier), state=State.SUBMITTED, submitted_at=now,
        due_on=due.on, due_provisional_year=due.provisional_year, idempotency_key=key, updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(case)
            session.flush()
    except IntegrityError:
        # The same key raced in from another request and committed first.
        existing = _find_by_key(session, who, key)
        if existing is None:
            raise
        return existing
    _event(session, case, actor, "submit", None, now=now)
    _audit(session, case, actor, "submitted", None, now, reference=reference, channel=channel)
    attachments.attach(session, case=case, actor=actor, uploads=uploads or [], now=now)
    _auto(session, case, now)
    _notify(session, case, now)
    session.flush()
    return case


def _auto(session: Session, case: Case, now: datetime) -> None:
    """The automatic checks, then the automatic approval where the route allows it."""
    if case.state != State.SUBMITTED:
        return
    results = run_checks(session, case)
    passed = all(r.passed for r in results)
    outcome = transition(facts_of(case), Action.AUTO_CHECK, MACHINE_SYSTEM, checks_passed=passed)
    before = case.state
    case.state = outcome.state
    case.checks_passed = passed
    case.check_results = json.dumps([r.as_json() for r in results], ensure_ascii=False)
    case.version += 1
    case.updated_at = now
    session.add(case)
    session.flush()
    _event(session, case, SYSTEM, Action.AUTO_CHECK, before, now=now,
           note="" if passed else ", ".join(r.code for r in results if not r.passed))
    _audit(session, case, SYSTEM, Action.AUTO_CHECK, before, now, passed=passed)
    try:
        outcome = transition(facts_of(case), Action.AUTO_APPROVE, MACHINE_SYSTEM)
    except TransitionRefused:
        return
    before = case.state
    case.state = outcome.state
    case.decided_at = now
    case.outcome = str(case.state)
    case.version += 1
    session.add(case)
    session.flush()
    _apply_effect(session, case, now, "")
    _event(session, case, SYSTEM, Action.AUTO_APPROVE, before, now=now)
    _audit(session, case, SYSTEM, Action.AUTO_APPROVE, before, now)


def run_auto(session: Session, *, now: datetime, batch: int = 500,
             working_calendar: calendar.WorkingCalendar | None = None) -> dict[str, int]:
    """Checks (and auto-approves) every case left in ``submitted``, closes the cases decided long enough
    ago (``close_after_working_days`` in the routing file), and recomputes provisional due dates whose
    year has been encoded in the working-day calendar since. Running it twice changes nothing.

    Cases are claimed in batches with a guarded update of their version, so two runs at
    once never check the same case twice.
    """
    cal = working_calendar or calendar.default_calendar()
    counts = {"checked": 0, "approved": 0, "closed": 0, "due_recomputed": 0}
    last_id = 0
    while True:
        ids = session.exec(select(Case.id).where(Case.state == State.SUBMITTED, Case.id > last_id)
                           .order_by(Case.id).limit(batch)).all()
        if not ids:
            break
        last_id = ids[-1]
        for case in session.exec(select(Case).where(Case.id.in_(ids)).order_by(Case.id)
                                 .with_for_update(skip_locked=True)).all():
            if case.state != State.SUBMITTED:
                continue
            _auto(session, case, now)
            _notify(session, case, now)
            counts["checked"] += 1
            counts["approved"] += case.state == State.APPROVED
        session.flush()
    counts["closed"] = _close_decided(session, now=now, batch=batch, cal=cal)
    counts["due_recomputed"] = _settle_provisional_dues(session, now=now, batch=batch, cal=cal)
    return counts


def _settle_provisional_dues(session: Session, *, now: datetime, batch: int, cal: calendar.WorkingCalendar) -> int:
    """Recomputes the due dates marked provisional for a year the calendar now announces.

    The version is left alone: only the date moves, under the row lock, and a handler's form
    on the case stays valid.
    """
    announced = Case.due_provisional_year.between(cal.first.year, cal.last.year)
    settled, last_id = 0, 0
    while True:
        cases = session.exec(select(Case).where(announced, Case.id > last_id)
                             .order_by(Case.id).limit(batch).with_for_update(skip_locked=True)).all()
        if not cases:
            return settled
        last_id = cases[-1].id
        for case in cases:
            was = case.due_on
            _set_due(case, deadline(china_date(case.submitted_at), case.kind, _pauses_counted(case), cal=cal))
            session.add(case)
            _audit(session, case, SYSTEM, "due_recomputed", case.state, now, was=was.isoformat(),
                   due_on=case.due_on.isoformat(), provisional_year=case.due_provisional_year)
            settled += 1
        session.flush()


def _close_decided(session: Session, *, now: datetime, batch: int, cal: calendar.WorkingCalendar) -> int:
    """Closes decided cases once their decision is ``close_after_days`` working days old; the outcome stays."""
    today = china_date(now)
    days = close_after_days()
    # n working days take at least n calendar days: a first cut in SQL, then the calendar decides each case.
    earliest = now - timedelta(days=days)
    closed, last_id = 0, 0
    while True:
        cases = session.exec(select(Case).where(Case.state.in_(DECIDED), Case.decided_at <= earliest,
                                                Case.id > last_id)
                             .order_by(Case.id).limit(batch).with_for_update(skip_locked=True)).all()
        if not cases:
            return closed
        last_id = cases[-1].id
        for case in cases:
            if cal.due_date(china_date(case.decided_at), days) > today:
                continue
            before = case.state
            outcome = transition(facts_of(case), Action.CLOSE, MACHINE_SYSTEM)
            case.state = outcome.state
            case.closed_at = now
            case.version += 1
            case.updated_at = now
            session.add(case)
            session.flush()
            _event(session, case, SYSTEM, Action.CLOSE, before, now=now)
            _notify(session, case, now)
            _audit(session, case, SYSTEM, Action.CLOSE, before, now)
            closed += 1
        session.flush()


def _apply_effect(session: Session, case: Case, now: datetime, note: str) -> None:
    effect = kinds.spec_of(case.kind).effect
    if effect is not None and case.state in DECIDED:
        effect(session, case, case.state == State.APPROVED, now, note)


# --- take next --------------------------------------------------------------------------------------


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
                refresh_checks(session, case=case, now=now)  # opened: what the handler reads holds now
                return case
            continue
        case = _claim(session, queue=queue, me=me, region=principal.region, now=now)
        if case is not None:
            _after_claim(session, case, staff, queue, now)
            refresh_checks(session, case=case, now=now)  # opened: what the handler reads holds now
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
    _event(session, case, staff, action, before, now=now)
    if queue == "handle":
        _notify(session, case, now)
    session.flush()
    _audit(session, case, staff, action, before, now)


# --- act -------------------------------------------------------------------------------------------------


def load_case(session: Session, *, reference: str, actor: Actor, lock: bool = False) -> Case:
    """The case by reference if the actor may see it; NotFound otherwise (even when it exists)."""
    query = select(Case).where(Case.reference == reference)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    case = session.exec(query).first()
    if case is None or not may_see(actor, case):
        raise NotFound()
    return case


def act(
    session: Session, *, reference: str, action: Action | str, actor: Actor, expected_version: int | None,
    now: datetime, reason_code: str | None = None, note: str = "", recommendation: str | None = None,
    assignee: int | None = None,
) -> Case:
    """Do ``action`` on the case as ``actor`` (staff or the applicant), or refuse.

    ``expected_version`` is the version the actor saw; if the case has changed since,
    StaleCase is raised and nothing happens. ``assignee`` is a staff id (reassign only).
    """
    try:
        action = Action(action)
    except ValueError:
        raise ActionRefused(Refusal.NOT_ALLOWED_IN_STATE) from None
    case = load_case(session, reference=reference, actor=actor, lock=True)
    if expected_version is not None and case.version != expected_version:
        raise StaleCase(case)
    if _filed_at_counter_by(case, actor) and action is not Action.CLOSE:
        raise ActionRefused(Refusal.ACTOR_IS_APPLICANT)
    if action in RECHECKED_ACTIONS and _may_act(case, action, actor):
        changed = refresh_checks(session, case=case, now=now)
        if changed and expected_version is not None and _approving(case, action, recommendation):
            raise ChecksChanged(case)
    reason_code = reason_code or None
    note = (note or "").strip()[:MAX_NOTE]

    assignee_actor = None
    if action is Action.REASSIGN and assignee is not None:
        staff = session.get(StaffMember, assignee)
        if staff is None or not staff.active or not covers(staff.region, case.prefecture):
            raise ActionRefused(Refusal.ASSIGNEE_NOT_ELIGIBLE)
        assignee_actor = staff_actor(staff)
    try:
        rec = Recommendation(recommendation) if recommendation else None
    except ValueError:
        raise ActionRefused(Refusal.RECOMMENDATION_REQUIRED) from None
    try:
        outcome = transition(facts_of(case), action, machine_actor(actor), reason=reason_code, recommendation=rec,
                             assignee=assignee_actor, written_reason=note)
    except TransitionRefused as refused:
        raise ActionRefused(refused.code) from None

    before = case.state
    changes = dict(outcome.changes)
    if "handler_id" in changes:
        case.handler_id = _staff_id(changes["handler_id"])
    if "reviewer_id" in changes:
        case.reviewer_id = _staff_id(changes["reviewer_id"])
    if "recommendation" in changes:
        case.recommendation = str(changes["recommendation"]) if changes["recommendation"] else None
    if "recommendation_reason" in changes:
        case.recommendation_reason = changes["recommendation_reason"]
    if changes.get("opened") and case.opened_at is None:
        case.opened_at = now
    case.state = outcome.state
    _move_clock(case, before, now)
    if case.state in DECIDED and before not in DECIDED:
        case.decided_at = now
        case.outcome = str(case.state)
    if case.state in (State.CLOSED, State.WITHDRAWN):
        case.closed_at = now
    case.version += 1
    case.updated_at = now
    session.add(case)
    session.flush()
    if case.state in DECIDED and before not in DECIDED:
        _apply_effect(session, case, now, note)
    _event(session, case, actor, action, before, reason_code=outcome.reason or reason_code, note=note, now=now)
    if case.state != before:
        _notify(session, case, now)
    session.flush()
    _audit(session, case, actor, action, before, now, reason=outcome.reason or reason_code,
           assignee=assignee, recommendation=recommendation)
    return case


def _may_act(case: Case, action: Action, actor: Actor) -> bool:
    """Whether the machine allows the action at all: checks are run again only for someone who may act."""
    return action in allowed_actions(facts_of(case), machine_actor(actor))


def _move_clock(case: Case, before: str, now: datetime) -> None:
    """Pause the service clock while the applicant has the case, and move the due date."""
    today = china_date(now)
    waiting = State.WAITING_FOR_APPLICANT
    submitted_on = china_date(case.submitted_at)
    if case.state == waiting and before != waiting:
        case.paused_since = today
        _set_due(case, deadline(submitted_on, case.kind, [*pauses_of(case), (today, today)]))
    elif before == waiting and case.state != waiting:
        pauses = [*pauses_of(case), (case.paused_since or today, today)]
        case.pauses = json.dumps([[a.isoformat(), b.isoformat()] for a, b in pauses])
        case.paused_since = None
        _set_due(case, deadline(submitted_on, case.kind, pauses))


def withdraw(session: Session, *, reference: str, actor: Actor, expected_version: int | None, now: datetime,
             note: str = "") -> Case:
    """The applicant withdraws their own (undecided) request."""
    return act(session, reference=reference, action=Action.WITHDRAW, actor=actor,
               expected_version=expected_version, note=note, now=now)


def resubmit(session: Session, *, reference: str, actor: Actor, expected_version: int | None, now: datetime,
             note: str, payload: dict | None = None, uploads: list | None = None) -> Case:
    """The applicant answers a returned case: says what they changed, optionally updates the details.

    The automatic checks run again on the new details; the case goes back to its handler.
    ``uploads`` are documents sent with the answer, all stored or none.
    """
    note = (note or "").strip()
    errors: dict[str, Msg] = {}
    if not note:
        errors["note"] = Msg(N_("Say what you have corrected or supplied."))
    try:
        attachments.check(uploads or [])
    except ValidationFailed as invalid:
        errors |= invalid.errors
    if errors:
        raise ValidationFailed(errors)
    case = load_case(session, reference=reference, actor=actor, lock=True)
    if actor.principal is None or actor.principal.kind == "staff":
        raise ActionRefused(Refusal.ROLE_REQUIRED)
    if expected_version is not None and case.version != expected_version:
        raise StaleCase(case)
    if case.state == State.WAITING_FOR_APPLICANT:
        attachments.attach(session, case=case, actor=actor, uploads=uploads or [], now=now)
    if case.state == State.WAITING_FOR_APPLICANT and payload:
        merged = payload_of(case) | payload
        case.payload = json.dumps(merged, ensure_ascii=False, sort_keys=True, default=str)
        results = run_checks(session, case)
        case.check_results = json.dumps([r.as_json() for r in results], ensure_ascii=False)
        case.checks_passed = all(r.passed for r in results)
        session.add(case)
        session.flush()
    return act(session, reference=reference, action=Action.RESUBMIT, actor=actor, expected_version=case.version,
               note=note, now=now)


def events_of(session: Session, case: Case) -> list[CaseEvent]:
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
