"""One JSON line per request, and a request id a citizen can quote from an error page.

The line carries the request id, the route's name (never the address itself: paths and query strings
hold references, identity numbers and ids), the method, the status and the duration. The id comes back
in the ``X-Request-ID`` header; one sent in by a proxy is kept only when it matches a strict pattern,
so nobody can write their own text into the log or onto a page.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time
from datetime import UTC, datetime

HEADER = "X-Request-ID"
# Letters, digits, dot, dash and underscore, 8 to 64 long: what proxies generate (UUIDs, hex, ULIDs).
INCOMING = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{7,63}", re.ASCII)
log = logging.getLogger("portal.requests")


def _configure() -> None:
    # Its own handler and no propagation: each record is exactly one JSON line, whatever else logs how.
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def new_request_id() -> str:
    return secrets.token_hex(8)


def request_id_from(headers) -> str:
    for name, value in headers:
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if INCOMING.fullmatch(text) else new_request_id()
    return new_request_id()


def route_name(scope) -> str | None:
    route = scope.get("route")
    return getattr(route, "name", None)


class RequestLogMiddleware:
    def __init__(self, app):
        self.app = app
        _configure()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request_id = request_id_from(scope.get("headers", ()))
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = None

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode("ascii"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            status = status or 500
            raise
        finally:
            log.info(json.dumps({
                "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "request_id": request_id,
                "route": route_name(scope),
                "method": scope.get("method"),
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            }, separators=(",", ":")))
