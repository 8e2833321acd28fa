"""The service counter (窗口): staff file a person's request for them, and the person signs on paper.

    GET/POST /staff/counter/correction   a correction of the person's record
    GET/POST /staff/counter/exception    an exception to flexible enrolment
    GET/POST /staff/counter/activation   an activation code (printed letter) that proves a person's online account

The case is the same as one filed online, with channel ``counter`` and the member of staff who filed it,
who may then neither handle nor review it (the queue enforces that). A hidden one-time token makes a
resent form one case.
"""

from __future__ import annotations

import secrets

from starlette.routing import Route

from portal import i18n
from portal.errors import Conflict, ValidationFailed
from portal.policy.dates import fmt_month, month_of
from portal.policy.rules.contribution import flexible_base_bounds
from portal.services import identity
from portal.services import person_requests as service
from portal.web.endpoint import Ctx, endpoint
from portal.web.parse import whole_number
from portal.web.staff.queue import CASE_WORKERS


def _page(ctx: Ctx, template: str, *, error: ValidationFailed | None = None, refusal: str | None = None):
    extra = dict(token=ctx.value("token") or secrets.token_urlsafe(18), commitment=service.COMMITMENT,
                 max_months=service.MAX_MONTHS, refusal=refusal, bounds=flexible_base_bounds(month_of(ctx.today)),
                 start_options=[(fmt_month(month), i18n.format_month(month))
                                for month in service.start_options(ctx.today)])
    if error is not None:
        return ctx.render_invalid(template, error, **extra)
    if refusal is not None:
        return ctx.render(template, status=409, values=ctx.values(), **extra)
    return ctx.render(template, **extra)


def _filed(ctx: Ctx, case):
    ctx.flash("Request %(reference)s was filed for the applicant. Give them the reference; another member of staff "
              "will handle it.", reference=case.reference)
    return ctx.redirect(ctx.request.url_for("staff_case", reference=case.reference).path)


def _filing(ctx: Ctx) -> service.Filing:
    return service.at_counter(ctx.db, staff=ctx.actor, id_number=ctx.value("id_number"), today=ctx.today)


@endpoint(CASE_WORKERS)
def correction_form(ctx: Ctx):
    return _page(ctx, "staff/counter_correction.html")


@endpoint(CASE_WORKERS)
def correction_submit(ctx: Ctx):
    try:
        case = service.submit_correction(
            ctx.db, filing=_filing(ctx), what=ctx.value("what"), months=ctx.value("months"),
            details=ctx.value("details"), commitment=ctx.value("commitment") == "yes", token=ctx.value("token"),
            now=ctx.now, today=ctx.today)
    except ValidationFailed as error:
        return ctx.refuse(_page, ctx, "staff/counter_correction.html", error=error)
    return _filed(ctx, case)


@endpoint(CASE_WORKERS)
def exception_form(ctx: Ctx):
    return _page(ctx, "staff/counter_exception.html")


@endpoint(CASE_WORKERS)
def exception_submit(ctx: Ctx):
    text = ctx.value("base_percent").rstrip("%％").strip()
    try:
        case = service.submit_exception(
            ctx.db, filing=_filing(ctx), start_month=ctx.value("start_month"),
            base_percent=whole_number(text, low=0, high=9999), details=ctx.value("details"),
            commitment=ctx.value("commitment") == "yes", token=ctx.value("token"), now=ctx.now, today=ctx.today)
    except ValidationFailed as error:
        return ctx.refuse(_page, ctx, "staff/counter_exception.html", error=error)
    except Conflict as refused:
        return ctx.refuse(_page, ctx, "staff/counter_exception.html", refusal=refused.message.render(i18n.gettext))
    return _filed(ctx, case)


@endpoint(CASE_WORKERS)
def activation_form(ctx: Ctx):
    return ctx.render("staff/counter_activation.html")


@endpoint(CASE_WORKERS)
def activation_issue(ctx: Ctx):
    """Only after seeing the person's identity card: the code proves their online account is theirs."""
    try:
        letter = identity.issue_letter(ctx.db, settings=ctx.settings, actor=ctx.actor, id_number=ctx.value("id_number"),
                                       mobile=ctx.value("mobile"), now=ctx.now, today=ctx.today)
    except ValidationFailed as error:
        return ctx.fail("staff/counter_activation.html", error.errors)
    # Shown once and never stored in clear: the page is printed and handed over, not kept.
    response = ctx.render("staff/counter_activation_letter.html", letter=letter)
    response.headers["Cache-Control"] = "no-store"
    return response


routes = [
    Route("/staff/counter/activation", activation_form, methods=["GET"], name="staff_counter_activation"),
    Route("/staff/counter/activation", activation_issue, methods=["POST"], name="staff_counter_activation_issue"),
    Route("/staff/counter/correction", correction_form, methods=["GET"], name="staff_counter_correction"),
    Route("/staff/counter/correction", correction_submit, methods=["POST"], name="staff_counter_correction_submit"),
    Route("/staff/counter/exception", exception_form, methods=["GET"], name="staff_counter_exception"),
    Route("/staff/counter/exception", exception_submit, methods=["POST"], name="staff_counter_exception_submit"),
]
