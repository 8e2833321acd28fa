"""Application assembly: routes, middleware, error pages. No logic lives here."""

from __future__ import annotations

import gc
import logging
from contextlib import asynccontextmanager

from anyio import to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from portal import assembly, faults, i18n, notify
from portal.audit import Sealer
from portal.auth import essc as essc_protocol
from portal.db import make_engine, make_sessionmaker
from portal.errors import N_, Msg
from portal.settings import Settings, from_environment
from portal.web import dev
from portal.web.employer import applications as employer_applications
from portal.web.employer import bills as employer_bills
from portal.web.employer import credit as employer_credit
from portal.web.employer import declarations as employer_declarations
from portal.web.employer import employees as employer_employees
from portal.web.employer import requests as employer_requests
from portal.web.employer import routes as employer
from portal.web.endpoint import database_unavailable, error_page, unavailable_page
from portal.web.limits import BodyLimitMiddleware
from portal.web.middleware import LocaleMiddleware, SecurityHeadersMiddleware
from portal.web.person import applications as person_applications
from portal.web.person import benefits as person_benefits
from portal.web.person import credit as person_credit
from portal.web.person import flexible as person_flexible
from portal.web.person import prove as person_prove
from portal.web.person import records as person_records
from portal.web.person import requests as person_requests
from portal.web.person import routes as person
from portal.web.person import transfers as person_transfers
from portal.web.public import dishonesty as public_dishonesty
from portal.web.public import (
    essc,
    estimate,
    identity,
    interprovincial,
    pages,
    payments,
    policy,
    signin,
    verify,
)
from portal.web.request_log import RequestLogMiddleware
from portal.web.staff import benefits as staff_benefits
from portal.web.staff import counter as staff_counter
from portal.web.staff import monitoring as staff_monitoring
from portal.web.staff import queue as staff_queue
from portal.web.staff import routes as staff
from portal.web.staff import transfers as staff_transfers
from portal.web.staff import trust as staff_trust
from portal.web.templating import STATIC_DIR

log = logging.getLogger("portal")


def all_routes() -> list:
    return [
        *pages.routes,
        *signin.routes, *identity.routes, *essc.routes,
        *estimate.routes, *policy.routes,
        *person.routes, *person_prove.routes,
        *person_requests.routes,
        *person_flexible.routes,
        *person_applications.routes, *person_benefits.routes,
        *person_records.routes, *verify.routes, *person_transfers.routes,
        *employer.routes,
        *employer_requests.routes,
        *employer_employees.routes, *employer_declarations.routes,
        *employer_bills.routes, *employer_applications.routes, *payments.routes, *interprovincial.routes,
        *staff.routes,
        *staff_queue.routes, *staff_transfers.routes,
        *staff_counter.routes, *staff_benefits.routes,
        *staff_monitoring.routes,
        *employer_credit.routes, *person_credit.routes, *public_dishonesty.routes, *staff_trust.routes,
        Mount("/static", app=StaticFiles(directory=str(STATIC_DIR)), name="static"),
    ]


async def _http_error(request: Request, exc: HTTPException):
    i18n.set_locale(request.scope.get("state", {}).get("locale", i18n.DEFAULT_LOCALE))
    if exc.status_code == 404:
        return error_page(request, 404)
    if exc.status_code == 405:
        return error_page(request, 405, Msg(N_("This address does not accept that kind of request.")))
    return error_page(request, exc.status_code)


async def _server_error(request: Request, exc: Exception):
    i18n.set_locale(request.scope.get("state", {}).get("locale", i18n.DEFAULT_LOCALE))
    if database_unavailable(exc):
        return unavailable_page(request, exc)
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_page(request, 500)


def settle_worker() -> None:
    """What a worker built to start (routes, templates, catalogues, the ORM's mappings: some 200,000 objects) lives as
    long as the worker: moved out of the garbage collector's sight, so that its full collections, which a busy worker
    runs every few seconds, no longer walk them. Each one stalled every request in the worker for 100-150 ms, and made
    the p99 of a static page at 32 connections 127 ms instead of 40 (make bench, the pages section)."""
    gc.collect()
    gc.freeze()


@asynccontextmanager
async def _lifespan(app: Starlette):
    to_thread.current_default_thread_limiter().total_tokens = app.state.settings.request_threads
    settle_worker()
    try:
        yield
    finally:
        gc.unfreeze()  # an app started and stopped again (the tests) leaves nothing the collector cannot reach
    app.state.sealer.close()  # seal what this worker's last requests wrote before it goes


def _stand_ins(settings: Settings) -> list:
    """Outside parties' stand-ins, for development and tests; portal.devtools cannot even load in production."""
    from portal.devtools import essc_provider

    # Mounted as a plain ASGI app: its routes are the provider's, not the portal's (no @endpoint, no CSRF).
    return [Mount("/dev/essc", app=_Opaque(essc_provider.create_provider(settings)), name="essc_stand_in")]


class _Opaque:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or from_environment()
    assembly.assemble()
    engine = make_engine(settings.database_url)
    app = Starlette(
        debug=False,
        # The development sink's page is never routed in production.
        routes=all_routes() if settings.production else [*all_routes(), *dev.routes, *_stand_ins(settings)],
        exception_handlers={HTTPException: _http_error, 500: _server_error},
        lifespan=_lifespan,
    )
    faults.arm(settings.crash_at)  # inert outside tests: see portal.faults
    app.state.settings = settings
    app.state.notifier = notify.for_settings(settings)
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.sealer = Sealer(app.state.sessionmaker, interval_ms=settings.audit_seal_ms)
    app.add_middleware(BodyLimitMiddleware)  # inside the language middleware: its 413 page is translated
    app.add_middleware(LocaleMiddleware, secure_cookies=settings.secure_cookies)
    app.add_middleware(SecurityHeadersMiddleware, production=settings.production,
                       form_targets=essc_protocol.form_targets(settings))
    app.add_middleware(RequestLogMiddleware)  # outermost: times and names everything, errors included
    return app
