"""The proof step of a signed-in person account not yet proven to be its person (/me/prove).

    GET  /me/prove         what to do: a code to the number on record, or a counter's activation code
    POST /me/prove/send    sends a code to the mobile number on the person's record
    POST /me/prove         checks the code; the account then sees its record

Every other person page sends an unproven account here (portal/web/access.py, checked in portal/web/endpoint.py).
"""

from __future__ import annotations

from starlette.routing import Route

from portal import i18n
from portal.errors import Throttled
from portal.services import identity
from portal.web.access import PERSON_UNPROVEN
from portal.web.endpoint import Ctx, endpoint
from portal.web.public.identity import CLAIM_COOKIE, claim_token, keep_claim

TEMPLATE = "person/prove.html"


def _page(ctx: Ctx, *, status: int = 200, error: str | None = None, refusal: str | None = None):
    return ctx.render(TEMPLATE, status=status, minutes=ctx.settings.code_minutes,
                      errors={"code": error} if error else {}, refusal=refusal)


@endpoint(PERSON_UNPROVEN)
def prove_page(ctx: Ctx):
    if ctx.principal.identity_proven:
        return ctx.redirect(ctx.request.url_for("person_dashboard").path)
    return _page(ctx)


@endpoint(PERSON_UNPROVEN)
def send_code(ctx: Ctx):
    if ctx.principal.identity_proven:
        return ctx.redirect(ctx.request.url_for("person_dashboard").path)
    try:
        started = identity.request_account_code(ctx.db, settings=ctx.settings, notifier=ctx.notifier,
                                                actor=ctx.actor, now=ctx.now)
    except Throttled as error:
        page = ctx.refuse(_page, ctx, status=429, refusal=error.message.render(i18n.gettext))
        page.headers["Retry-After"] = str(error.retry_after_seconds)
        return page
    keep_claim(ctx, started)
    ctx.flash("If we hold a mobile number on your record, a code has been sent to it.")
    return ctx.redirect(ctx.request.url_for("person_prove").path)


@endpoint(PERSON_UNPROVEN)
def check_code(ctx: Ctx):
    if ctx.principal.identity_proven:
        return ctx.redirect(ctx.request.url_for("person_dashboard").path)
    if not ctx.value("code"):
        return _page(ctx, status=422, error=i18n.gettext(
            "Enter the code from the SMS, or the activation code from the service counter."))
    result = identity.prove_account(ctx.db, settings=ctx.settings, actor=ctx.actor, token=claim_token(ctx),
                                    code=ctx.value("code"), now=ctx.now)
    if isinstance(result, identity.Refused):
        return _page(ctx, status=409 if result.claim_closed else 422, error=result.message.render(i18n.gettext))
    ctx.set_cookie(CLAIM_COOKIE, None)
    ctx.flash("Your identity is confirmed. You can now see your record.")
    return ctx.redirect(ctx.request.url_for("person_dashboard").path)


routes = [
    Route("/me/prove", prove_page, methods=["GET"], name="person_prove"),
    Route("/me/prove", check_code, methods=["POST"], name="person_prove_check"),
    Route("/me/prove/send", send_code, methods=["POST"], name="person_prove_send"),
]
