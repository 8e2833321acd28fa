"""Sign in with the electronic social security card: by redirect to the card provider, or by a QR code that
another device confirms. The protocol is portal/auth/essc.py; mapping claims to accounts portal/services/essc.py.
"""

from __future__ import annotations

import logging
import secrets

import segno
from itsdangerous import BadSignature, URLSafeTimedSerializer
from markupsafe import Markup
from starlette.routing import Route

from portal import audit, i18n
from portal.auth import essc as protocol
from portal.auth import sessions
from portal.errors import N_, NotFound, ValidationFailed
from portal.services import essc as service
from portal.web.access import PUBLIC, STAFF
from portal.web.endpoint import Ctx, endpoint
from portal.web.public.pages import safe_next

log = logging.getLogger("portal.essc")

LOGIN_COOKIE = "portal_essc_login"
QR_COOKIE = "portal_essc_qr"
QR_CONFIRM_COOKIE = "portal_essc_qr_confirm"
MOBILE_COOKIE = "portal_essc_mobile"  # a card sign-in waiting for the person to confirm a mobile number
SIGN_OUT_COOKIE = "portal_essc_sign_out"  # the state sent with a sign-out at the provider, checked on return
LOGIN_SECONDS = 600
UNAVAILABLE = N_("Signing in with the electronic social security card is not available just now. Sign in with "
                 "your password, or try again later.")
QR_SPENT = N_("This QR code has expired or has already been used. Ask for a new one on the screen where you are "
               "signing in.")
SIGN_OUT_UNCONFIRMED = N_("You are signed out of the portal, but we could not confirm that the card platform "
                         "signed you out too. If you use a shared computer, close the browser.")
NOT_COMPLETED = N_("The sign-in with the electronic social security card could not be completed. Start again.")


def _signer(ctx: Ctx) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(ctx.settings.secret_key, salt="essc-login")


def _enabled(ctx: Ctx) -> None:
    if not protocol.enabled(ctx.settings):
        raise NotFound()


def _problem(ctx: Ctx, message: str, *, status: int = 400, qr: bool = False):
    return ctx.render("public/essc_problem.html", status=status, message=i18n.gettext(message), qr=qr)


@endpoint(PUBLIC)
def login(ctx: Ctx):
    """Off to the card provider; ``next`` is where to come back to (a step-up returns the person there)."""
    _enabled(ctx)
    target = safe_next(ctx.value("next"), "")
    face = ctx.value("face") == "1" or ctx.principal is not None
    try:
        request = protocol.begin(ctx.settings, face=face)
    except protocol.Unavailable as error:
        log.warning("e-SSC provider unavailable: %s", error)
        return _problem(ctx, UNAVAILABLE, status=503)
    state = _signer(ctx).dumps({"state": request.state, "nonce": request.nonce, "verifier": request.code_verifier,
                                "next": target})
    ctx.set_cookie(LOGIN_COOKIE, state, max_age=LOGIN_SECONDS)
    return ctx.redirect(request.url)


def _login_state(ctx: Ctx) -> dict | None:
    raw = ctx.request.cookies.get(LOGIN_COOKIE)
    if not raw:
        return None
    try:
        return _signer(ctx).loads(raw, max_age=LOGIN_SECONDS)
    except (BadSignature, ValueError, TypeError):
        return None


def _refused(ctx: Ctx, reason: str, *, qr: bool = False):
    log.info("e-SSC sign-in rejected: %s", reason)
    audit.record(session=ctx.db, actor=ctx.actor, action="essc.refused", now=ctx.now, detail={"reason": reason[:200]})
    return _problem(ctx, NOT_COMPLETED, qr=qr)


@endpoint(PUBLIC)
def callback(ctx: Ctx):
    """The provider sends the browser back here with a code and the state it was given."""
    _enabled(ctx)
    returned = ctx.query.get("state", "")
    saved = _login_state(ctx)
    ctx.set_cookie(LOGIN_COOKIE, None)  # one answer per login, whatever it is
    if saved is None or saved.get("state") != returned:
        row = service.qr_by_state(ctx.db, state=returned)
        if row is not None:
            return _qr_callback(ctx, row)
        return _refused(ctx, "state")
    try:
        claims = protocol.finish(ctx.settings, expected_state=saved["state"], nonce=saved["nonce"],
                                 code_verifier=saved["verifier"], query=dict(ctx.query), now=ctx.now)
    except protocol.Unavailable as error:
        log.warning("e-SSC provider unavailable: %s", error)
        return _problem(ctx, UNAVAILABLE, status=503)
    except protocol.Rejected as error:
        return _refused(ctx, error.reason)
    result = service.sign_in_with_card(ctx.db, claims=claims, actor=ctx.actor, now=ctx.now, today=ctx.today)
    if isinstance(result, service.CardRefused):
        return ctx.render("public/essc_problem.html", status=403, message=result.message.render(i18n.gettext),
                          qr=False)
    if isinstance(result, service.MobileNeeded):
        return _ask_mobile(ctx, result, saved.get("next"))
    return _signed_in(ctx, result, saved.get("next"))


def _signed_in(ctx: Ctx, result: service.CardSignedIn, next_url: str | None):
    sessions.end(session=ctx.db, token=ctx.request.cookies.get(sessions.COOKIE))  # a fresh session id
    ctx.set_cookie(sessions.COOKIE, result.token)
    return ctx.redirect(safe_next(next_url, result.principal.home))


def _mobile_signer(ctx: Ctx) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(ctx.settings.secret_key, salt="essc-mobile")


def _ask_mobile(ctx: Ctx, needed: service.MobileNeeded, next_url: str | None):
    """No session yet: a signed note of whom the card proved, kept while the person confirms a mobile number."""
    note = _mobile_signer(ctx).dumps({"account": needed.account_id, "assurance": needed.assurance,
                                      "next": safe_next(next_url, ""), "id_token": needed.id_token})
    ctx.set_cookie(MOBILE_COOKIE, note, max_age=LOGIN_SECONDS)
    return ctx.redirect(ctx.request.url_for("essc_mobile_form").path)


def _mobile_note(ctx: Ctx) -> dict | None:
    try:
        note = _mobile_signer(ctx).loads(ctx.request.cookies.get(MOBILE_COOKIE) or "", max_age=LOGIN_SECONDS)
    except (BadSignature, ValueError, TypeError):
        return None
    return note if isinstance(note, dict) and isinstance(note.get("account"), int) else None


def _qr_callback(ctx: Ctx, row):
    """The device that scanned a QR code comes back from the card provider. Before the screen that showed the code
    is signed in, the cardholder confirms it is theirs: whoever made the code (perhaps someone who sent it to them)
    knows its state, but not the signed note this device keeps."""
    if not service.qr_usable(row, ctx.now):
        audit.record(session=ctx.db, actor=ctx.actor, action="essc.refused", now=ctx.now,
                     detail={"reason": "qr_spent"})
        return _problem(ctx, QR_SPENT, qr=True)
    try:
        claims = protocol.finish(ctx.settings, expected_state=row.state, nonce=row.nonce,
                                 code_verifier=row.code_verifier, query=dict(ctx.query), now=ctx.now)
    except protocol.Unavailable as error:
        log.warning("e-SSC provider unavailable: %s", error)
        return _problem(ctx, UNAVAILABLE, status=503)
    except protocol.Rejected as error:
        return _refused(ctx, error.reason, qr=True)
    found = service.account_for_card(ctx.db, claims=claims, actor=ctx.actor, now=ctx.now, today=ctx.today)
    if isinstance(found, service.CardRefused):
        return ctx.render("public/essc_problem.html", status=403, message=found.message.render(i18n.gettext),
                          qr=True)
    note = _qr_signer(ctx).dumps({"row": row.id, "account": found.account.id, "assurance": found.assurance})
    ctx.set_cookie(QR_CONFIRM_COOKIE, note, max_age=int(service.QR_LIFETIME.total_seconds()))
    return ctx.render("public/essc_qr_confirm.html", shown_at=row.created_at, address=row.client_address,
                      name=found.person.name)


def _qr_signer(ctx: Ctx) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(ctx.settings.secret_key, salt="essc-qr-confirm")


@endpoint(PUBLIC)
def qr_confirm(ctx: Ctx):
    _enabled(ctx)
    try:
        note = _qr_signer(ctx).loads(ctx.request.cookies.get(QR_CONFIRM_COOKIE) or "",
                                     max_age=int(service.QR_LIFETIME.total_seconds()))
    except (BadSignature, ValueError, TypeError):
        note = None
    ctx.set_cookie(QR_CONFIRM_COOKIE, None)
    if not isinstance(note, dict) or not service.confirm_qr(
            ctx.db, row_id=note.get("row"), account_id=note.get("account"), assurance=note.get("assurance"),
            actor=ctx.actor, now=ctx.now):
        return _problem(ctx, QR_SPENT, qr=True)
    return ctx.render("public/essc_qr_confirmed.html")


@endpoint(PUBLIC)
def mobile_form(ctx: Ctx):
    """The account the card opened: the person confirms the number on record, or gives theirs, to sign in."""
    note = _mobile_note(ctx)
    if note is None:
        return _problem(ctx, NOT_COMPLETED)
    return ctx.render("public/essc_mobile.html",
                      values={"mobile": service.mobile_on_record(ctx.db, account_id=note["account"])})


@endpoint(PUBLIC)
def mobile(ctx: Ctx):
    note = _mobile_note(ctx)
    if note is None:
        return _problem(ctx, NOT_COMPLETED)
    pending = service.MobileNeeded(account_id=note["account"], assurance=str(note.get("assurance")),
                                   id_token=str(note.get("id_token") or ""))
    try:
        result = service.confirm_mobile(ctx.db, pending=pending, mobile=ctx.value("mobile"), actor=ctx.actor,
                                        now=ctx.now)
    except ValidationFailed as error:
        return ctx.fail("public/essc_mobile.html", error.errors)
    ctx.set_cookie(MOBILE_COOKIE, None)
    ctx.flash("Your mobile number is saved.")
    return _signed_in(ctx, result, note.get("next"))


# --- signing out at the provider too (OpenID Connect RP-Initiated Logout 1.0) ----------------------------------------

def _sign_out_signer(ctx: Ctx) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(ctx.settings.secret_key, salt="essc-sign-out")


def sign_out_at_provider(ctx: Ctx, id_token: str):
    """After a card session ended here: off to the provider's end_session_endpoint to end its session too, with a
    state this browser keeps to check the way back. None (sign out here only) for any other session, and when the
    provider names no end_session_endpoint or cannot be reached."""
    if not id_token or not protocol.enabled(ctx.settings):
        return None
    state = secrets.token_urlsafe(32)
    try:
        url = protocol.end_session_url(ctx.settings, id_token=id_token, state=state)
    except protocol.Unavailable as error:
        log.warning("e-SSC provider unavailable for signing out: %s", error)
        return None
    if url is None:
        return None
    ctx.set_cookie(SIGN_OUT_COOKIE, _sign_out_signer(ctx).dumps(state), max_age=LOGIN_SECONDS)
    return ctx.redirect(url)


@endpoint(PUBLIC)
def signed_out(ctx: Ctx):
    """The provider sends the browser back here once it has signed the person out, with the state it was given."""
    _enabled(ctx)
    try:
        expected = _sign_out_signer(ctx).loads(ctx.request.cookies.get(SIGN_OUT_COOKIE) or "",
                                               max_age=LOGIN_SECONDS)
    except (BadSignature, ValueError, TypeError):
        expected = None
    ctx.set_cookie(SIGN_OUT_COOKIE, None)  # one answer per sign-out
    returned = ctx.query.get("state", "")
    if not isinstance(expected, str) or not secrets.compare_digest(returned.encode(), expected.encode()):
        audit.record(session=ctx.db, actor=ctx.actor, action="essc.refused", now=ctx.now,
                     detail={"reason": "sign_out_state"})
        return ctx.render("public/essc_signed_out_problem.html", status=400,
                          message=i18n.gettext(SIGN_OUT_UNCONFIRMED))
    ctx.flash("You have signed out.")
    return ctx.redirect(ctx.request.url_for("home").path)


# --- QR sign-in --------------------------------------------------------------------------------------------------

def _qr_svg(url: str) -> Markup:
    # Inline SVG: no image request, nothing for the content security policy to allow.
    svg = segno.make(url, error="m").svg_inline(scale=4, dark="#000", light="#fff", omitsize=False)
    return Markup(svg)  # noqa: S704 - segno's own markup for our own URL


@endpoint(PUBLIC)
def qr(ctx: Ctx):
    """A new one-time QR code (the sign-in page loads it; it also works as a page of its own)."""
    _enabled(ctx)
    try:
        request = protocol.begin(ctx.settings)
    except protocol.Unavailable as error:
        log.warning("e-SSC provider unavailable: %s", error)
        return _problem(ctx, UNAVAILABLE, status=503)
    started = service.start_qr(ctx.db, login=request, next_url=safe_next(ctx.value("next"), ""), actor=ctx.actor,
                               now=ctx.now)
    ctx.set_cookie(QR_COOKIE, started.token, max_age=int(service.QR_LIFETIME.total_seconds()) + 60)
    template = "public/_essc_qr.html" if ctx.is_htmx else "public/essc_qr.html"
    return ctx.render(template, svg=_qr_svg(started.url), link=started.url, status_word="waiting",
                      expires_at=started.expires_at)


@endpoint(PUBLIC, repeatable=True)
def qr_poll(ctx: Ctx):
    """The page showing the code asks every second whether it was confirmed (a button without JavaScript)."""
    _enabled(ctx)
    result = service.poll_qr(ctx.db, token=ctx.request.cookies.get(QR_COOKIE), actor=ctx.actor, now=ctx.now)
    if result.status == "signed_in":
        ctx.set_cookie(QR_COOKIE, None)
        return _signed_in(ctx, result.signed_in, result.next_url)
    if result.status == "mobile":
        ctx.set_cookie(QR_COOKIE, None)
        return _ask_mobile(ctx, result.mobile_needed, result.next_url)
    template = "public/_essc_qr_status.html" if ctx.is_htmx else "public/essc_qr.html"
    return ctx.render(template, status_word=result.status, svg=None, link=None)


# --- the service counter ----------------------------------------------------------------------------------------

@endpoint(STAFF("handler"))
def counter_check_form(ctx: Ctx):
    return ctx.render("staff/counter_card_check.html")


@endpoint(STAFF("handler"))
def counter_check(ctx: Ctx):
    try:
        person = service.record_counter_card_check(ctx.db, actor=ctx.actor, id_number=ctx.value("id_number"),
                                                   now=ctx.now, today=ctx.today)
    except ValidationFailed as error:
        return ctx.render_invalid("staff/counter_card_check.html", error)
    ctx.flash("The card check of %(name)s is recorded.", name=person.name)
    return ctx.redirect(ctx.request.url_for("staff_card_check_form").path)


routes = [
    Route("/auth/essc/login", login, methods=["GET"], name="essc_login"),
    Route("/auth/essc/callback", callback, methods=["GET"], name="essc_callback"),
    Route("/auth/essc/signed-out", signed_out, methods=["GET"], name="essc_signed_out"),
    Route("/auth/essc/mobile", mobile_form, methods=["GET"], name="essc_mobile_form"),
    Route("/auth/essc/mobile", mobile, methods=["POST"], name="essc_mobile"),
    Route("/auth/essc/qr", qr, methods=["GET"], name="essc_qr"),
    Route("/auth/essc/qr/poll", qr_poll, methods=["POST"], name="essc_qr_poll"),
    Route("/auth/essc/qr/confirm", qr_confirm, methods=["POST"], name="essc_qr_confirm"),
    Route("/staff/counter/card-check", counter_check_form, methods=["GET"], name="staff_card_check_form"),
    Route("/staff/counter/card-check", counter_check, methods=["POST"], name="staff_card_check"),
]

