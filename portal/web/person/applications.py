"""People's own requests: a correction of their record, an exception to flexible enrolment.

    GET/POST /me/records/correction   ask staff to correct months of the record
    GET/POST /me/flexible/exception   ask the office to enrol you although the online enrolment refused

Both become requests in the handling queue, followed at /me/requests. A hidden one-time token is the
submission's idempotency key, so a double click or a resent form makes one case.
"""

from __future__ import annotations

import secrets

from starlette.routing import Route

from portal import i18n
from portal.errors import Conflict, ValidationFailed
from portal.policy.dates import fmt_month, month_of
from portal.policy.rules.contribution import flexible_base_bounds
from portal.services import person_requests as service
from portal.web.access import PERSON
from portal.web.endpoint import Ctx, endpoint
from portal.web.parse import whole_number
from portal.web.shared.requests import commitment_form, offer_from, refused_commitment


def _token(ctx: Ctx) -> str:
    return ctx.value("token") or secrets.token_urlsafe(18)


def _submitted(ctx: Ctx, case):
    ctx.flash("Your request %(reference)s was submitted. We will tell you when it is decided.",
              reference=case.reference)
    return ctx.redirect(ctx.request.url_for("person_request", reference=case.reference).path)


# --- a correction of the record -------------------------------------------------------------------------------


def _refused(ctx: Ctx, error: ValidationFailed, page, *, route: str):
    return refused_commitment(ctx, error, route=route) or ctx.refuse(page, ctx, error=error)


def _correction_page(ctx: Ctx, *, error: ValidationFailed | None = None):
    extra = dict(token=_token(ctx), what_options=service.CORRECTIONS, max_months=service.MAX_MONTHS,
                 **commitment_form(ctx, person=service.person_of(ctx.db, actor=ctx.actor), kind="enrolment_correction", item=service.CORRECTION_COMMITMENT,
                                     route="person_correction"))
    if error is not None:
        return ctx.render_invalid("person/applications_correction.html", error, **extra)
    return ctx.render("person/applications_correction.html", **extra)


@endpoint(PERSON)
def correction_form(ctx: Ctx):
    return _correction_page(ctx)


@endpoint(PERSON)
def correction_submit(ctx: Ctx):
    try:
        case = service.submit_correction(
            ctx.db, filing=service.online(ctx.db, actor=ctx.actor), what=ctx.value("what"), months=ctx.value("months"),
            details=ctx.value("details"), offer=offer_from(ctx), token=ctx.value("token"), now=ctx.now, today=ctx.today)
    except ValidationFailed as error:
        return _refused(ctx, error, _correction_page, route="person_correction")
    return _submitted(ctx, case)


# --- an exception to flexible enrolment ---------------------------------------------------------------------


def _exception_page(ctx: Ctx, *, error: ValidationFailed | None = None, refusal: str | None = None):
    person = service.person_of(ctx.db, actor=ctx.actor)
    grounds = service.exception_grounds(ctx.db, person=person, month=month_of(ctx.today))
    extra = dict(token=_token(ctx), grounds=grounds, refusal=refusal,
                 bounds=flexible_base_bounds(month_of(ctx.today)),
                 start_options=[(fmt_month(month), i18n.format_month(month))
                                for month in service.start_options(ctx.today)],
                 **commitment_form(ctx, person=service.person_of(ctx.db, actor=ctx.actor), kind="flexible_exception", item=service.EXCEPTION_COMMITMENT,
                                     route="person_flexible_exception"))
    if error is not None:
        return ctx.render_invalid("person/applications_exception.html", error, **extra)
    return ctx.render("person/applications_exception.html", status=409 if refusal else 200, **extra)


@endpoint(PERSON)
def exception_form(ctx: Ctx):
    return _exception_page(ctx)


@endpoint(PERSON)
def exception_submit(ctx: Ctx):
    text = ctx.value("base_percent").rstrip("%％").strip()
    try:
        case = service.submit_exception(
            ctx.db, filing=service.online(ctx.db, actor=ctx.actor), start_month=ctx.value("start_month"),
            base_percent=whole_number(text, low=0, high=9999), details=ctx.value("details"), offer=offer_from(ctx),
            token=ctx.value("token"), now=ctx.now, today=ctx.today)
    except ValidationFailed as error:
        return _refused(ctx, error, _exception_page, route="person_flexible_exception")
    except Conflict as refused:
        return ctx.refuse(_exception_page, ctx, refusal=refused.message.render(i18n.gettext))
    return _submitted(ctx, case)


routes = [
    Route("/me/records/correction", correction_form, methods=["GET"], name="person_correction"),
    Route("/me/records/correction", correction_submit, methods=["POST"], name="person_correction_submit"),
    Route("/me/flexible/exception", exception_form, methods=["GET"], name="person_flexible_exception"),
    Route("/me/flexible/exception", exception_submit, methods=["POST"], name="person_flexible_exception_submit"),
]
