"""Employers apply to defer contributions (缓缴) or to pay back missed months (补缴).

Both become requests in the handling queue; the employer follows them at /employer/requests. A hidden
one-time token is the submission's idempotency key, so a double click or a resent form makes one case.
"""

from __future__ import annotations

import secrets

from starlette.routing import Route

from portal import i18n
from portal.errors import ValidationFailed
from portal.policy import commitments as commitment_catalogue
from portal.policy.dates import add_months, fmt_month, month_of
from portal.policy.money import from_fen
from portal.services import applications, commitments, credit, supervision
from portal.web.access import EMPLOYER
from portal.web.endpoint import Ctx, endpoint
from portal.web.shared.requests import uploads_from


def _token(ctx: Ctx) -> str:
    return ctx.value("token") or secrets.token_urlsafe(18)


def _text_field(ctx: Ctx, name: str) -> str:
    """A field exactly as typed (a password keeps its spaces); never an upload."""
    value = ctx.form.get(name) if ctx.form is not None else None
    return value if isinstance(value, str) else ""


# --- deferral -------------------------------------------------------------------------------------------


def _deferral_page(ctx: Ctx, *, error: ValidationFailed | None = None):
    subject = credit.Subject(*ctx.principal.party)
    assessment = supervision.assess(ctx.db, subject=subject, kind="deferral", on=ctx.today)
    extra = dict(months=applications.deferrable_months(ctx.db, actor=ctx.actor, today=ctx.today),
                 limit=applications.max_deferral_months(ctx.today), assessment=assessment,
                 notice=commitment_catalogue.notice(applications.DEFERRAL_COMMITMENT, ctx.today),
                 token=_token(ctx), chosen=set(ctx.form.getlist("months")) if ctx.form is not None else set(),
                 fmt_month=fmt_month, say=lambda message: message.render(i18n.gettext))
    if error is not None:
        return ctx.render_invalid("employer/applications_deferral.html", error, **extra)
    return ctx.render("employer/applications_deferral.html", **extra)


@endpoint(EMPLOYER)
def deferral_form(ctx: Ctx):
    return _deferral_page(ctx)


def _refused_deferral(ctx: Ctx, error: ValidationFailed):
    if commitments.was_wrong_password(error):  # kept: recorded after the refused request's rollback
        commitments.note_wrong_password(ctx.db, actor=ctx.actor, now=ctx.now)
    return _deferral_page(ctx, error=error)


@endpoint(EMPLOYER)
def deferral_submit(ctx: Ctx):
    try:
        case = applications.submit_deferral(
            ctx.db, actor=ctx.actor, months=[m for m in ctx.form.getlist("months") if isinstance(m, str)],
            reason=ctx.value("reason"), mode=ctx.value("mode"), password=_text_field(ctx, "password"),
            notice_version=ctx.value("notice_version"), locale=ctx.locale, uploads=uploads_from(ctx),
            token=ctx.value("token"), now=ctx.now, today=ctx.today)
    except ValidationFailed as error:
        return ctx.refuse(_refused_deferral, ctx, error)
    ctx.flash("Your request %(reference)s was submitted. We will tell you when it is decided.",
              reference=case.reference)
    return ctx.redirect(ctx.request.url_for("employer_request", reference=case.reference).path)


# --- back payment ----------------------------------------------------------------------------------------


def _back_payment_page(ctx: Ctx, *, quote=None, error: ValidationFailed | None = None):
    employees = applications.employees_for_back_payment(ctx.db, actor=ctx.actor)
    extra = dict(employees=employees, quote=quote, token=_token(ctx), fen=from_fen, fmt_month=fmt_month,
                 last_open=fmt_month(add_months(month_of(ctx.today), -1)))
    # The fields come from the query (the GET that shows the cost) or the form (the POST that submits).
    values = {name: ctx.value(name) for name in ("spell_id", "first_month", "last_month")}
    errors = {name: message.render(i18n.gettext) for name, message in error.errors.items()} if error else {}
    return ctx.render("employer/applications_back_payment.html", status=422 if error else 200, values=values,
                      errors=errors, **extra)


@endpoint(EMPLOYER)
def back_payment_form(ctx: Ctx):
    """The form; with the fields filled in (a GET), the months and what they cost, before submitting."""
    if not ctx.value("spell_id") and not ctx.value("first_month"):
        return _back_payment_page(ctx)
    try:
        quote = applications.quote_back_payment(
            ctx.db, actor=ctx.actor, spell_id=ctx.value("spell_id"), first_month=ctx.value("first_month"),
            last_month=ctx.value("last_month"), today=ctx.today)
    except ValidationFailed as error:
        return _back_payment_page(ctx, error=error)
    return _back_payment_page(ctx, quote=quote)


@endpoint(EMPLOYER)
def back_payment_submit(ctx: Ctx):
    try:
        case = applications.submit_back_payment(
            ctx.db, actor=ctx.actor, spell_id=ctx.value("spell_id"), first_month=ctx.value("first_month"),
            last_month=ctx.value("last_month"), token=ctx.value("token"), now=ctx.now, today=ctx.today)
    except ValidationFailed as error:
        return ctx.refuse(_back_payment_page, ctx, error=error)
    ctx.flash("Your request %(reference)s was submitted. We will tell you when it is decided.",
              reference=case.reference)
    return ctx.redirect(ctx.request.url_for("employer_request", reference=case.reference).path)


routes = [
    Route("/employer/applications/deferral", deferral_form, methods=["GET"], name="employer_deferral"),
    Route("/employer/applications/deferral", deferral_submit, methods=["POST"], name="employer_deferral_submit"),
    Route("/employer/applications/back-payment", back_payment_form, methods=["GET"], name="employer_back_payment"),
    Route("/employer/applications/back-payment", back_payment_submit, methods=["POST"],
          name="employer_back_payment_submit"),
]
