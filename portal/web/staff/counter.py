"""The service counter (窗口): staff file a person's request for them, and the person signs on paper.

    GET/POST /staff/counter/correction   a correction of the person's record
    GET/POST /staff/counter/exception    an exception to flexible enrolment

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
from portal.policy.parameters import param
from portal.services import person_requests as service
from portal.web.endpoint import Ctx, endpoint
from portal.web.parse import whole_number
from portal.web.staff.queue import CASE_WORKERS


def _page(ctx: Ctx, template: str, *, error: ValidationFailed | None = None, refusal: str | None = None):
    bounds = param("flexible_base_percent").at(month_of(ctx.today)).value
    extra = dict(token=ctx.value("token") or secrets.token_urlsafe(18), commitment=service.COMMITMENT,
                 max_months=service.MAX_MONTHS, refusal=refusal, bounds=(bounds["min"], bounds["max"]),
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
    return ctx.redirect(f"/staff/cases/{case.reference}")


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
        ctx.db.rollback()
        return _page(ctx, "staff/counter_correction.html", error=error)
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
        ctx.db.rollback()
        return _page(ctx, "staff/counter_exception.html", error=error)
    except Conflict as refused:
        ctx.db.rollback()
        return _page(ctx, "staff/counter_exception.html", refusal=refused.message.render(i18n.gettext))
    return _filed(ctx, case)


routes = [
    Route("/staff/counter/correction", correction_form, methods=["GET"], name="staff_counter_correction"),
    Route("/staff/counter/correction", correction_submit, methods=["POST"], name="staff_counter_correction_submit"),
    Route("/staff/counter/exception", exception_form, methods=["GET"], name="staff_counter_exception"),
    Route("/staff/counter/exception", exception_submit, methods=["POST"], name="staff_counter_exception_submit"),
]
