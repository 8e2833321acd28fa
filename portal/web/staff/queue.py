"""The handling queue for staff: workbench, take next, the case page and its decisions, workload."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import Route

from portal import i18n
from portal.errors import N_, ValidationFailed
from portal.policy import commitments as commitment_catalogue
from portal.queue import attachments, cases, parties, queries, reasons, service, take
from portal.queue.errors import ActionRefused, StaleCase
from portal.queue.reasons import ReasonUse
from portal.queue.routing import is_identity_kind
from portal.queue.states import Action, State
from portal.services import accounts, commitments, credit
from portal.web.access import STAFF
from portal.web.attachments import attachment_download
from portal.web.endpoint import Ctx, endpoint
from portal.web.parse import MAX_ID, whole_number
from portal.web.staff import payload as payload_display

if TYPE_CHECKING:  # types only: pages reach the tables through services (tests/test_structure.py)
    from portal.models import Case

ANY_STAFF = STAFF()
CASE_WORKERS = STAFF("handler", "reviewer", "supervisor")
SUPERVISORS = STAFF("supervisor")

# The decision form's choices: value → (action, recommendation), shown only when the action is allowed.
DECISIONS: dict[str, tuple[Action, str | None]] = {
    "approve": (Action.APPROVE, None),
    "reject": (Action.REJECT, None),
    "return_to_applicant": (Action.RETURN_TO_APPLICANT, None),
    "recommend_approve": (Action.SUBMIT_FOR_REVIEW, "approve"),
    "recommend_reject": (Action.SUBMIT_FOR_REVIEW, "reject"),
    "review_approve": (Action.REVIEW_APPROVE, None),
    "review_reject": (Action.REVIEW_REJECT, None),
}
DECISION_LABELS = {
    "approve": N_("Approve"),
    "reject": N_("Reject"),
    "return_to_applicant": N_("Return to the applicant for information"),
    "recommend_approve": N_("Recommend approval and send for review"),
    "recommend_reject": N_("Recommend rejection and send for review"),
    "review_approve": N_("Agree with the handler's recommendation"),
    "review_reject": N_("Send back to the handler"),
}
# Single-button actions outside the decision form.
BUTTONS = (Action.TAKE, Action.RELEASE, Action.CLOSE)
REASON_GROUPS = (
    (ReasonUse.APPROVE, N_("Reasons for approval")),
    (ReasonUse.REJECT, N_("Reasons for rejection")),
    (ReasonUse.RETURN, N_("Reasons for returning to the applicant")),
    (ReasonUse.SEND_BACK, N_("Reasons for sending back to the handler")),
)


def reason_groups(locale: str) -> list[tuple[str, list[tuple[str, str]]]]:
    return [(i18n.gettext(title), [(r.code, reasons.label(r.code, locale)) for r in reasons.reasons_for(use)])
            for use, title in REASON_GROUPS]


def queue_context(ctx: Ctx) -> dict:
    """What every queue template needs: reason labels in the visitor's language."""
    return {"reason_label": lambda code: reasons.label(code, ctx.locale) if code in reasons.BY_CODE
            else i18n.gettext("Another reason")}


def _workbench(ctx: Ctx, template: str):
    filters = queries.parse_filters(ctx.query)
    bench = queries.workbench(ctx.db, staff=ctx.principal, filters=filters, today=ctx.today)
    can_take = bool(ctx.principal.roles & {"handler", "reviewer", "supervisor"})
    return ctx.render(template, bench=bench, filters=filters, can_take=can_take, kinds=[str(k) for k in
                      service.Kind], states=queries.STATE_ORDER, prefectures=parties.PREFECTURES,
                      **queue_context(ctx))


@endpoint(ANY_STAFF)
def workbench(ctx: Ctx):
    return _workbench(ctx, "staff/queue.html")


@endpoint(ANY_STAFF)
def workbench_list(ctx: Ctx):
    """htmx: the list alone, refreshed when a filter changes."""
    return _workbench(ctx, "staff/queue_list.html")


@endpoint(CASE_WORKERS)
def take_next(ctx: Ctx):
    case = take.take_next(ctx.db, staff=ctx.actor, now=ctx.now)
    if case is None:
        ctx.flash("There is no case for you to take right now.")
        return ctx.redirect(ctx.request.url_for("staff_queue").path)
    ctx.flash("You now hold case %(reference)s.", reference=case.reference)
    return ctx.redirect(ctx.request.url_for("staff_case", reference=case.reference).path)


def case_page(ctx: Ctx, case: Case, *, status: int = 200, errors: dict | None = None, problem: str | None = None,
              values: dict | None = None):
    service.refresh_checks(ctx.db, case=case, now=ctx.now)  # what staff read is what holds now, never stale
    allowed = parties.actions_for(case, ctx.actor)
    decisions = [(value, i18n.gettext(DECISION_LABELS[value])) for value, (action, _rec) in DECISIONS.items()
                 if action in allowed]
    events = cases.events_of(ctx.db, case=case)
    staff_ids = {case.handler_id, case.reviewer_id, case.counter_staff_id}
    staff_ids |= {e.actor_id for e in events if e.actor_kind == "staff"}
    area = parties.area_of(case)  # a case staff opened for the province or a prefecture has no person or employer
    applicant = None if area else accounts.applicant_record(ctx.db, kind=case.applicant_kind,
                                                             applicant_id=case.applicant_id)
    assignees = []
    if Action.REASSIGN in allowed:
        assignees = [(str(s.id), f"{s.name} ({s.staff_number})") for s in queries.eligible_staff(ctx.db, case=case)]
    payload = cases.payload_of(case)
    details = {key: value for key, value in payload.items() if key != "commitment"}
    return ctx.render(
        "staff/case.html", status=status, case=case, payload=details,
        payload_view=payload_display.view(case.kind, details),
        commitment=attachments.commitment_of(payload), attachments=attachments.listed(ctx.db, case=case),
        credit=None if area else credit.history_for_case(ctx.db, case=case, on=ctx.today), area=area,
        rested_on=commitments.rested_on(ctx.db, case=case), notice_of=commitment_catalogue.version,
        checks=cases.check_results_of(case), events=events, names=queries.staff_names(ctx.db, ids=staff_ids),
        applicant=applicant, decisions=decisions, buttons=[a for a in BUTTONS if a in allowed],
        can_reassign=Action.REASSIGN in allowed, assignees=assignees, reason_groups=reason_groups(ctx.locale),
        overdue=cases.is_overdue(case, ctx.today), money=cases.is_money(case),
        identity_review=case.checks_passed is False and is_identity_kind(case.kind), problem=problem,
        errors=errors or {}, values=values or {}, asked=cases.last_return(events), **queue_context(ctx))


@endpoint(ANY_STAFF)
def case_detail(ctx: Ctx):
    case = service.load_case(ctx.db, reference=ctx.path_params["reference"], actor=ctx.actor)
    return case_page(ctx, case)


@endpoint(ANY_STAFF)
def case_attachment(ctx: Ctx):
    """A document of a case this member of staff may see (their prefecture, or the whole province)."""
    case = service.load_case(ctx.db, reference=ctx.path_params["reference"], actor=ctx.actor)
    return attachment_download(ctx, case)


def _refused_action(ctx: Ctx, reference: str, refused: ActionRefused | StaleCase):
    """The case as it is now (someone else changed it, or the action was refused), with the reason."""
    case = service.load_case(ctx.db, reference=reference, actor=ctx.actor)
    message = refused.message.render(i18n.gettext)
    if isinstance(refused, StaleCase):
        return case_page(ctx, case, status=409, problem=message)
    if refused.field:
        return case_page(ctx, case, status=422, errors={refused.field: message}, values=ctx.values())
    return case_page(ctx, case, status=refused.status_code, problem=message)


def _invalid_decision(ctx: Ctx, reference: str, invalid: ValidationFailed):
    case = service.load_case(ctx.db, reference=reference, actor=ctx.actor)
    return case_page(ctx, case, status=422, values=ctx.values(),
                     errors={name: message.render(i18n.gettext) for name, message in invalid.errors.items()})


def _version(ctx: Ctx) -> int | None:
    return whole_number(ctx.value("version"), low=0, high=MAX_ID)


@endpoint(CASE_WORKERS)
def case_action(ctx: Ctx):
    """One endpoint for the decision form and the single buttons (take, release, close, reassign)."""
    reference = ctx.path_params["reference"]
    choice = ctx.value("decision")
    button = ctx.value("action")
    recommendation = None
    if button:
        action = button
    elif choice in DECISIONS:
        action, recommendation = DECISIONS[choice]
    else:
        case = service.load_case(ctx.db, reference=reference, actor=ctx.actor)
        return case_page(ctx, case, status=422, values=ctx.values(),
                         errors={"decision": i18n.gettext("Choose a decision.")})
    assignee = None
    if action == Action.REASSIGN:
        assignee = whole_number(ctx.value("assignee"), low=1, high=MAX_ID)
    try:
        case = service.act(ctx.db, reference=reference, action=action, actor=ctx.actor,
                           expected_version=_version(ctx), reason_code=ctx.value("reason_code") or None,
                           note=ctx.value("note"), recommendation=recommendation, assignee=assignee, now=ctx.now)
    except (StaleCase, ActionRefused) as refused:
        return ctx.refuse(_refused_action, ctx, reference, refused)
    except ValidationFailed as invalid:  # the kind's effect refused the decision (a budget step, say): nothing kept
        return ctx.refuse(_invalid_decision, ctx, reference, invalid)
    ctx.flash(_FLASH.get(State(case.state), _UPDATED), reference=case.reference)
    if case.state in (State.CHECKED, State.APPROVED, State.REJECTED, State.CLOSED) and not button:
        return ctx.redirect(ctx.request.url_for("staff_queue").path)
    return ctx.redirect(ctx.request.url_for("staff_case", reference=case.reference).path)


_UPDATED = N_("Case %(reference)s was updated.")  # on its own: Babel skips N_ nested inside flash(...)
_FLASH = {
    State.APPROVED: N_("Case %(reference)s was approved."),
    State.REJECTED: N_("Case %(reference)s was rejected."),
    State.WAITING_FOR_APPLICANT: N_("Case %(reference)s was returned to the applicant."),
    State.IN_REVIEW: N_("Case %(reference)s was sent for review."),
    State.CHECKED: N_("Case %(reference)s is back in the queue."),
    State.CLOSED: N_("Case %(reference)s was closed."),
}


@endpoint(SUPERVISORS)
def workload(ctx: Ctx):
    loads = queries.workload(ctx.db, staff=ctx.principal, today=ctx.today)
    return ctx.render("staff/queue_workload.html", loads=loads)


routes = [
    Route("/staff/queue", workbench, methods=["GET"], name="staff_queue"),
    Route("/staff/queue/list", workbench_list, methods=["GET"], name="staff_queue_list"),
    Route("/staff/queue/take", take_next, methods=["POST"], name="staff_queue_take"),
    Route("/staff/cases/{reference:str}", case_detail, methods=["GET"], name="staff_case"),
    Route("/staff/cases/{reference:str}/attachments/{attachment_id:id}", case_attachment, methods=["GET"],
          name="staff_case_attachment"),
    Route("/staff/cases/{reference:str}/action", case_action, methods=["POST"], name="staff_case_action"),
    Route("/staff/workload", workload, methods=["GET"], name="staff_workload"),
]
