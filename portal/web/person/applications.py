"""People's own requests: a correction of their record, an exception to flexible enrolment.

    GET/POST /me/records/correction   ask staff to correct months of the record
    GET/POST /me/flexible/exception   ask the office to enrol you although the online enrolment refused

Both become requests in the handling queue, followed at /me/requests. A hidden one-time token is the
submission's idempotency key, so a double click or a resent form makes one case.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote

from starlette.routing import Route

from portal import i18n
from portal.errors import N_, Conflict, Msg, ValidationFailed
from portal.policy import commitments as commitment_catalogue
from portal.policy.dates import fmt_month, month_of
from portal.policy.rules.contribution import flexible_base_bounds
from portal.services import commitments, credit
from portal.services import person_requests as service
from portal.web.access import FACE_STEP, PERSON
from portal.web.endpoint import Ctx, endpoint
from portal.web.parse import whole_number


def _token(ctx: Ctx) -> str:
    return ctx.value("token") or secrets.token_urlsafe(18)


def _submitted(ctx: Ctx, case):
    ctx.flash("Your request %(reference)s was submitted. We will tell you when it is decided.",
              reference=case.reference)
    return ctx.redirect(f"/me/requests/{case.reference}")


# --- a correction of the record -------------------------------------------------------------------------------


def _correction_extra(ctx: Ctx) -> dict:
    return dict(token=_token(ctx), commitment=service.COMMITMENT, what_options=service.CORRECTIONS,
                max_months=service.MAX_MONTHS)


def _correction_page(ctx: Ctx):
    return ctx.render("person/applications_correction.html", **_correction_extra(ctx))


@endpoint(PERSON)
def correction_form(ctx: Ctx):
    return _correction_page(ctx)


@endpoint(PERSON)
def correction_submit(ctx: Ctx):
    try:
        case = service.submit_correction(
            ctx.db, filing=service.online(ctx.db, ctx.actor), what=ctx.value("what"), months=ctx.value("months"),
            details=ctx.value("details"),
            commitment=ctx.value("commitment") == "yes", token=ctx.value("token"), now=ctx.now, today=ctx.today)
    except ValidationFailed as error:
        return ctx.fail("person/applications_correction.html", error.errors, **_correction_extra(ctx))
    return _submitted(ctx, case)


# --- an exception to flexible enrolment ---------------------------------------------------------------------


def _exception_page(ctx: Ctx, *, error: ValidationFailed | None = None, refusal: str | None = None):
    person = service.person_of(ctx.db, ctx.actor)
    grounds = service.exception_grounds(ctx.db, person=person, month=month_of(ctx.today))
    eligible = commitments.eligibility(ctx.db, subject=credit.Subject("person", person.id), on=ctx.today)
    extra = dict(token=_token(ctx), grounds=grounds, refusal=refusal, eligibility=eligible,
                 notice=commitment_catalogue.notice(service.EXCEPTION_COMMITMENT, ctx.today),
                 say=lambda message: message.render(i18n.gettext),
                 face_step=f"{FACE_STEP}{quote(str(ctx.request.url_for('person_flexible_exception').path), safe='')}",
                 bounds=flexible_base_bounds(month_of(ctx.today)),
                 start_options=[(fmt_month(month), i18n.format_month(month))
                                for month in service.start_options(ctx.today)])
    if error is not None:
        return ctx.render_invalid("person/applications_exception.html", error, **extra)
    return ctx.render("person/applications_exception.html", status=409 if refusal else 200, **extra)


@endpoint(PERSON)
def exception_form(ctx: Ctx):
    return _exception_page(ctx)


@endpoint(PERSON)
def exception_submit(ctx: Ctx):
    text = ctx.value("base_percent").rstrip("%％").strip()
    person = service.person_of(ctx.db, ctx.actor)
    confirmation, refused = None, {}
    if not commitments.eligibility(ctx.db, subject=credit.Subject("person", person.id), on=ctx.today).may_commit:
        refused = {"password": Msg(N_("You cannot commit instead of proving: bring the documents to a service "
                                      "counter."))}
    else:
        password = ctx.form.get("password") if ctx.form is not None else None
        try:
            confirmation = commitments.confirm(
                ctx.db, actor=ctx.actor, item=service.EXCEPTION_COMMITMENT, version=ctx.value("notice_version"),
                password=password if isinstance(password, str) else "", locale=ctx.locale, now=ctx.now,
                today=ctx.today)
        except ValidationFailed as invalid:
            refused = dict(invalid.errors)
    try:
        case = service.submit_exception(
            ctx.db, filing=service.online(ctx.db, ctx.actor), start_month=ctx.value("start_month"),
            base_percent=whole_number(text, low=0, high=9999), details=ctx.value("details"),
            commitment=confirmation is not None, confirmation=confirmation, token=ctx.value("token"), now=ctx.now,
            today=ctx.today)
    except ValidationFailed as error:
        errors = {name: message for name, message in error.errors.items() if name != "commitment"} | refused
        shown = ValidationFailed(errors)

        def answer():
            if commitments.was_wrong_password(shown):  # kept: recorded after the refused request's rollback
                commitments.note_wrong_password(ctx.db, actor=ctx.actor, now=ctx.now)
            return _exception_page(ctx, error=shown)

        return ctx.refuse(answer)
    except Conflict as refused:
        return ctx.refuse(_exception_page, ctx, refusal=refused.message.render(i18n.gettext))
    return _submitted(ctx, case)


routes = [
    Route("/me/records/correction", correction_form, methods=["GET"], name="person_correction"),
    Route("/me/records/correction", correction_submit, methods=["POST"], name="person_correction_submit"),
    Route("/me/flexible/exception", exception_form, methods=["GET"], name="person_flexible_exception"),
    Route("/me/flexible/exception", exception_submit, methods=["POST"], name="person_flexible_exception_submit"),
]
