"""A portal with the stand-in card provider served on a loopback port, and a browser that signs in by card."""

from __future__ import annotations

import re
import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass, replace
from html import unescape
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx2

HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@contextmanager
def served(settings, *, key_path, extra_routes=(), **provider_options):
    """The portal (stand-in mounted under /dev/essc) on a free loopback port; yields (base URL, app)."""
    import uvicorn

    from portal.app import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    host, port = sock.getsockname()
    base = f"http://{host}:{port}"
    live = replace(settings, base_url=base, essc_issuer=f"{base}/dev/essc", essc_client_id="portal-test",
                   essc_client_secret="test-client-secret", essc_stand_in_key=str(key_path))
    app = create_app(live)
    if provider_options:
        from portal.devtools import essc_provider

        for route in app.routes:
            if getattr(route, "name", "") == "essc_stand_in":
                route.app.app = essc_provider.create_provider(live, **provider_options)
    app.router.routes.extend(extra_routes)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    waiter = threading.Event()
    for _ in range(200):
        if server.started or not thread.is_alive():
            break
        waiter.wait(0.05)
    assert server.started, "the portal did not start"
    try:
        yield base, app
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        app.state.sealer.close()
        app.state.engine.dispose()


@dataclass
class Step:
    response: httpx2.Response

    @property
    def location(self) -> str:
        return self.response.headers.get("location", "")


class CardBrowser:
    """A browser with its own cookies that walks the redirects by hand, so each step can be looked at."""

    def __init__(self, base: str):
        self.base = base
        self.http = httpx2.Client(base_url=base, follow_redirects=False, timeout=20)

    def close(self):
        self.http.close()

    def get(self, url: str, **kwargs) -> httpx2.Response:
        return self.http.get(urljoin(self.base + "/", url), **kwargs)

    def post(self, url: str, data: dict, **kwargs) -> httpx2.Response:
        return self.http.post(urljoin(self.base + "/", url), data=data, **kwargs)

    def start(self, next_url: str = "") -> str:
        """Asks the portal for a card sign-in; returns the provider address it sends the browser to."""
        response = self.get("/auth/essc/login" + (f"?next={next_url}" if next_url else ""))
        assert response.status_code == 303, response.text[:500]
        return response.headers["location"]

    def confirm_at_provider(self, authorize_url: str, id_number: str, *, face: bool = False,
                            decision: str = "confirm") -> str:
        """On the provider's page: choose the cardholder, maybe the face check; returns the callback address."""
        page = self.get(authorize_url)
        assert page.status_code == 200, page.text[:500]
        fields = {name: unescape(value) for name, value in HIDDEN.findall(page.text)}
        fields.update(cardholder=id_number, decision=decision)
        if face:
            fields["face"] = "yes"
        answer = self.post("/dev/essc/authorize", fields)
        assert answer.status_code == 302, answer.text[:500]
        return answer.headers["location"]

    def sign_in(self, id_number: str, *, face: bool = False, next_url: str = "") -> httpx2.Response:
        callback = self.confirm_at_provider(self.start(next_url), id_number, face=face)
        return self.get(callback)

    def csrf(self, path: str = "/login") -> str:
        found = CSRF.search(self.get(path).text)
        assert found
        return found.group(1)


def query_of(url: str) -> dict:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
