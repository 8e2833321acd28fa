"""Why the queue refuses an action, in words for the page: refusals, a stale case, changed checks."""

from __future__ import annotations

from portal.errors import N_, Conflict, Msg, PortalError
from portal.models import Case
from portal.queue.states import Refusal

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
