"""Pure ASGI middleware: the visitor's language and the security headers on every response."""

from __future__ import annotations

from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from starlette.datastructures import MutableHeaders
from starlette.requests import Request

from portal import i18n
from portal.web.endpoint import error_page

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def csp(form_targets: tuple[str, ...] = ()) -> str:
    """The policy, with the origins a form may lead to besides the portal's own: browsers apply form-action to
    the redirects after a form is sent too, so signing out (a form) on to the card provider needs its origin."""
    if not form_targets:
        return CSP
    return CSP.replace("form-action 'self'", " ".join(("form-action 'self'", *form_targets)))
ONE_YEAR = 365 * 24 * 3600


class LocaleMiddleware:
    """Chooses the language for the request; ``?lang=`` also remembers the choice in a cookie."""

    def __init__(self, app, *, secure_cookies: bool):
        self.app = app
        self.secure = secure_cookies

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        query = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("lang", [None])[0]
        cookie = SimpleCookie(headers.get("cookie", ""))
        remembered = cookie[i18n.LANG_COOKIE].value if i18n.LANG_COOKIE in cookie else None
        locale = i18n.negotiate(query=query, cookie=remembered, accept_language=headers.get("accept-language"))
        scope.setdefault("state", {})["locale"] = locale
        i18n.set_locale(locale)
        chosen = i18n.normalise(query)

        async def send_with_cookie(message):
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                out.append("Content-Language", locale.replace("_", "-"))
                out.append("Vary", "Accept-Language, Cookie")
                if chosen:
                    flags = "; Secure" if self.secure else ""
                    out.append("Set-Cookie", f"{i18n.LANG_COOKIE}={chosen}; Path=/; Max-Age={ONE_YEAR}; HttpOnly; SameSite=Lax{flags}")
            await send(message)

        await self.app(scope, receive, send_with_cookie)


class SecurityHeadersMiddleware:
    def __init__(self, app, *, production: bool, form_targets: tuple[str, ...] = ()):
        self.app = app
        self.production = production
        self.csp = csp(form_targets)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        started = False

        async def send_with_headers(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", self.csp)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
                headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                if self.production:
                    headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
                if not scope["path"].startswith("/static/"):
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # Starlette's outermost error handler sits outside this middleware, so its 500 page would
            # leave without these headers: send the page from here, then let the error go on to be logged.
            if not started:
                i18n.set_locale(scope.get("state", {}).get("locale", i18n.DEFAULT_LOCALE))
                await error_page(Request(scope), 500)(scope, receive, send_with_headers)
            raise
