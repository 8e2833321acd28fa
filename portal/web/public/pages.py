"""Public pages: home, health and readiness, accessibility statement, privacy notice, display preferences."""

from __future__ import annotations

from urllib.parse import urlparse

from starlette.responses import JSONResponse
from starlette.routing import Route

from portal.web.access import PUBLIC
from portal.web.endpoint import DISPLAY_COOKIE, Ctx, database_answers, endpoint, probe

ONE_YEAR = 365 * 24 * 3600


def safe_next(target: str | None, default: str = "/") -> str:
    """Only ever return to a path on this site, never to another host."""
    if not target:
        return default
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


@endpoint(PUBLIC)
def home(ctx: Ctx):
    return ctx.render("public/home.html")


@probe
async def healthz(engine):
    """Liveness: the process serves. It does not ask the database: a restart would not bring the database back, and
    while the database hangs a liveness check waiting on it would time out and get every worker restarted at once.
    The load balancer asks /readyz for the database."""
    return JSONResponse({"status": "ok"})


@probe
def readyz(engine):
    """Readiness: send requests here only while the database answers."""
    if database_answers(engine):
        return JSONResponse({"status": "ready", "db": "ok"})
    return JSONResponse({"status": "unavailable", "db": "unavailable"}, status_code=503,
                        headers={"Retry-After": "30"})


@endpoint(PUBLIC)
def accessibility(ctx: Ctx):
    return ctx.render("public/accessibility.html")


@endpoint(PUBLIC)
def privacy(ctx: Ctx):
    return ctx.render("public/privacy.html")


@endpoint(PUBLIC, repeatable=True)
def display(ctx: Ctx):
    """Switch the large-text, high-contrast mode (适老化) on or off; remembered for a year."""
    mode = ctx.value("mode")
    ctx.set_cookie(DISPLAY_COOKIE, "large" if mode == "large" else "standard", max_age=ONE_YEAR)
    return ctx.redirect(safe_next(ctx.value("next"), "/"))


routes = [
    Route("/", home, name="home"),
    Route("/healthz", healthz, name="healthz"),
    Route("/readyz", readyz, name="readyz"),
    Route("/accessibility", accessibility, name="accessibility"),
    Route("/privacy", privacy, name="privacy"),
    Route("/display", display, methods=["POST"], name="display"),
]
