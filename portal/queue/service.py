"""The handling queue's submissions and decisions: submit, act, withdraw, resubmit, run the automatic work.

Next to it: ``parties`` (who acts and who a case is for), ``errors`` (refusals in words), ``cases`` (a case's
stored facts, history and notices), ``take`` (take next), ``kinds`` (what each kind of request is).

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
from datetime import datetime, timedelta

from sqlalchemy import bindparam, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from portal.auth.principal import SYSTEM, Actor, Principal
from portal.errors import N_, Msg, NotFound, PortalError, ValidationFailed
from portal.models import Case, StaffMember
from portal.queue import attachments, calendar, kinds, overlaps
from portal.queue.cases import (
    MAX_NOTE,
    OPEN_STATES,
    add_event,
    audit_case,
    china_date,
    deadline,
    notify,
    pauses_counted,
    pauses_of,
    payload_of,
    set_due,
)
from portal.queue.errors import ActionRefused, ChecksChanged, StaleCase
from portal.queue.kinds import Check, CheckResult
from portal.queue.parties import (
    MACHINE_SYSTEM,
    Applicant,
    applicant_of,
    case_prefecture_allowed,
    covers,
    facts_of,
    filed_at_counter_by,
    machine_actor,
    may_see,
    returns_to_nobody,
    staff_actor,
    staff_id_of,
)
from portal.queue.routing import (
    DEFAULT_TIER,
    Kind,
    Tier,
    close_after_days,
    route_for,
)
from portal.queue.states import (
    DECIDED,
    Action,
    Recommendation,
    Refusal,
    State,
    TransitionRefused,
    allowed_actions,
    transition,
)

CHANNELS = ("web", "counter")


# --- automatic checks, as data -----------------------------------------------------------------------


# Built once: it runs on every take and every decision, and building it cost a third of its time.
_OTHER_OPEN = select(Case.reference).where(
    Case.applicant_kind == bindparam("applicant_kind"), Case.applicant_id == bindparam("applicant_id"),
    Case.kind == bindparam("kind"), Case.id != bindparam("id"), Case.state.in_([str(s) for s in OPEN_STATES]),
).limit(1)


def check_no_duplicate(session: Session, *, case: Case, payload: dict) -> CheckResult:
    other = session.execute(_OTHER_OPEN, {"applicant_kind": case.applicant_kind, "applicant_id": case.applicant_id,
                                          "kind": case.kind, "id": case.id}).scalar()
    if other:
        return CheckResult("no_duplicate", False, N_("Another open request of the same kind exists: %(reference)s."),
                           {"reference": other})
    return CheckResult("no_duplicate", True, N_("No other open request of the same kind."))


COMMON_CHECKS: tuple[Check, ...] = (check_no_duplicate,)


def run_checks(session: Session, *, case: Case) -> list[CheckResult]:
    payload = payload_of(case)
    spec = kinds.spec_of(case.kind)
    common = () if spec.several_open else COMMON_CHECKS
    return [check(session, case=case, payload=payload) for check in (*common, *spec.checks)]


def checks_json(results: list[CheckResult]) -> str:
    """The results as a case stores them (``Case.check_results``)."""
    return json.dumps([r.as_json() for r in results], ensure_ascii=False)


# Where a person looks at or decides a case, so the checks are run again there (see refresh_checks).
RECHECKED_STATES = (State.CHECKED, State.IN_PROGRESS, State.IN_REVIEW, State.WAITING_FOR_APPLICANT)
RECHECKED_ACTIONS = (Action.TAKE, Action.APPROVE, Action.REJECT, Action.SUBMIT_FOR_REVIEW, Action.REVIEW_APPROVE,
                     Action.REVIEW_REJECT)


def refresh_checks(session: Session, *, case: Case, now: datetime, locked: bool = False) -> bool:
    """Run the automatic checks again on an open case that staff open or decide; True when the results changed.

    A check such as "no other open request of the same kind" is only true when it runs: one computed at
    submission can be stale by the time a person decides. Changed results are stored, the case's version
    moves (a form showing the old results is stale) and the history says the checks were run again.
    """
    if case.state not in RECHECKED_STATES:
        return False
    if not locked:  # ``locked``: this transaction has just written the case, so it holds the row and has it fresh
        case = session.exec(select(Case).where(Case.id == case.id).with_for_update()
                            .execution_options(populate_existing=True)).one()
    results = run_checks(session, case=case)
    stored = checks_json(results)
    if stored == case.check_results:
        return False
    passed = all(r.passed for r in results)
    case.check_results = stored
    case.checks_passed = passed
    case.version += 1
    case.updated_at = now
    session.add(case)
    session.flush()
    add_event(session, case=case, actor=SYSTEM, action=Action.AUTO_CHECK, from_state=case.state, now=now,
           note="" if passed else ", ".join(r.code for r in results if not r.passed))
    audit_case(session, case=case, actor=SYSTEM, action="checks_rerun", from_state=case.state, now=now, passed=passed)
    return True


def _approving(case: Case, action: Action, recommendation: str | None) -> bool:
    if action is Action.APPROVE:
        return True
    if action is Action.SUBMIT_FOR_REVIEW:
        return recommendation == Recommendation.APPROVE
    return action is Action.REVIEW_APPROVE and case.recommendation == Recommendation.APPROVE


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
    if not case_prefecture_allowed(who, prefecture):
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
    add_event(session, case=case, actor=actor, action="submit", from_state=None, now=now)
    audit_case(session, case=case, actor=actor, action="submitted", from_state=None, now=now, reference=reference,
               channel=channel)
    attachments.attach(session, case=case, actor=actor, uploads=uploads or [], now=now)
    _auto(session, case, now)
    notify(session, case=case, now=now)
    session.flush()
    return case


def _auto(session: Session, case: Case, now: datetime) -> None:
    """The automatic checks, then the automatic approval where the route allows it."""
    if case.state != State.SUBMITTED:
        return
    results = run_checks(session, case=case)
    passed = all(r.passed for r in results)
    outcome = transition(facts_of(case), Action.AUTO_CHECK, MACHINE_SYSTEM, checks_passed=passed)
    before = case.state
    case.state = outcome.state
    case.checks_passed = passed
    case.check_results = checks_json(results)
    case.version += 1
    case.updated_at = now
    session.add(case)
    session.flush()
    add_event(session, case=case, actor=SYSTEM, action=Action.AUTO_CHECK, from_state=before, now=now,
           note="" if passed else ", ".join(r.code for r in results if not r.passed))
    audit_case(session, case=case, actor=SYSTEM, action=Action.AUTO_CHECK, from_state=before, now=now, passed=passed)
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
    add_event(session, case=case, actor=SYSTEM, action=Action.AUTO_APPROVE, from_state=before, now=now)
    audit_case(session, case=case, actor=SYSTEM, action=Action.AUTO_APPROVE, from_state=before, now=now)


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
            notify(session, case=case, now=now)
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
            set_due(case, deadline(china_date(case.submitted_at), case.kind, pauses_counted(case), cal=cal))
            session.add(case)
            audit_case(session, case=case, actor=SYSTEM, action="due_recomputed", from_state=case.state, now=now,
                       was=was.isoformat(), due_on=case.due_on.isoformat(), provisional_year=case.due_provisional_year)
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
            add_event(session, case=case, actor=SYSTEM, action=Action.CLOSE, from_state=before, now=now)
            notify(session, case=case, now=now)
            audit_case(session, case=case, actor=SYSTEM, action=Action.CLOSE, from_state=before, now=now)
            closed += 1
        session.flush()


def _apply_effect(session: Session, case: Case, now: datetime, note: str) -> None:
    effect = kinds.spec_of(case.kind).effect
    if effect is not None and case.state in DECIDED:
        effect(session, case=case, approved=case.state == State.APPROVED, now=now, note=note)


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
    if filed_at_counter_by(case, actor) and action is not Action.CLOSE:
        raise ActionRefused(Refusal.ACTOR_IS_APPLICANT)
    if returns_to_nobody(case, action):
        raise ActionRefused(Refusal.NOT_ALLOWED_IN_STATE)
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
        case.handler_id = staff_id_of(changes["handler_id"])
    if "reviewer_id" in changes:
        case.reviewer_id = staff_id_of(changes["reviewer_id"])
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
    add_event(session, case=case, actor=actor, action=action, from_state=before,
              reason_code=outcome.reason or reason_code, note=note, now=now)
    if case.state != before:
        notify(session, case=case, now=now)
    session.flush()
    audit_case(session, case=case, actor=actor, action=action, from_state=before, now=now,
               reason=outcome.reason or reason_code, assignee=assignee, recommendation=recommendation)
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
        set_due(case, deadline(submitted_on, case.kind, [*pauses_of(case), (today, today)]))
    elif before == waiting and case.state != waiting:
        pauses = [*pauses_of(case), (case.paused_since or today, today)]
        case.pauses = json.dumps([[a.isoformat(), b.isoformat()] for a, b in pauses])
        case.paused_since = None
        set_due(case, deadline(submitted_on, case.kind, pauses))


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
        results = run_checks(session, case=case)
        case.check_results = checks_json(results)
        case.checks_passed = all(r.passed for r in results)
        session.add(case)
        session.flush()
    return act(session, reference=reference, action=Action.RESUBMIT, actor=actor, expected_version=case.version,
               note=note, now=now)
