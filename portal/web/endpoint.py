"""The request boundary: access check, CSRF, one transaction, and rendering in the visitor's language.

Endpoints are plain functions ``def view(ctx: Ctx) -> Response``. They run in a worker thread with
their own database session, so blocking database work never stalls the event loop, and the
transaction is committed before the response leaves (or rolled back if anything failed).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TypeVar
from urllib.parse import quote, urlencode, urlsplit

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import exc as sa_exc
from sqlalchemy import text as sa_text
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.background import BackgroundTask, BackgroundTasks
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from portal import audit, clock, i18n
from portal.auth import csrf, sessions
from portal.auth.principal import Actor, Principal
from portal.errors import N_, Msg, PortalError, Throttled, ValidationFailed
from portal.faults import crash_point
from portal.queue import notices
from portal.services import idempotency
from portal.settings import Settings
from portal.web.access import FACE_STEP, PROOF_STEP, PUBLIC, Access
from portal.web.templating import render

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FLASH_COOKIE = "portal_flash"
RESUME_COOKIE = "portal_resume"  # a form posted after the session ended, kept for the same page after sign-in
RESUME_MAX_BYTES = 3500  # a cookie holds about 4 KB; a longer form is not kept (the sign-in message says so)
RESUME_MINUTES = 30
FACE_RESUME = "face"  # the form kept while the person confirmed with the card's face check (Ctx.face_step_up)
DISPLAY_COOKIE = "portal_display"
# Fields never put back into a form nor kept across a sign-in (a password typed again to confirm a commitment).
SECRET_FIELDS = ("password",)
Answer = TypeVar("Answer")
log = logging.getLogger("portal.web")


@dataclass
class Ctx:
    """Everything an endpoint needs from the request, already parsed and checked."""

    request: Request
    db: Session  # the request's one transaction: views read and call services; only the boundary commits
    principal: Principal | None
    form: FormData | None
    csrf_token: str
    now: datetime
    settings: Settings
    cookies: list[tuple[str, str | None, dict]] = field(default_factory=list)
    flash_message: str | None = None
    resumed: dict = field(default_factory=dict)  # what was typed before the session ended, for this page

    @property
    def actor(self) -> Actor:
        return Actor(principal=self.principal, address=client_address(self.request))

    @property
    def today(self) -> date:
        return self.now.astimezone(clock.CHINA).date()

    @property
    def locale(self) -> str:
        return i18n.current_locale()

    @property
    def path_params(self) -> dict:
        return self.request.path_params

    @property
    def query(self):
        return self.request.query_params

    @property
    def body(self) -> bytes:
        """The raw request body, kept only for endpoints declared ``csrf_protected=False`` (signed callbacks)."""
        return getattr(self.request.state, "raw_body", b"")

    @property
    def notifier(self):
        """Where messages to people go (portal/notify): the SMS gateway, or the development sink."""
        return self.request.app.state.notifier

    @property
    def is_htmx(self) -> bool:
        return self.request.headers.get("hx-request") == "true"

    def value(self, name: str, default: str = "") -> str:
        """A submitted text field, stripped of surrounding space; never an upload."""
        source = self.form if self.form is not None else self.request.query_params
        raw = source.get(name, default)
        return raw.strip() if isinstance(raw, str) else default

    def values(self) -> dict[str, str]:
        """All text fields, to put back into a form that failed validation."""
        if self.form is None:
            return {}
        return {key: value for key, value in self.form.items()
                if isinstance(value, str) and key not in (csrf.FIELD, idempotency.FIELD, *SECRET_FIELDS)}

    def flash(self, message: str, **params) -> None:
        """A one-time confirmation shown on the next page (message id, translated when shown)."""
        signer = URLSafeSerializer(self.settings.secret_key, salt="flash")
        self.set_cookie(FLASH_COOKIE, signer.dumps([message, params]), max_age=120)

    def set_cookie(self, name: str, value: str | None, **options) -> None:
        self.cookies.append((name, value, options))

    def context(self, **extra) -> dict:
        principal = self.principal
        base = {
            "request": self.request,
            "current_user": principal,
            "csrf_token": self.csrf_token,
            "locale": self.locale,
            "large_text": self.request.cookies.get(DISPLAY_COOKIE) == "large",
            "flash": self.flash_message,
            "errors": {},
            "values": self.resumed,
            "path": self.request.url.path,
            "lang_url": lambda lang: _with_query(self.request, lang=lang),
            "today": self.today,
            "unread_notices": notices.unread_count(self.db, principal=principal),
        }
        base.update(extra)
        return base

    def render(self, template: str, *, status: int = 200, **extra) -> HTMLResponse:
        return HTMLResponse(render(template, self.context(**extra)), status_code=status)

    def render_invalid(self, template: str, error: ValidationFailed, **extra) -> HTMLResponse:
        """Re-show a form with the visitor's values, an error summary and a message at each field."""
        messages = {name: message.render(i18n.gettext) for name, message in error.errors.items()}
        return self.render(template, status=422, errors=messages, values=self.values(), **extra)

    def refuse(self, answer: Callable[..., Answer], *args, **kwargs) -> Answer:
        """Nothing of what this request changed so far is kept; then ``answer(*args, **kwargs)`` makes the reply.

        The transaction is rolled back first, so what the answer reads is the database as it was, never the
        half-done work of a refused use case (on PostgreSQL a failed statement also leaves the transaction
        unusable until then). The request goes on in a fresh transaction, which the boundary commits: what the
        answer itself records (a refused upload counted, a refused payment callback audited) is kept.
        """
        self.db.rollback()
        return answer(*args, **kwargs)

    def fail(self, template: str, errors: Mapping[str, Msg | str] | None = None, *, status: int = 422,
             page: Callable[[], dict] | None = None, **context) -> HTMLResponse:
        """Refuse what was sent and show the page again: nothing of it is kept (see ``refuse``).

        ``errors`` are messages by field name (``Msg`` translated here); with errors the form keeps what the
        visitor typed. ``page``, when given, reads what the page shows from the database after the rollback;
        ``context`` is added to it.
        """
        def answer() -> HTMLResponse:
            shown = {**(page() if page is not None else {}), **context}
            if errors:
                shown.setdefault("values", self.values())
            shown["errors"] = {name: message.render(i18n.gettext) if isinstance(message, Msg) else message
                               for name, message in (errors or {}).items()} or shown.get("errors") or {}
            return self.render(template, status=status, **shown)

        return self.refuse(answer)

    def redirect(self, url: str, status: int = 303) -> Response:
        if self.is_htmx:
            return Response(status_code=200, headers={"HX-Redirect": url})
        return RedirectResponse(url, status_code=status)

    def face_step_up(self, *, page: str) -> Response:
        """Off to confirm with the card and its face check (a step-up asked for at this moment), then back to
        ``page`` with what was typed in this form filled in again (files are chosen again; nothing secret is kept).
        """
        kept = _kept_form(self.settings, page, self.form, why=FACE_RESUME)
        if kept is not None:
            self.set_cookie(RESUME_COOKIE, kept, max_age=RESUME_MINUTES * 60)
        return self.redirect(FACE_STEP + quote(page, safe=""))


def _with_query(request: Request, **params) -> str:
    query = dict(request.query_params)
    query.update(params)
    return f"{request.url.path}?{urlencode(query)}"


def client_address(request: Request) -> str:
    # Behind the province's reverse proxy uvicorn's --proxy-headers sets the client from X-Forwarded-For.
    return request.client.host if request.client else ""


def error_page(request: Request, status: int, message: Msg | None = None, principal: Principal | None = None,
               csrf_token: str = "", template: str | None = None) -> HTMLResponse:
    template = template or {403: "errors/403.html", 404: "errors/404.html"}.get(status, "errors/error.html")
    if status >= 500:
        template = "errors/503.html" if status == 503 else "errors/500.html"
    context = {
        "request": request,
        "current_user": principal,
        "csrf_token": csrf_token,
        "locale": i18n.current_locale(),
        "large_text": request.cookies.get(DISPLAY_COOKIE) == "large",
        "flash": None,
        "errors": {},
        "values": {},
        "path": request.url.path,
        "lang_url": lambda lang: _with_query(request, lang=lang),
        "status": status,
        "message": message.render(i18n.gettext) if message else None,
    }
    return HTMLResponse(render(template, context), status_code=status)


def database_unavailable(error: BaseException) -> bool:
    """The database is unreachable, dropped the connection or has none free: the request may work later.

    The transaction was rolled back (or died with its connection), so nothing of the request was saved; the
    pool replaces dead connections on later checkouts, so the portal recovers without a restart.
    """
    return isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError) or (
        isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated)


def database_answers(engine: Engine) -> bool:
    """The health probe: does the database answer a trivial query? One round trip outside any transaction (in one,
    its BEGIN and COMMIT made three trips a probe, and probes come often); a failed probe leaves nothing behind."""
    try:
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(sa_text("SELECT 1"))
        return True
    except sa_exc.SQLAlchemyError:
        return False


def unavailable_page(request: Request, error: BaseException) -> HTMLResponse:
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, type(error).__name__)
    page = error_page(request, 503)
    page.headers["Retry-After"] = "30"
    return page


def probe(view):
    """A health probe for the load balancer and the orchestrator: public, read-only, no session, form or cookie.

    ``view(engine) -> Response`` runs in a worker thread (it may ask the database), or in the event loop when it is a
    coroutine function (it asks nothing that blocks). The request boundary is left out
    on purpose: a probe has no visitor to resume, no form to check and nothing to commit, and the boundary's session
    lookup, anonymous CSRF cookie and transaction cost a probe more than its one query."""
    if inspect.iscoroutinefunction(view):
        async def asgi_endpoint(request: Request) -> Response:
            return await view(request.app.state.engine)
    else:
        async def asgi_endpoint(request: Request) -> Response:
            return await run_in_threadpool(view, request.app.state.engine)

    # GET only, so nothing to exempt from the CSRF check (only signed machine callbacks are).
    return _declared(asgi_endpoint, view, PUBLIC, csrf_protected=True, repeatable=True)


def _declared(asgi_endpoint, view, access: Access, *, csrf_protected: bool, repeatable: bool):
    """The route's declaration, read by the route walk and the tests: who may call it, and how its forms behave."""
    asgi_endpoint.__access__ = access
    asgi_endpoint.__csrf_protected__ = csrf_protected
    asgi_endpoint.__repeatable__ = repeatable
    asgi_endpoint.__wrapped__ = view
    asgi_endpoint.__name__ = view.__name__
    asgi_endpoint.__doc__ = view.__doc__
    return asgi_endpoint


def endpoint(access: Access, *, csrf_protected: bool = True, repeatable: bool = False):
    """Declare who may call an endpoint and wrap it in the request boundary.

    A state-changing form is done once per key (portal.services.idempotency): its second submission is
    sent where the first one was. ``repeatable`` declares a form whose repeat is harmless and must run
    again (signing in needs the new session's cookie on whichever answer the browser keeps).
    """

    def decorate(view):
        async def asgi_endpoint(request: Request) -> Response:
            form = None
            if request.method not in SAFE_METHODS:
                if not csrf_protected:
                    # A machine callback signs its raw body: keep the bytes as sent (ctx.body); the form parser
                    # below reads them from this cache and never consumes the stream.
                    request.state.raw_body = await request.body()
                form = await request.form(max_files=1, max_fields=20000, max_part_size=50 * 1024 * 1024)
            try:
                response = await run_in_threadpool(_run, view, access, request, form, csrf_protected)
            except Exception as error:
                # Rendered here rather than by Starlette's outermost handler so the page keeps its headers.
                i18n.set_locale(request.state.locale)
                if database_unavailable(error):
                    return unavailable_page(request, error)
                log.exception("unhandled error on %s %s", request.method, request.url.path)
                return error_page(request, 500)
            finally:
                if form is not None:
                    await form.close()
            if getattr(request.state, "audit_unsealed", False):
                _seal_after(response, request.app.state.sealer)
            return response

        return _declared(asgi_endpoint, view, access, csrf_protected=csrf_protected, repeatable=repeatable)

    return decorate


def _run(view, access: Access, request: Request, form: FormData | None, csrf_protected: bool) -> Response:
    app = request.app
    settings = app.state.settings
    i18n.set_locale(request.state.locale)
    now = clock.now()
    db = app.state.sessionmaker()
    request.state.audit_unsealed = False
    try:
        response = _handle(view, access, request, form, csrf_protected, db, settings, now)
        db.commit()
        crash_point(f"committed:{view.__module__}.{view.__name__}")  # tests: a worker killed before answering
        request.state.audit_unsealed = audit.pending_seal(db)
        return response
    except BaseException:
        db.rollback()
        raise
    finally:
        db.close()


def _seal_after(response: Response, sealer: audit.Sealer) -> None:
    """Once the response has gone, ask the worker's sealer to link the audit events this request wrote.

    After the response, so the visitor never waits even when sealing is inline (interval 0).
    """
    task = BackgroundTask(sealer.request)
    if response.background is None:
        response.background = task
    else:
        tasks = BackgroundTasks()
        tasks.add_task(response.background)
        tasks.add_task(task)
        response.background = tasks


def _once_key(request: Request, form: FormData | None, csrf_protected: bool, principal: Principal | None,
              anonymous_seed: str | None) -> dict | None:
    """The scope and key this submission is done once under, or None (no key sent, or a repeatable form)."""
    endpoint_function = request.scope.get("endpoint")
    if form is None or not csrf_protected or getattr(endpoint_function, "__repeatable__", False):
        return None
    key = idempotency.parse_key(form.get(idempotency.FIELD) or request.headers.get(idempotency.HEADER))
    scope = idempotency.scope_of(principal, anonymous_seed)
    return {"scope": scope, "key": key} if key and scope else None


def _answer_again(ctx: Ctx, earlier: idempotency.Earlier) -> Response:
    """The first submission's answer: the same page with the same confirmation, nothing done again."""
    if not earlier.answers(ctx.request.method, ctx.request.url.path):
        return error_page(ctx.request, 409, Msg(N_(
            "This form was already sent. Go back, reload the page and fill it in again.")),
            principal=ctx.principal, csrf_token=ctx.csrf_token)
    log.info("repeated submission of %s answered as the first", ctx.request.url.path)
    if earlier.flash:
        ctx.set_cookie(FLASH_COOKIE, earlier.flash, max_age=120)
    return ctx.redirect(earlier.location)


def _settle(ctx: Ctx, once: dict, response: Response) -> None:
    location = None
    if 300 <= response.status_code < 400:
        location = response.headers.get("location")
    elif response.status_code == 200:
        location = response.headers.get("hx-redirect")
    flash = next((value for name, value, _options in reversed(ctx.cookies) if name == FLASH_COOKIE), None)
    idempotency.settle(ctx.db, **once, method=ctx.request.method, path=ctx.request.url.path,
                       status_code=response.status_code, location=location, flash=flash, now=ctx.now)


def _handle(view, access, request, form, csrf_protected, db, settings, now) -> Response:
    token = request.cookies.get(sessions.COOKIE)
    row = sessions.resume(session=db, token=token, now=now, idle=timedelta(minutes=settings.session_idle_minutes))
    principal = sessions.principal_for(session=db, row=row) if row else None
    if principal is None and row is not None:
        db.delete(row)
        row = None
    anonymous_seed = request.cookies.get(csrf.ANON_COOKIE)
    new_seed = None
    if row is None and not anonymous_seed:
        anonymous_seed = new_seed = csrf.new_anonymous_seed()
    session_key = row.id if row else None
    csrf_token = csrf.token_for(settings.secret_key, session_key=session_key, anonymous_seed=anonymous_seed)

    response = _guarded(view, access, request, form, csrf_protected, db, settings, now, principal, csrf_token,
                        session_key, None if new_seed else anonymous_seed)
    secure = settings.secure_cookies
    setting_session = any(h.startswith(f"{sessions.COOKIE}=") for h in response.headers.getlist("set-cookie"))
    if token and row is None and not setting_session:
        response.delete_cookie(sessions.COOKIE, path="/", secure=secure, httponly=True, samesite="lax")
    if new_seed:
        response.set_cookie(csrf.ANON_COOKIE, new_seed, path="/", secure=secure, httponly=True, samesite="lax")
    return response


def _to_proof_step(settings) -> Response:
    """Every person page that shows the record sends an account not yet proven to the proof step, here, once."""
    response = RedirectResponse(PROOF_STEP, status_code=303)
    message = N_("Before you can see your record, prove that this account is yours: with a code sent to the mobile "
                 "number on your record, or an activation code from a service counter.")
    response.set_cookie(FLASH_COOKIE, URLSafeSerializer(settings.secret_key, salt="flash").dumps([message, {}]),
                        max_age=120, path="/", secure=settings.secure_cookies, httponly=True, samesite="lax")
    return response


def _to_sign_in(request: Request, access: Access, form: FormData | None, settings) -> Response:
    """Not signed in (or the session ended): to the sign-in tab for this page, then back to it.

    A form sent after the session ended is kept in a signed, short-lived cookie for the same page, so after
    signing in the visitor finds it filled in as they left it (files are not kept: they are chosen again).
    """
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    kind = access.kind if access.kind in ("person", "employer", "staff") else "person"
    sign_in = request.url_for("login_form").path
    response = RedirectResponse(f"{sign_in}?next={quote(target, safe='')}&account_type={kind}", status_code=303)
    if form is None:
        return response
    kept = _kept_form(settings, request.url.path, form)
    secure = settings.secure_cookies
    message = N_("Your session ended, so you were signed out. Sign in again to continue: what you entered is kept.")
    if kept is not None:
        response.set_cookie(RESUME_COOKIE, kept, max_age=RESUME_MINUTES * 60, path="/", secure=secure,
                            httponly=True, samesite="lax")
    else:
        message = N_("Your session ended, so you were signed out. Sign in again to continue; what you entered was "
                     "too long to keep, so enter it again.")
    flash = URLSafeSerializer(settings.secret_key, salt="flash").dumps([message, {}])
    response.set_cookie(FLASH_COOKIE, flash, max_age=120, path="/", secure=secure, httponly=True, samesite="lax")
    return response


def _kept_form(settings, path: str, form: FormData | None, *, why: str = "") -> str | None:
    """The text typed in ``form``, signed for the page at ``path`` (None when too long for a cookie).

    ``why`` says what the visitor went away for: "" a sign-in after the session ended, ``FACE_RESUME`` the card's
    face check."""
    typed: dict[str, str | list[str]] = {}
    for name, value in (form.multi_items() if form is not None else ()):
        if not isinstance(value, str) or name in (csrf.FIELD, idempotency.FIELD, *SECRET_FIELDS):
            continue
        earlier = typed.get(name)
        typed[name] = value if earlier is None else [*earlier, value] if isinstance(earlier, list) else [earlier, value]
    kept = URLSafeSerializer(settings.secret_key, salt="resume").dumps([path, typed, why] if why else [path, typed])
    return kept if len(kept) <= RESUME_MAX_BYTES else None


def _resumed(request: Request, settings) -> tuple[dict, str]:
    """The form kept when the visitor went away (the session ended, or a face check), if it was for this page, and
    why they went."""
    kept = request.cookies.get(RESUME_COOKIE)
    if not kept:
        return {}, ""
    try:
        path, typed, *why = URLSafeSerializer(settings.secret_key, salt="resume").loads(kept)
    except (BadSignature, ValueError, TypeError):
        return {}, ""
    if path != request.url.path or not isinstance(typed, dict):
        return {}, ""
    return typed, str(why[0]) if why else ""


def _to_face_step(request: Request, principal: Principal, form: FormData | None, settings) -> Response:
    """Off to confirm with the card and the face check, then back where the person was: the page itself, or for a
    form the page it was sent from, where what they typed is filled in again (files are chosen again)."""
    kept = None
    if request.method in SAFE_METHODS:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        referer = urlsplit(request.headers.get("referer", ""))
        same_site = referer.netloc == request.url.netloc and referer.path.startswith("/")
        target = (referer.path + (f"?{referer.query}" if referer.query else "")) if same_site else principal.home
        if same_site and form is not None:
            kept = _kept_form(settings, referer.path, form, why=FACE_RESUME)
    url = FACE_STEP + quote(target, safe="")
    if request.headers.get("hx-request") == "true":
        response = Response(status_code=200, headers={"HX-Redirect": url})
    else:
        response = RedirectResponse(url, status_code=303)
    if kept is not None:
        response.set_cookie(RESUME_COOKIE, kept, max_age=RESUME_MINUTES * 60, path="/",
                            secure=settings.secure_cookies, httponly=True, samesite="lax")
    return response


def _guarded(view, access, request, form, csrf_protected, db, settings, now, principal, csrf_token,
             session_key, anonymous_seed) -> Response:
    allowed = access.allows(principal)
    # A visitor whose session ended is sent to sign in with the form kept (its token died with the session).
    if not allowed and principal is None:
        return _to_sign_in(request, access, form, settings)
    stepping_up = not allowed and (access.awaits_proof(principal) or access.awaits_face(principal))
    if not allowed and not stepping_up:
        return error_page(request, 403, principal=principal, csrf_token=csrf_token)
    if form is not None and csrf_protected:
        sent = form.get(csrf.FIELD) or request.headers.get(csrf.HEADER)
        if not csrf.valid(settings.secret_key, sent if isinstance(sent, str) else None,
                          session_key=session_key, anonymous_seed=anonymous_seed):
            # Checked before any step-up, so a forged form is refused rather than sent on to a face check.
            return error_page(request, 403, Msg(N_(
                "This form has expired or did not come from this site. Go back, reload the page and try again.")),
                principal=principal, csrf_token=csrf_token, template="errors/expired.html")
    if stepping_up:
        if access.awaits_proof(principal):
            return _to_proof_step(settings)
        return _to_face_step(request, principal, form, settings)

    flash_message = None
    flash_cookie = request.cookies.get(FLASH_COOKIE)
    if flash_cookie:
        try:
            message, params = URLSafeSerializer(settings.secret_key, salt="flash").loads(flash_cookie)
            flash_message = Msg(message, params).render(i18n.gettext)
        except (BadSignature, ValueError, TypeError, KeyError):
            flash_message = None
    resumed, why = _resumed(request, settings) if request.method == "GET" else ({}, "")
    if resumed and why == FACE_RESUME:
        flash_message = i18n.gettext("You confirmed with the card's face check. What you entered is filled in again "
                                     "(choose any file again): check it and send it.")
    elif resumed:
        flash_message = i18n.gettext("What you entered before your session ended is filled in again. Check it and "
                                     "send it.")
    ctx = Ctx(request=request, db=db, principal=principal, form=form, csrf_token=csrf_token, now=now,
              settings=settings, flash_message=flash_message, resumed=resumed)
    if resumed:
        ctx.set_cookie(RESUME_COOKIE, None)
    once = _once_key(request, form, csrf_protected, principal, anonymous_seed)
    earlier = idempotency.claim(db, **once, method=request.method, path=request.url.path, now=now) if once else None
    if earlier is not None:
        response = _answer_again(ctx, earlier)
    else:
        try:
            response = view(ctx)
        except PortalError as error:
            db.rollback()
            response = error_page(request, error.status_code, error.message, principal=principal,
                                  csrf_token=csrf_token)
            if isinstance(error, Throttled):
                response.headers["Retry-After"] = str(error.retry_after_seconds)
        if once:
            _settle(ctx, once, response)
    secure = settings.secure_cookies
    if flash_cookie and request.method in SAFE_METHODS and not any(c[0] == FLASH_COOKIE for c in ctx.cookies):
        response.delete_cookie(FLASH_COOKIE, path="/")
    for name, value, options in ctx.cookies:
        if value is None:
            response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="lax")
        else:
            options = {"path": "/", "secure": secure, "httponly": True, "samesite": "lax"} | options
            response.set_cookie(name, value, **options)
    return response
