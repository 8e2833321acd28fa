"""Request body limits per route, enforced while the body is read.

The limit is chosen when the endpoint first asks for the body (the router has matched the route by then):
the upload limit for the routes that take files, a small one for forms and the payment callback. A
declared ``Content-Length`` above the limit is refused before a byte is read; a body sent in chunks is
counted as it arrives and refused the moment it passes the limit, so nobody can make a worker read
100 MB to be told no. The refusal is a 413 page in the visitor's language.
"""

from __future__ import annotations

import math

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match

from portal import i18n
from portal.errors import N_, Msg
from portal.queue import attachments
from portal.services import declarations, upload_limits
from portal.web.endpoint import Ctx, error_page

KIB = 1024
# Room for the multipart framing, the CSRF token and the form's other fields around a file.
FORM_OVERHEAD = 256 * KIB
# The largest form is the declaration typed on the page: up to declarations.FORM_LIMIT wages.
FORM_LIMIT = 256 * KIB
CALLBACK_LIMIT = 16 * KIB  # the collector's JSON confirmation is a few hundred bytes
# Route name → the most body it may send. Every other route gets FORM_LIMIT.
ROUTE_LIMITS = {
    "employer_declaration_upload": declarations.MAX_BYTES + FORM_OVERHEAD,
    "person_request_resubmit": attachments.MAX_BYTES + FORM_OVERHEAD,
    "employer_request_resubmit": attachments.MAX_BYTES + FORM_OVERHEAD,
    "employer_deferral_submit": attachments.MAX_BYTES + FORM_OVERHEAD,  # the proof of hardship, when not committed
    "person_correction_submit": attachments.MAX_BYTES + FORM_OVERHEAD,  # the proof of employment, when not committed
    "person_flexible_exception_submit": attachments.MAX_BYTES + FORM_OVERHEAD,  # likewise the proof of no employer
    "person_survivor_death": attachments.MAX_BYTES + FORM_OVERHEAD,  # the death certificate, when not committed
    "person_survivor_claim": attachments.MAX_BYTES + FORM_OVERHEAD,  # the proof of kinship, when not committed
    "person_certification_family": attachments.MAX_BYTES + FORM_OVERHEAD,  # the proof the pensioner is alive
    "payments_callback": CALLBACK_LIMIT,
}


class BodyTooLarge(Exception):
    """Raised from ``receive`` to stop whoever is reading; the middleware turns it into the 413 page."""


def limit_for(route) -> int:
    return ROUTE_LIMITS.get(getattr(route, "name", None), FORM_LIMIT)


def _route_of(scope):
    """The route a request will reach, found ahead of the router (only for a declared length above FORM_LIMIT)."""
    router = getattr(scope.get("app"), "router", None)
    for route in getattr(router, "routes", ()):
        if route.matches(scope)[0] == Match.FULL:
            return route
    return None


def _declared_length(scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            # ASCII digits only; a longer number than 19 digits is larger than any limit anyway.
            if text.isascii() and text.isdigit():
                return int(text[:20])
            return None
    return None


class BodyLimitMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        received = 0
        limit: int | None = None
        started = False
        declared = _declared_length(scope)
        # Refused up front, even where the endpoint would never read the body (a wrong content type).
        if declared is not None and declared > FORM_LIMIT:
            limit = limit_for(_route_of(scope))
            if declared > limit:
                return await self._refuse(scope, receive, send, limit)

        async def counted_receive():
            nonlocal received, limit
            if limit is None:
                limit = limit_for(scope.get("route"))
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def watched_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send, limit)

    @staticmethod
    async def _refuse(scope, receive, send, limit: int) -> None:
        i18n.set_locale(scope.get("state", {}).get("locale", i18n.DEFAULT_LOCALE))
        page = error_page(Request(scope), 413, Msg(N_(
            "What you sent is larger than this page accepts (%(size)s). Send a smaller file or fewer "
            "details."), {"size": _size(limit)}))
        page.headers["Connection"] = "close"  # the rest of the body is not read; do not reuse the connection
        await page(scope, receive, send)


def _size(limit: int) -> str:
    if limit >= 1024 * KIB:
        return f"{limit // (1024 * KIB)} MB"
    return f"{limit // KIB} KB"


def upload_refusal(ctx: Ctx) -> Response | None:
    """429 with Retry-After when the account has sent too many files lately; None when it may send this one."""
    wait = upload_limits.retry_after(ctx.db, actor=ctx.actor, now=ctx.now)
    if wait is None:
        return None
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    page = error_page(ctx.request, 429, Msg(N_("You have sent many files in a short time. Wait %(minutes)s minutes "
                                               "and try again."), {"minutes": minutes}),
                      principal=ctx.principal, csrf_token=ctx.csrf_token)
    page.headers["Retry-After"] = str(math.ceil(wait.total_seconds()))
    return page
