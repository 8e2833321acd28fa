"""The case state machine for the central handling queue (统一经办).

One pure function, ``transition``, decides whether an actor may take an action on
a case and what changes if so. The service layer stores the result and refuses
anything this module refuses; nothing here reads a clock or a database.

"Not opened" versus "opened, incomplete": a case waiting in ``checked`` may never
have been held by anyone, or may have been taken and then released. Both sit in
the same queue state, so the difference is kept as a fact, ``opened``, set the
first time a handler holds the case (take, or a supervisor's reassign) and never
cleared. The service stores it as an ``opened_at`` timestamp. ``in_progress``
always means a named handler holds the case.

Order of checks (so the reason code is predictable): state, then the actor's kind
and roles, then who the actor is relative to the case, then the route, then the
arguments of the action.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from portal.queue.reasons import ReasonUse, is_valid
from portal.queue.routing import IDENTITY_KINDS, MONEY_KINDS, Route


class State(StrEnum):
    SUBMITTED = "submitted"
    CHECKED = "checked"  # automatic checks done, in the queue, no one holds it
    IN_PROGRESS = "in_progress"  # a handler holds it
    WAITING_FOR_APPLICANT = "waiting_for_applicant"  # returned with a reason; clock paused
    IN_REVIEW = "in_review"  # handler has recommended; a second person decides
    APPROVED = "approved"
    REJECTED = "rejected"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class Action(StrEnum):
    AUTO_CHECK = "auto_check"
    AUTO_APPROVE = "auto_approve"
    TAKE = "take"
    RELEASE = "release"
    RETURN_TO_APPLICANT = "return_to_applicant"
    RESUBMIT = "resubmit"
    SUBMIT_FOR_REVIEW = "submit_for_review"
    APPROVE = "approve"
    REJECT = "reject"
    REVIEW_APPROVE = "review_approve"  # reviewer agrees with the handler's recommendation
    REVIEW_REJECT = "review_reject"  # reviewer disagrees: back to the handler
    WITHDRAW = "withdraw"
    CLOSE = "close"
    REASSIGN = "reassign"


class ActorKind(StrEnum):
    STAFF = "staff"
    APPLICANT = "applicant"
    SYSTEM = "system"


class Role(StrEnum):
    HANDLER = "handler"
    REVIEWER = "reviewer"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"  # runs the system; deliberately has no power over cases


class Recommendation(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class Refusal(StrEnum):
    """Machine-readable reasons a transition is refused."""

    TERMINAL_STATE = "terminal_state"
    NOT_ALLOWED_IN_STATE = "not_allowed_in_state"
    ROLE_REQUIRED = "role_required"
    NOT_OWN_CASE = "not_own_case"
    ACTOR_IS_APPLICANT = "actor_is_applicant"
    NOT_THE_HANDLER = "not_the_handler"
    REVIEWER_IS_HANDLER = "reviewer_is_handler"
    NOT_THE_REVIEWER = "not_the_reviewer"
    NEEDS_REVIEW = "needs_review"
    ROUTE_NOT_AUTO = "route_not_auto"
    CHECKS_NOT_PASSED = "checks_not_passed"
    ALREADY_OPENED = "already_opened"
    CHECK_RESULT_REQUIRED = "check_result_required"
    RECOMMENDATION_REQUIRED = "recommendation_required"
    REASON_REQUIRED = "reason_required"
    UNKNOWN_REASON = "unknown_reason"
    ASSIGNEE_REQUIRED = "assignee_required"
    ASSIGNEE_NOT_ELIGIBLE = "assignee_not_eligible"
    WRITTEN_REASON_REQUIRED = "written_reason_required"  # approving although an automatic check failed
    FAILED_CHECK_NEEDS_REVIEW = "failed_check_needs_review"  # ... on a kind about who someone is


TERMINAL: frozenset[State] = frozenset({State.CLOSED, State.WITHDRAWN})
DECIDED: frozenset[State] = frozenset({State.APPROVED, State.REJECTED})


def is_terminal(state: State) -> bool:
    return state in TERMINAL


def is_open(state: State) -> bool:
    """Still awaiting a decision (decided, closed and withdrawn cases are not)."""
    return state not in TERMINAL | DECIDED


def clock_paused(state: State) -> bool:
    """The service clock stops only while the applicant has the case."""
    return state is State.WAITING_FOR_APPLICANT


@dataclass(frozen=True)
class Actor:
    account_id: str
    kind: ActorKind
    roles: frozenset[Role] = frozenset()

    def has_any(self, roles: frozenset[Role]) -> bool:
        return self.kind is ActorKind.STAFF and bool(self.roles & roles)


@dataclass(frozen=True)
class CaseFacts:
    """What the state machine needs to know about a case, and nothing more."""

    kind: str
    state: State
    path: Route
    applicant_account_id: str
    handler_id: str | None = None
    reviewer_id: str | None = None
    recommendation: Recommendation | None = None
    recommendation_reason: str | None = None
    checks_passed: bool | None = None  # None until the automatic checks have run
    opened: bool = False  # some handler has held the case at least once


@dataclass(frozen=True)
class Outcome:
    """The new state and the fields to change. ``reason`` is for the audit record."""

    state: State
    changes: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    reason: str | None = None

    def apply(self, facts: CaseFacts) -> CaseFacts:
        return dataclasses.replace(facts, state=self.state, **self.changes)


class TransitionRefused(Exception):
    def __init__(self, code: Refusal, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else str(code))
        self.code = code


def effective_path(facts: CaseFacts) -> Route:
    """The route to enforce: money kinds are dual whatever the stored route says."""
    return Route.DUAL if facts.kind in MONEY_KINDS else facts.path


# Where each action may start. The target state is computed in _target because
# review_approve and reassign depend on the case.
_FROM: dict[Action, frozenset[State]] = {
    Action.AUTO_CHECK: frozenset({State.SUBMITTED}),
    Action.AUTO_APPROVE: frozenset({State.CHECKED}),
    Action.TAKE: frozenset({State.CHECKED}),
    Action.RELEASE: frozenset({State.IN_PROGRESS}),
    Action.RETURN_TO_APPLICANT: frozenset({State.IN_PROGRESS}),
    Action.RESUBMIT: frozenset({State.WAITING_FOR_APPLICANT}),
    Action.SUBMIT_FOR_REVIEW: frozenset({State.IN_PROGRESS}),
    Action.APPROVE: frozenset({State.IN_PROGRESS}),
    Action.REJECT: frozenset({State.IN_PROGRESS}),
    Action.REVIEW_APPROVE: frozenset({State.IN_REVIEW}),
    Action.REVIEW_REJECT: frozenset({State.IN_REVIEW}),
    # A decided case can no longer be withdrawn: the decision has been made.
    Action.WITHDRAW: frozenset(
        {State.SUBMITTED, State.CHECKED, State.IN_PROGRESS, State.WAITING_FOR_APPLICANT, State.IN_REVIEW}
    ),
    Action.CLOSE: frozenset(DECIDED),
    Action.REASSIGN: frozenset(
        {State.CHECKED, State.IN_PROGRESS, State.WAITING_FOR_APPLICANT, State.IN_REVIEW}
    ),
}

_HANDLING = frozenset({Role.HANDLER, Role.SUPERVISOR})
_REVIEWING = frozenset({Role.REVIEWER, Role.SUPERVISOR})
_SUPERVISING = frozenset({Role.SUPERVISOR})

# Actions a handler takes on a case they hold.
_HOLDER_ACTIONS = frozenset(
    {Action.RETURN_TO_APPLICANT, Action.SUBMIT_FOR_REVIEW, Action.APPROVE, Action.REJECT}
)
_REVIEW_ACTIONS = frozenset({Action.REVIEW_APPROVE, Action.REVIEW_REJECT})
_SYSTEM_ACTIONS = frozenset({Action.AUTO_CHECK, Action.AUTO_APPROVE})
_APPLICANT_ACTIONS = frozenset({Action.WITHDRAW, Action.RESUBMIT})

# Which reason use each action files its reason under; True = reason required.
_REASONS: dict[Action, tuple[ReasonUse, bool]] = {
    Action.RETURN_TO_APPLICANT: (ReasonUse.RETURN, True),
    Action.REJECT: (ReasonUse.REJECT, True),
    Action.REVIEW_REJECT: (ReasonUse.SEND_BACK, True),
    Action.APPROVE: (ReasonUse.APPROVE, False),
}


def _refuse(code: Refusal, detail: str = "") -> TransitionRefused:
    return TransitionRefused(code, detail)


def _check_actor(facts: CaseFacts, action: Action, actor: Actor) -> None:
    """Kind and role first, then who the actor is relative to this case."""
    if action in _SYSTEM_ACTIONS:
        if actor.kind is not ActorKind.SYSTEM:
            raise _refuse(Refusal.ROLE_REQUIRED, "system only")
        return
    if action in _APPLICANT_ACTIONS:
        if actor.kind is not ActorKind.APPLICANT:
            raise _refuse(Refusal.ROLE_REQUIRED, "applicant only")
        if actor.account_id != facts.applicant_account_id:
            raise _refuse(Refusal.NOT_OWN_CASE)
        return
    if action is Action.CLOSE and actor.kind is ActorKind.SYSTEM:
        return  # closing after the decision has been carried out is routine

    needed = {
        Action.TAKE: _HANDLING,
        Action.RELEASE: _HANDLING,
        Action.REASSIGN: _SUPERVISING,
        Action.CLOSE: _SUPERVISING,
    }.get(action, _REVIEWING if action in _REVIEW_ACTIONS else _HANDLING)
    if not actor.has_any(needed):
        raise _refuse(Refusal.ROLE_REQUIRED, f"needs one of {sorted(needed)}")
    # Staff never act on their own case, whatever their roles.
    if actor.account_id == facts.applicant_account_id:
        raise _refuse(Refusal.ACTOR_IS_APPLICANT)

    if action in _HOLDER_ACTIONS and actor.account_id != facts.handler_id:
        raise _refuse(Refusal.NOT_THE_HANDLER)
    # A supervisor may free a case stuck with an absent handler.
    if (
        action is Action.RELEASE
        and actor.account_id != facts.handler_id
        and Role.SUPERVISOR not in actor.roles
    ):
        raise _refuse(Refusal.NOT_THE_HANDLER)
    if action in _REVIEW_ACTIONS:
        if actor.account_id == facts.handler_id:
            raise _refuse(Refusal.REVIEWER_IS_HANDLER)
        # An assigned reviewer owns the review; otherwise the first eligible reviewer takes it.
        if facts.reviewer_id is not None and actor.account_id != facts.reviewer_id:
            raise _refuse(Refusal.NOT_THE_REVIEWER)


def _check_route(facts: CaseFacts, action: Action) -> None:
    path = effective_path(facts)
    if action in (Action.APPROVE, Action.REJECT) and path is Route.DUAL:
        raise _refuse(Refusal.NEEDS_REVIEW)
    # Money kinds are dual anyway; on a kind about who someone is, one person may not overrule a failed check.
    if action is Action.APPROVE and facts.checks_passed is False and facts.kind in IDENTITY_KINDS:
        raise _refuse(Refusal.FAILED_CHECK_NEEDS_REVIEW)
    if action is Action.AUTO_APPROVE:
        if path is not Route.AUTO:
            raise _refuse(Refusal.ROUTE_NOT_AUTO)
        if facts.checks_passed is not True:
            raise _refuse(Refusal.CHECKS_NOT_PASSED)
        # Once a person has looked at it, a person decides it.
        if facts.opened:
            raise _refuse(Refusal.ALREADY_OPENED)


def _check_allowed(facts: CaseFacts, action: Action, actor: Actor) -> None:
    if facts.state in TERMINAL:
        raise _refuse(Refusal.TERMINAL_STATE)
    if facts.state not in _FROM[action]:
        raise _refuse(Refusal.NOT_ALLOWED_IN_STATE, f"{action} from {facts.state}")
    _check_actor(facts, action, actor)
    _check_route(facts, action)


def _check_reason(action: Action, reason: str | None, use: ReasonUse, required: bool) -> None:
    if reason is None:
        if required:
            raise _refuse(Refusal.REASON_REQUIRED, str(action))
        return
    if not is_valid(reason, use):
        raise _refuse(Refusal.UNKNOWN_REASON, f"{reason!r} is not a {use} reason")


def against_failed_check(facts: CaseFacts, action: Action, recommendation: Recommendation | None = None) -> bool:
    """Approving (or recommending approval) although an automatic check failed: that needs a written reason."""
    approving = action is Action.APPROVE or (
        action is Action.SUBMIT_FOR_REVIEW and recommendation is Recommendation.APPROVE)
    return approving and facts.checks_passed is False


def _check_assignee(facts: CaseFacts, assignee: Actor | None) -> None:
    if assignee is None:
        raise _refuse(Refusal.ASSIGNEE_REQUIRED)
    reviewing = facts.state is State.IN_REVIEW
    if not assignee.has_any(_REVIEWING if reviewing else _HANDLING):
        raise _refuse(Refusal.ASSIGNEE_NOT_ELIGIBLE, "lacks the role for this slot")
    if assignee.account_id == facts.applicant_account_id:
        raise _refuse(Refusal.ACTOR_IS_APPLICANT, "assignee is the applicant")
    other = facts.handler_id if reviewing else facts.reviewer_id
    if assignee.account_id == other:
        raise _refuse(Refusal.REVIEWER_IS_HANDLER, "assignee already holds the other slot")


def transition(
    facts: CaseFacts,
    action: Action,
    actor: Actor,
    *,
    reason: str | None = None,
    recommendation: Recommendation | None = None,
    assignee: Actor | None = None,
    checks_passed: bool | None = None,
    written_reason: str | None = None,
) -> Outcome:
    """Return the outcome of ``actor`` doing ``action`` on the case, or raise TransitionRefused.

    Keyword arguments belong to single actions: ``checks_passed`` to auto_check,
    ``recommendation`` (and its reason) to submit_for_review, ``assignee`` to
    reassign, ``reason`` to decisions, returns and send-backs. ``written_reason`` is the
    staff member's own words: required to approve, or recommend approving, a case whose
    automatic checks failed.
    """
    action = Action(action)
    _check_allowed(facts, action, actor)
    me = actor.account_id
    rec = Recommendation(recommendation) if recommendation is not None else None
    if against_failed_check(facts, action, rec) and not (written_reason or "").strip():
        raise _refuse(Refusal.WRITTEN_REASON_REQUIRED, str(action))

    if action in _REASONS:
        _check_reason(action, reason, *_REASONS[action])

    match action:
        case Action.AUTO_CHECK:
            if checks_passed is None:
                raise _refuse(Refusal.CHECK_RESULT_REQUIRED)
            return Outcome(State.CHECKED, _frozen({"checks_passed": bool(checks_passed)}))
        case Action.AUTO_APPROVE:
            return Outcome(State.APPROVED)
        case Action.TAKE:
            return Outcome(State.IN_PROGRESS, _frozen({"handler_id": me, "opened": True}))
        case Action.RELEASE:
            return Outcome(State.CHECKED, _frozen({"handler_id": None}))
        case Action.RETURN_TO_APPLICANT:
            return Outcome(State.WAITING_FOR_APPLICANT, reason=reason)
        case Action.RESUBMIT:
            # The handler keeps the case while the applicant has it, so it goes back to them.
            return Outcome(State.IN_PROGRESS)
        case Action.SUBMIT_FOR_REVIEW:
            if recommendation is None:
                raise _refuse(Refusal.RECOMMENDATION_REQUIRED)
            recommendation = Recommendation(recommendation)
            use = ReasonUse.REJECT if recommendation is Recommendation.REJECT else ReasonUse.APPROVE
            _check_reason(action, reason, use, required=recommendation is Recommendation.REJECT)
            changes = {"recommendation": recommendation, "recommendation_reason": reason}
            return Outcome(State.IN_REVIEW, _frozen(changes), reason=reason)
        case Action.APPROVE:
            return Outcome(State.APPROVED, reason=reason)
        case Action.REJECT:
            return Outcome(State.REJECTED, reason=reason)
        case Action.REVIEW_APPROVE:
            # The reviewer confirms the handler's recommendation, whichever way it went.
            if facts.recommendation is None:
                raise _refuse(Refusal.RECOMMENDATION_REQUIRED, "case has no recommendation to confirm")
            final = State.REJECTED if facts.recommendation is Recommendation.REJECT else State.APPROVED
            return Outcome(final, _frozen({"reviewer_id": me}), reason=facts.recommendation_reason)
        case Action.REVIEW_REJECT:
            # Clear the review so the reworked case gets a fresh one.
            changes = {"reviewer_id": None, "recommendation": None, "recommendation_reason": None}
            return Outcome(State.IN_PROGRESS, _frozen(changes), reason=reason)
        case Action.WITHDRAW:
            return Outcome(State.WITHDRAWN)
        case Action.CLOSE:
            return Outcome(State.CLOSED)
        case Action.REASSIGN:
            _check_assignee(facts, assignee)
            assert assignee is not None
            if facts.state is State.IN_REVIEW:
                return Outcome(State.IN_REVIEW, _frozen({"reviewer_id": assignee.account_id}))
            # Assigning a queued case hands it to someone: it is now held and opened.
            new_state = State.IN_PROGRESS if facts.state is State.CHECKED else facts.state
            return Outcome(new_state, _frozen({"handler_id": assignee.account_id, "opened": True}))
    raise AssertionError(f"unhandled action {action}")  # pragma: no cover


def allowed_actions(facts: CaseFacts, actor: Actor) -> list[Action]:
    """Actions the actor may attempt now (for the UI).

    Arguments such as a reason or an assignee are not considered: the UI asks for them.
    """
    allowed = []
    for action in Action:
        try:
            _check_allowed(facts, action, actor)
        except TransitionRefused:
            continue
        if action is Action.REVIEW_APPROVE and facts.recommendation is None:
            continue
        allowed.append(action)
    return allowed


def not_yet_opened(facts: CaseFacts) -> bool:
    """Queued and never held by a handler, as opposed to taken and released."""
    return facts.state in (State.SUBMITTED, State.CHECKED) and not facts.opened


def _frozen(changes: dict[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(changes)
