"""The case state machine: the full transition table, who may act, and invariants."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.queue.reasons import BY_CODE, ReasonUse, reasons_for
from portal.queue.routing import IDENTITY_KINDS, MONEY_KINDS, Kind, Route
from portal.queue.states import (
    DECIDED,
    TERMINAL,
    Action,
    Actor,
    ActorKind,
    CaseFacts,
    Recommendation,
    Refusal,
    Role,
    State,
    TransitionRefused,
    allowed_actions,
    clock_paused,
    effective_path,
    is_open,
    not_yet_opened,
    transition,
)

S, A = State, Action

APPLICANT = Actor("app-1", ActorKind.APPLICANT)
OTHER_APPLICANT = Actor("app-2", ActorKind.APPLICANT)
HANDLER = Actor("h-1", ActorKind.STAFF, frozenset({Role.HANDLER}))
HANDLER_2 = Actor("h-2", ActorKind.STAFF, frozenset({Role.HANDLER}))
REVIEWER = Actor("r-1", ActorKind.STAFF, frozenset({Role.REVIEWER}))
ALL_ROUNDER = Actor("hr-2", ActorKind.STAFF, frozenset({Role.HANDLER, Role.REVIEWER}))
SUPERVISOR = Actor("s-1", ActorKind.STAFF, frozenset({Role.SUPERVISOR}))
ADMIN = Actor("adm-1", ActorKind.STAFF, frozenset({Role.ADMIN}))
SYSTEM = Actor("system", ActorKind.SYSTEM)
# A member of staff who has filed a case of their own.
STAFF_APPLICANT = Actor("app-1", ActorKind.STAFF, frozenset(Role))


def case(
    state: State, *, path: Route = Route.AUTO, kind: str = Kind.EMPLOYER_VERIFICATION, **kw
) -> CaseFacts:
    """A plausible case in ``state``: held by HANDLER once past the queue."""
    held = state in (S.IN_PROGRESS, S.WAITING_FOR_APPLICANT, S.IN_REVIEW)
    defaults = dict(
        handler_id=HANDLER.account_id if held else None,
        recommendation=Recommendation.APPROVE if state is S.IN_REVIEW else None,
        checks_passed=None if state is S.SUBMITTED else True,
        opened=held,
    )
    defaults.update(kw)
    return CaseFacts(kind=kind, state=state, path=path, applicant_account_id=APPLICANT.account_id, **defaults)


# The actor and arguments that make each action legitimate wherever it is allowed.
RIGHT_WAY = {
    A.AUTO_CHECK: (SYSTEM, {"checks_passed": True}),
    A.AUTO_APPROVE: (SYSTEM, {}),
    A.TAKE: (HANDLER_2, {}),
    A.RELEASE: (HANDLER, {}),
    A.RETURN_TO_APPLICANT: (HANDLER, {"reason": "missing_document"}),
    A.RESUBMIT: (APPLICANT, {}),
    A.SUBMIT_FOR_REVIEW: (HANDLER, {"recommendation": Recommendation.APPROVE}),
    A.APPROVE: (HANDLER, {}),
    A.REJECT: (HANDLER, {"reason": "not_eligible"}),
    A.REVIEW_APPROVE: (REVIEWER, {}),
    A.REVIEW_REJECT: (REVIEWER, {"reason": "calculation_error"}),
    A.WITHDRAW: (APPLICANT, {}),
    A.CLOSE: (SYSTEM, {}),
    A.REASSIGN: (SUPERVISOR, {"assignee": ALL_ROUNDER}),
}

# Written out by hand, independently of the module: (from, action) -> to.
EXPECTED = {
    (S.SUBMITTED, A.AUTO_CHECK): S.CHECKED,
    (S.SUBMITTED, A.WITHDRAW): S.WITHDRAWN,
    (S.CHECKED, A.AUTO_APPROVE): S.APPROVED,
    (S.CHECKED, A.TAKE): S.IN_PROGRESS,
    (S.CHECKED, A.WITHDRAW): S.WITHDRAWN,
    (S.CHECKED, A.REASSIGN): S.IN_PROGRESS,
    (S.IN_PROGRESS, A.RELEASE): S.CHECKED,
    (S.IN_PROGRESS, A.RETURN_TO_APPLICANT): S.WAITING_FOR_APPLICANT,
    (S.IN_PROGRESS, A.SUBMIT_FOR_REVIEW): S.IN_REVIEW,
    (S.IN_PROGRESS, A.APPROVE): S.APPROVED,
    (S.IN_PROGRESS, A.REJECT): S.REJECTED,
    (S.IN_PROGRESS, A.WITHDRAW): S.WITHDRAWN,
    (S.IN_PROGRESS, A.REASSIGN): S.IN_PROGRESS,
    (S.WAITING_FOR_APPLICANT, A.RESUBMIT): S.IN_PROGRESS,
    (S.WAITING_FOR_APPLICANT, A.WITHDRAW): S.WITHDRAWN,
    (S.WAITING_FOR_APPLICANT, A.REASSIGN): S.WAITING_FOR_APPLICANT,
    (S.IN_REVIEW, A.REVIEW_APPROVE): S.APPROVED,
    (S.IN_REVIEW, A.REVIEW_REJECT): S.IN_PROGRESS,
    (S.IN_REVIEW, A.WITHDRAW): S.WITHDRAWN,
    (S.IN_REVIEW, A.REASSIGN): S.IN_REVIEW,
    (S.APPROVED, A.CLOSE): S.CLOSED,
    (S.REJECTED, A.CLOSE): S.CLOSED,
}


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("action", list(Action))
def test_every_state_and_action_pair_follows_the_transition_table(state, action):
    actor, kwargs = RIGHT_WAY[action]
    facts = case(state)
    expected = EXPECTED.get((state, action))
    if expected is None:
        with pytest.raises(TransitionRefused) as refused:
            transition(facts, action, actor, **kwargs)
        wanted = Refusal.TERMINAL_STATE if state in TERMINAL else Refusal.NOT_ALLOWED_IN_STATE
        assert refused.value.code == wanted
        assert action not in allowed_actions(facts, actor)
    else:
        assert transition(facts, action, actor, **kwargs).state is expected
        assert action in allowed_actions(facts, actor)


def test_terminal_states_allow_nothing_to_anyone():
    for state in TERMINAL:
        for actor in (APPLICANT, HANDLER, REVIEWER, SUPERVISOR, ADMIN, SYSTEM):
            assert allowed_actions(case(state), actor) == []


def refusal(facts: CaseFacts, action: Action, actor: Actor, **kwargs) -> Refusal:
    with pytest.raises(TransitionRefused) as refused:
        transition(facts, action, actor, **kwargs)
    return refused.value.code


# --- who may do what ---------------------------------------------------------------------------


@pytest.mark.parametrize("actor", [APPLICANT, REVIEWER, ADMIN, SYSTEM])
def test_only_handlers_and_supervisors_may_take_a_case(actor):
    assert refusal(case(S.CHECKED), A.TAKE, actor) == Refusal.ROLE_REQUIRED


def test_a_supervisor_may_take_a_case():
    assert transition(case(S.CHECKED), A.TAKE, SUPERVISOR).changes["handler_id"] == SUPERVISOR.account_id


@pytest.mark.parametrize("action", [A.AUTO_CHECK, A.AUTO_APPROVE])
def test_automatic_steps_are_for_the_system_only(action):
    state = S.SUBMITTED if action is A.AUTO_CHECK else S.CHECKED
    for actor in (SUPERVISOR, HANDLER, APPLICANT):
        assert refusal(case(state), action, actor, checks_passed=True) == Refusal.ROLE_REQUIRED


def test_auto_check_records_whether_the_checks_passed():
    outcome = transition(case(S.SUBMITTED), A.AUTO_CHECK, SYSTEM, checks_passed=False)
    assert outcome.state is S.CHECKED and outcome.changes["checks_passed"] is False


def test_auto_check_needs_the_check_result():
    assert refusal(case(S.SUBMITTED), A.AUTO_CHECK, SYSTEM) == Refusal.CHECK_RESULT_REQUIRED


@pytest.mark.parametrize("action", [A.WITHDRAW, A.RESUBMIT])
def test_an_applicant_may_withdraw_or_resubmit_only_their_own_case(action):
    facts = case(S.WAITING_FOR_APPLICANT)
    assert refusal(facts, action, OTHER_APPLICANT) == Refusal.NOT_OWN_CASE
    assert transition(facts, action, APPLICANT).state in (S.WITHDRAWN, S.IN_PROGRESS)


@pytest.mark.parametrize("action", [A.WITHDRAW, A.RESUBMIT])
def test_staff_may_not_withdraw_or_resubmit_for_the_applicant(action):
    assert refusal(case(S.WAITING_FOR_APPLICANT), action, SUPERVISOR) == Refusal.ROLE_REQUIRED


@pytest.mark.parametrize("action", [A.APPROVE, A.REJECT, A.RETURN_TO_APPLICANT, A.SUBMIT_FOR_REVIEW])
def test_an_applicant_never_decides(action):
    assert refusal(case(S.IN_PROGRESS), action, APPLICANT, reason="not_eligible") == Refusal.ROLE_REQUIRED


@pytest.mark.parametrize("action", [A.REVIEW_APPROVE, A.REVIEW_REJECT])
def test_an_applicant_never_reviews(action):
    assert refusal(case(S.IN_REVIEW), action, APPLICANT) == Refusal.ROLE_REQUIRED


@pytest.mark.parametrize("action", [A.APPROVE, A.REJECT, A.RETURN_TO_APPLICANT, A.SUBMIT_FOR_REVIEW])
def test_only_the_handler_holding_the_case_decides_it(action):
    kwargs = {"reason": "not_eligible", "recommendation": Recommendation.REJECT}
    assert refusal(case(S.IN_PROGRESS), action, HANDLER_2, **kwargs) == Refusal.NOT_THE_HANDLER
    assert refusal(case(S.IN_PROGRESS), action, SUPERVISOR, **kwargs) == Refusal.NOT_THE_HANDLER


def test_a_reviewer_without_the_handler_role_cannot_decide():
    facts = case(S.IN_PROGRESS, handler_id=REVIEWER.account_id)
    assert refusal(facts, A.APPROVE, REVIEWER) == Refusal.ROLE_REQUIRED


def test_a_handler_without_the_reviewer_role_cannot_review():
    assert refusal(case(S.IN_REVIEW), A.REVIEW_APPROVE, HANDLER_2) == Refusal.ROLE_REQUIRED


def test_the_handler_may_not_review_their_own_recommendation():
    facts = case(S.IN_REVIEW, handler_id=SUPERVISOR.account_id)
    assert refusal(facts, A.REVIEW_APPROVE, SUPERVISOR) == Refusal.REVIEWER_IS_HANDLER
    assert A.REVIEW_APPROVE not in allowed_actions(facts, SUPERVISOR)


def test_an_assigned_reviewer_owns_the_review():
    facts = case(S.IN_REVIEW, reviewer_id=ALL_ROUNDER.account_id)
    assert refusal(facts, A.REVIEW_APPROVE, REVIEWER) == Refusal.NOT_THE_REVIEWER
    assert transition(facts, A.REVIEW_APPROVE, ALL_ROUNDER).state is S.APPROVED


@pytest.mark.parametrize("action", [A.TAKE, A.REVIEW_APPROVE, A.REASSIGN, A.CLOSE])
def test_staff_may_never_act_on_their_own_case(action):
    state = {A.TAKE: S.CHECKED, A.REVIEW_APPROVE: S.IN_REVIEW, A.REASSIGN: S.CHECKED, A.CLOSE: S.APPROVED}[
        action
    ]
    facts = case(state)
    assert refusal(facts, action, STAFF_APPLICANT, assignee=HANDLER) == Refusal.ACTOR_IS_APPLICANT


def test_an_admin_has_no_power_over_cases():
    for state in State:
        assert allowed_actions(case(state), ADMIN) == []


def test_only_the_system_or_a_supervisor_closes_a_decided_case():
    assert transition(case(S.APPROVED), A.CLOSE, SUPERVISOR).state is S.CLOSED
    assert refusal(case(S.APPROVED), A.CLOSE, HANDLER) == Refusal.ROLE_REQUIRED


def test_a_handler_may_release_only_a_case_they_hold():
    assert refusal(case(S.IN_PROGRESS), A.RELEASE, HANDLER_2) == Refusal.NOT_THE_HANDLER


def test_a_supervisor_may_release_a_case_stuck_with_someone_else():
    outcome = transition(case(S.IN_PROGRESS), A.RELEASE, SUPERVISOR)
    assert outcome.state is S.CHECKED and outcome.changes["handler_id"] is None


# --- routes --------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", [A.APPROVE, A.REJECT])
def test_a_dual_route_case_cannot_be_decided_by_the_handler_alone(action):
    facts = case(S.IN_PROGRESS, path=Route.DUAL)
    assert refusal(facts, action, HANDLER, reason="not_eligible") == Refusal.NEEDS_REVIEW
    assert action not in allowed_actions(facts, HANDLER)


@pytest.mark.parametrize("kind", sorted(MONEY_KINDS))
@pytest.mark.parametrize("path", [Route.AUTO, Route.SINGLE])
def test_a_money_case_needs_review_even_if_its_stored_route_says_otherwise(kind, path):
    facts = case(S.IN_PROGRESS, kind=kind, path=path)
    assert effective_path(facts) is Route.DUAL
    assert refusal(facts, A.APPROVE, HANDLER) == Refusal.NEEDS_REVIEW
    assert refusal(case(S.CHECKED, kind=kind, path=path), A.AUTO_APPROVE, SYSTEM) == Refusal.ROUTE_NOT_AUTO


def test_a_single_route_handler_may_still_ask_for_review():
    facts = case(S.IN_PROGRESS, path=Route.SINGLE)
    outcome = transition(facts, A.SUBMIT_FOR_REVIEW, HANDLER, recommendation=Recommendation.APPROVE)
    assert outcome.state is S.IN_REVIEW


def test_auto_approval_needs_the_auto_route():
    assert refusal(case(S.CHECKED, path=Route.SINGLE), A.AUTO_APPROVE, SYSTEM) == Refusal.ROUTE_NOT_AUTO


def test_auto_approval_needs_the_checks_to_have_passed():
    for result in (False, None):
        facts = case(S.CHECKED, checks_passed=result)
        assert refusal(facts, A.AUTO_APPROVE, SYSTEM) == Refusal.CHECKS_NOT_PASSED


def test_a_case_a_handler_has_opened_is_not_auto_approved():
    assert refusal(case(S.CHECKED, opened=True), A.AUTO_APPROVE, SYSTEM) == Refusal.ALREADY_OPENED


def test_an_auto_route_case_whose_checks_failed_is_decided_by_one_handler_who_writes_why():
    facts = case(S.IN_PROGRESS, checks_passed=False, kind=Kind.CREDIT_OBJECTION)
    assert transition(facts, A.APPROVE, HANDLER, written_reason="复核原始凭证无误").state is S.APPROVED


# --- the review --------------------------------------------------------------------------------


def test_the_reviewer_confirms_a_recommendation_to_reject():
    facts = case(S.IN_REVIEW, recommendation=Recommendation.REJECT, recommendation_reason="not_eligible")
    outcome = transition(facts, A.REVIEW_APPROVE, REVIEWER)
    assert outcome.state is S.REJECTED
    assert outcome.reason == "not_eligible"
    assert outcome.changes["reviewer_id"] == REVIEWER.account_id


def test_review_reject_sends_the_case_back_to_the_same_handler_with_a_clean_slate():
    facts = case(S.IN_REVIEW, reviewer_id=REVIEWER.account_id)
    after = transition(facts, A.REVIEW_REJECT, REVIEWER, reason="policy_misapplied").apply(facts)
    assert after.state is S.IN_PROGRESS
    assert after.handler_id == HANDLER.account_id
    assert after.reviewer_id is None and after.recommendation is None


def test_a_review_without_a_recommendation_cannot_be_confirmed():
    facts = case(S.IN_REVIEW, recommendation=None)
    assert refusal(facts, A.REVIEW_APPROVE, REVIEWER) == Refusal.RECOMMENDATION_REQUIRED
    assert A.REVIEW_APPROVE not in allowed_actions(facts, REVIEWER)


def test_submitting_for_review_needs_a_recommendation():
    assert refusal(case(S.IN_PROGRESS), A.SUBMIT_FOR_REVIEW, HANDLER) == Refusal.RECOMMENDATION_REQUIRED


def test_recommending_rejection_needs_a_rejection_reason():
    facts = case(S.IN_PROGRESS)
    rec = Recommendation.REJECT
    assert refusal(facts, A.SUBMIT_FOR_REVIEW, HANDLER, recommendation=rec) == Refusal.REASON_REQUIRED
    code = refusal(facts, A.SUBMIT_FOR_REVIEW, HANDLER, recommendation=rec, reason="conditions_met")
    assert code == Refusal.UNKNOWN_REASON
    outcome = transition(facts, A.SUBMIT_FOR_REVIEW, HANDLER, recommendation=rec, reason="duplicate_request")
    assert outcome.changes == {"recommendation": rec, "recommendation_reason": "duplicate_request"}


# --- reasons -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "action", "actor"),
    [
        (S.IN_PROGRESS, A.RETURN_TO_APPLICANT, HANDLER),
        (S.IN_PROGRESS, A.REJECT, HANDLER),
        (S.IN_REVIEW, A.REVIEW_REJECT, REVIEWER),
    ],
)
def test_returns_rejections_and_send_backs_need_a_reason_of_the_right_kind(state, action, actor):
    assert refusal(case(state, path=Route.SINGLE), action, actor) == Refusal.REASON_REQUIRED
    code = refusal(case(state, path=Route.SINGLE), action, actor, reason="conditions_met")
    assert code == Refusal.UNKNOWN_REASON
    assert refusal(case(state), action, actor, reason="no_such_code") == Refusal.UNKNOWN_REASON


def test_the_return_reason_is_passed_on_for_the_record():
    outcome = transition(case(S.IN_PROGRESS), A.RETURN_TO_APPLICANT, HANDLER, reason="signature_missing")
    assert outcome.reason == "signature_missing"


def test_approval_may_carry_an_approval_reason_but_not_another_kind():
    assert (
        transition(case(S.IN_PROGRESS), A.APPROVE, HANDLER, reason="conditions_met").reason
        == "conditions_met"
    )
    assert refusal(case(S.IN_PROGRESS), A.APPROVE, HANDLER, reason="not_eligible") == Refusal.UNKNOWN_REASON


# --- reassignment ------------------------------------------------------------------------------


def test_reassign_needs_an_assignee():
    assert refusal(case(S.IN_PROGRESS), A.REASSIGN, SUPERVISOR) == Refusal.ASSIGNEE_REQUIRED


def test_only_a_supervisor_reassigns():
    assert refusal(case(S.IN_PROGRESS), A.REASSIGN, HANDLER, assignee=HANDLER_2) == Refusal.ROLE_REQUIRED


def test_a_case_is_reassigned_only_to_someone_with_the_role_for_the_slot():
    assert (
        refusal(case(S.IN_PROGRESS), A.REASSIGN, SUPERVISOR, assignee=REVIEWER)
        == Refusal.ASSIGNEE_NOT_ELIGIBLE
    )
    assert (
        refusal(case(S.IN_REVIEW), A.REASSIGN, SUPERVISOR, assignee=HANDLER_2)
        == Refusal.ASSIGNEE_NOT_ELIGIBLE
    )
    assert (
        refusal(case(S.IN_PROGRESS), A.REASSIGN, SUPERVISOR, assignee=APPLICANT)
        == Refusal.ASSIGNEE_NOT_ELIGIBLE
    )


def test_a_review_is_never_reassigned_to_the_handler():
    facts = case(S.IN_REVIEW, handler_id=ALL_ROUNDER.account_id)
    assert refusal(facts, A.REASSIGN, SUPERVISOR, assignee=ALL_ROUNDER) == Refusal.REVIEWER_IS_HANDLER


def test_a_case_is_never_reassigned_to_its_applicant():
    assert (
        refusal(case(S.IN_PROGRESS), A.REASSIGN, SUPERVISOR, assignee=STAFF_APPLICANT)
        == Refusal.ACTOR_IS_APPLICANT
    )


def test_reassigning_a_review_changes_only_the_reviewer():
    outcome = transition(case(S.IN_REVIEW), A.REASSIGN, SUPERVISOR, assignee=REVIEWER)
    assert outcome.state is S.IN_REVIEW and outcome.changes == {"reviewer_id": REVIEWER.account_id}


# --- opened versus not opened ------------------------------------------------------------------


def test_a_queued_case_nobody_has_held_is_not_yet_opened():
    assert not_yet_opened(case(S.CHECKED))


def test_a_case_taken_and_released_stays_marked_as_opened():
    facts = case(S.CHECKED)
    facts = transition(facts, A.TAKE, HANDLER).apply(facts)
    facts = transition(facts, A.RELEASE, HANDLER).apply(facts)
    assert facts.state is S.CHECKED and facts.handler_id is None
    assert facts.opened and not not_yet_opened(facts)


def test_assigning_a_queued_case_counts_as_opening_it():
    outcome = transition(case(S.CHECKED), A.REASSIGN, SUPERVISOR, assignee=HANDLER_2)
    assert outcome.changes == {"handler_id": HANDLER_2.account_id, "opened": True}


# --- helpers and the UI ------------------------------------------------------------------------


def test_the_clock_pauses_only_while_waiting_for_the_applicant():
    assert [s for s in State if clock_paused(s)] == [S.WAITING_FOR_APPLICANT]


def test_only_undecided_cases_are_open():
    assert {s for s in State if not is_open(s)} == {S.APPROVED, S.REJECTED, S.CLOSED, S.WITHDRAWN}


def test_the_applicant_sees_resubmit_and_withdraw_while_the_case_waits_for_them():
    assert allowed_actions(case(S.WAITING_FOR_APPLICANT), APPLICANT) == [A.RESUBMIT, A.WITHDRAW]


def test_the_handler_of_a_dual_case_is_offered_review_but_not_a_decision():
    facts = case(S.IN_PROGRESS, path=Route.DUAL)
    assert allowed_actions(facts, HANDLER) == [A.RELEASE, A.RETURN_TO_APPLICANT, A.SUBMIT_FOR_REVIEW]


def test_a_full_dual_path_runs_from_submission_to_close():
    facts = case(S.SUBMITTED, kind=Kind.BACK_PAYMENT, path=Route.DUAL)
    steps = [
        (A.AUTO_CHECK, SYSTEM, {"checks_passed": True}),
        (A.TAKE, HANDLER, {}),
        (A.RETURN_TO_APPLICANT, HANDLER, {"reason": "missing_document"}),
        (A.RESUBMIT, APPLICANT, {}),
        (A.SUBMIT_FOR_REVIEW, HANDLER, {"recommendation": Recommendation.APPROVE}),
        (A.REVIEW_APPROVE, REVIEWER, {}),
        (A.CLOSE, SYSTEM, {}),
    ]
    for action, actor, kwargs in steps:
        facts = transition(facts, action, actor, **kwargs).apply(facts)
    assert facts.state is S.CLOSED
    assert (facts.handler_id, facts.reviewer_id) == (HANDLER.account_id, REVIEWER.account_id)


# --- properties over random action sequences ---------------------------------------------------

ACTORS = [
    APPLICANT,
    OTHER_APPLICANT,
    HANDLER,
    HANDLER_2,
    REVIEWER,
    ALL_ROUNDER,
    SUPERVISOR,
    ADMIN,
    SYSTEM,
    STAFF_APPLICANT,
]
# Refusals that depend only on the arguments, which allowed_actions does not see.
ARGUMENT_REFUSALS = {
    Refusal.CHECK_RESULT_REQUIRED,
    Refusal.WRITTEN_REASON_REQUIRED,
    Refusal.RECOMMENDATION_REQUIRED,
    Refusal.REASON_REQUIRED,
    Refusal.UNKNOWN_REASON,
    Refusal.ASSIGNEE_REQUIRED,
    Refusal.ASSIGNEE_NOT_ELIGIBLE,
    Refusal.ACTOR_IS_APPLICANT,
    Refusal.REVIEWER_IS_HANDLER,
}

any_args = st.fixed_dictionaries(
    {
        "reason": st.one_of(st.none(), st.sampled_from(sorted(BY_CODE))),
        "recommendation": st.one_of(st.none(), st.sampled_from(list(Recommendation))),
        "assignee": st.one_of(st.none(), st.sampled_from(ACTORS)),
        "checks_passed": st.one_of(st.none(), st.booleans()),
    }
)
REASON_USE = {
    A.RETURN_TO_APPLICANT: ReasonUse.RETURN,
    A.REJECT: ReasonUse.REJECT,
    A.REVIEW_REJECT: ReasonUse.SEND_BACK,
    A.APPROVE: ReasonUse.APPROVE,
}


def plausible_args(action: Action, recommendation: Recommendation) -> st.SearchStrategy[dict]:
    """Arguments a well-behaved UI would send, so that sequences get past the argument checks."""
    use = REASON_USE.get(action)
    if action is A.SUBMIT_FOR_REVIEW:
        use = ReasonUse.REJECT if recommendation is Recommendation.REJECT else ReasonUse.APPROVE
    codes = [r.code for r in reasons_for(use)] if use else [None]
    return st.fixed_dictionaries(
        {
            "reason": st.sampled_from(codes),
            "recommendation": st.just(recommendation),
            "assignee": st.sampled_from([HANDLER, HANDLER_2, REVIEWER, ALL_ROUNDER, SUPERVISOR]),
            "checks_passed": st.booleans(),
            "written_reason": st.sampled_from(["", "核对营业执照原件，信息一致"]),
        }
    )


@settings(max_examples=400, deadline=None)
@given(
    kind=st.sampled_from(list(Kind)),
    path=st.sampled_from(list(Route)),
    data=st.data(),
)
def test_random_action_sequences_never_break_the_safety_rules(kind, path, data):
    facts = CaseFacts(kind=kind, state=S.SUBMITTED, path=path, applicant_account_id=APPLICANT.account_id)
    for _ in range(data.draw(st.integers(0, 40), label="length")):
        offered_pairs = [(who, act) for who in ACTORS for act in allowed_actions(facts, who)]
        # Mostly follow what the UI would offer (withdrawal rarely, since it ends the case
        # at once), sometimes try anything at all.
        if data.draw(st.integers(0, 9), label="mode") > 0:
            if not data.draw(st.integers(0, 9), label="may withdraw") == 0:
                offered_pairs = [p for p in offered_pairs if p[1] is not A.WITHDRAW] or offered_pairs
            if not offered_pairs:
                break
            actor, action = data.draw(st.sampled_from(offered_pairs), label="offered")
            rec = data.draw(st.sampled_from(list(Recommendation)), label="recommendation")
            kwargs = data.draw(plausible_args(action, rec), label="args")
        else:
            actor = data.draw(st.sampled_from(ACTORS), label="actor")
            action = data.draw(st.sampled_from(list(Action)), label="action")
            kwargs = data.draw(any_args, label="args")
        offered = allowed_actions(facts, actor)
        try:
            outcome = transition(facts, action, actor, **kwargs)
        except TransitionRefused as refused:
            if action in offered:
                assert refused.code in ARGUMENT_REFUSALS
            continue
        after = outcome.apply(facts)

        assert action in offered
        assert facts.state not in TERMINAL, "terminal states never change"
        if after.state in DECIDED and facts.state in DECIDED:
            raise AssertionError("a decision is never changed")
        if actor.kind is ActorKind.APPLICANT:
            assert action in (A.WITHDRAW, A.RESUBMIT), "an applicant never decides"
            assert after.state not in DECIDED
        if after.reviewer_id is not None:
            assert after.reviewer_id != after.handler_id, "the reviewer never equals the handler"
        assert APPLICANT.account_id not in (after.handler_id, after.reviewer_id)
        if after.state is S.APPROVED and effective_path(facts) is Route.DUAL:
            assert action is A.REVIEW_APPROVE
            assert actor.account_id not in (facts.handler_id, APPLICANT.account_id)
            assert facts.recommendation is Recommendation.APPROVE
        if action is A.AUTO_APPROVE:
            assert kind not in MONEY_KINDS and path is Route.AUTO
        if action is A.APPROVE and facts.checks_passed is False:
            assert kwargs.get("written_reason"), "approving against a failed check is explained"
            assert kind not in IDENTITY_KINDS, "and on who someone is, it goes through a reviewer"
        facts = after
