"""The proof step of registration and of a forgotten password: the visitor enters the code that proves they
are the person (sent to the mobile number on record, or printed at a service counter).

    GET/POST /password/forgotten      a new password for an identity number, kept until proven
    GET/POST /register/code           the proof step of a registration or reset (the claim is in a cookie)
    POST     /register/code/resend    a new code to the number on record

Every visitor gets the same answers whether or not a record, a mobile number or an account exists.
"""

from __future__ import annotations

from starlette.routing import Route

from portal import i18n
from portal.auth import sessions
from portal.errors import Conflict, Throttled, ValidationFailed
from portal.services import identity
from portal.web.access import PUBLIC
from portal.web.endpoint import Ctx, endpoint

CLAIM_COOKIE = "portal_claim"


def claim_token(ctx: Ctx) -> str | None:
    return ctx.request.cookies.get(CLAIM_COOKIE)


def keep_claim(ctx: Ctx, started: identity.ClaimStarted) -> None:
    ctx.set_cookie(CLAIM_COOKIE, started.token, max_age=ctx.settings.claim_minutes * 60)


def throttled_page(ctx: Ctx, template: str, error: Throttled, **extra):
    """A form answered 429: the message, the visitor's values (never a password) and when to try again."""
    values = {key: value for key, value in ctx.values().items() if "password" not in key}
    page = ctx.render(template, status=429, values=values, refusal=error.message.render(i18n.gettext), **extra)
    page.headers["Retry-After"] = str(error.retry_after_seconds)
    return page


def start(ctx: Ctx, purpose: str, template: str):
    """Registration and a forgotten password: one claim, then the proof step."""
    try:
        started = identity.start_claim(
            ctx.db, settings=ctx.settings, notifier=ctx.notifier, purpose=purpose, id_number=ctx.value("id_number"),
            name=ctx.value("name"), password=ctx.form.get("password") or "",
            password_confirm=ctx.form.get("password_confirm") or "", address=ctx.actor.address, now=ctx.now,
            today=ctx.today)
    except ValidationFailed as error:
        return ctx.render_invalid(template, error)
    except Throttled as error:
        return throttled_page(ctx, template, error)
    keep_claim(ctx, started)
    return ctx.redirect(ctx.request.url_for("identity_code_form").path)


@endpoint(PUBLIC)
def forgotten_form(ctx: Ctx):
    return ctx.render("public/password_forgotten.html")


@endpoint(PUBLIC)
def forgotten(ctx: Ctx):
    return start(ctx, "reset", "public/password_forgotten.html")


def _code_page(ctx: Ctx, *, status: int = 200, error: str | None = None, refusal: str | None = None):
    claim = identity.live_claim(ctx.db, token=claim_token(ctx), now=ctx.now)
    return ctx.render("public/identity_code.html", status=status, claim=claim, minutes=ctx.settings.code_minutes,
                      errors={"code": error} if error else {}, refusal=refusal)


@endpoint(PUBLIC)
def code_form(ctx: Ctx):
    return _code_page(ctx)


@endpoint(PUBLIC)
def code_submit(ctx: Ctx):
    if not ctx.value("code"):
        return _code_page(ctx, status=422, error=i18n.gettext(
            "Enter the code from the SMS, or the activation code from the service counter."))
    try:
        result = identity.prove_claim(ctx.db, settings=ctx.settings, notifier=ctx.notifier, token=claim_token(ctx),
                                      code=ctx.value("code"), address=ctx.actor.address, now=ctx.now)
    except Conflict:
        return _code_page(ctx, status=409)
    if isinstance(result, identity.Refused):
        return _code_page(ctx, status=409 if result.claim_closed else 422, error=result.message.render(i18n.gettext))
    sessions.end(session=ctx.db, token=ctx.request.cookies.get(sessions.COOKIE))
    token = sessions.start(session=ctx.db, kind="person", account_id=result.id, address=ctx.actor.address,
                           now=ctx.now)
    ctx.set_cookie(sessions.COOKIE, token)
    ctx.set_cookie(CLAIM_COOKIE, None)
    ctx.flash("Your identity is confirmed and your password is set. You are signed in.")
    return ctx.redirect(ctx.request.url_for("person_dashboard").path)


@endpoint(PUBLIC)
def code_resend(ctx: Ctx):
    try:
        identity.resend_code(ctx.db, settings=ctx.settings, notifier=ctx.notifier, token=claim_token(ctx),
                             address=ctx.actor.address, now=ctx.now)
    except Conflict:
        return _code_page(ctx, status=409)
    except Throttled as error:
        page = ctx.refuse(_code_page, ctx, status=429, refusal=error.message.render(i18n.gettext))
        page.headers["Retry-After"] = str(error.retry_after_seconds)
        return page
    ctx.flash("If we hold a mobile number on the record, a new code has been sent to it.")
    return ctx.redirect(ctx.request.url_for("identity_code_form").path)


routes = [
    Route("/password/forgotten", forgotten_form, methods=["GET"], name="password_forgotten_form"),
    Route("/password/forgotten", forgotten, methods=["POST"], name="password_forgotten"),
    Route("/register/code", code_form, methods=["GET"], name="identity_code_form"),
    Route("/register/code", code_submit, methods=["POST"], name="identity_code"),
    Route("/register/code/resend", code_resend, methods=["POST"], name="identity_code_resend"),
]
