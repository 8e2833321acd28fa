"""A portal with the stand-in card provider served on a loopback port, and a browser that signs in by card."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from html import unescape
from urllib.parse import parse_qs, unquote_plus, urlencode, urljoin, urlsplit

import httpx2

HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _loopback_socket() -> tuple[socket.socket, str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    host, port = sock.getsockname()
    return sock, f"http://{host}:{port}"


@contextmanager
def _serving(app, sock):
    import uvicorn

    host, port = sock.getsockname()
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    waiter = threading.Event()
    for _ in range(200):
        if server.started or not thread.is_alive():
            break
        waiter.wait(0.05)
    assert server.started, "the server did not start"
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def served(settings, *, key_path, extra_routes=(), essc=None, provider_host=None, **provider_options):
    """The portal (stand-in mounted under /dev/essc) on a free loopback port; yields (base URL, app).

    ``essc`` replaces the card settings (issuer, client, scopes, claim names) to sign in at another provider;
    ``provider_host`` ("localhost") puts the stand-in on another origin than the portal (127.0.0.1), as a real
    provider is."""
    from portal.app import create_app

    sock, base = _loopback_socket()
    issuer = f"{base.replace('127.0.0.1', provider_host) if provider_host else base}/dev/essc"
    card = {"essc_issuer": issuer, "essc_client_id": "portal-test",
            "essc_client_secret": "test-client-secret", **(essc or {})}
    live = replace(settings, base_url=base, essc_stand_in_key=str(key_path), **card)
    app = create_app(live)
    if provider_host:
        provider_options["issuer"] = issuer
    if provider_options:
        from portal.devtools import essc_provider

        for route in app.routes:
            if getattr(route, "name", "") == "essc_stand_in":
                route.app.app = essc_provider.create_provider(live, **provider_options)
    app.router.routes.extend(extra_routes)
    try:
        with _serving(app, sock):
            yield base, app
    finally:
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


# --- a second provider, written apart from the stand-in ------------------------------------------------------------

class MinimalProvider:
    """Another OpenID Connect provider, written from the specification with Starlette and joserfc alone: no authlib
    and nothing of portal.devtools, so a portal that signs in here depends on no internals of the stand-in.

    It approves every authorization request at once for ``holder`` (as a provider does that remembers an earlier
    sign-in), and is told how to differ: which client authentication it offers, the claim carrying the identity
    number, the acr it sends, whether claims travel in the ID token or only at its userinfo endpoint, and changes
    made to the ID token (to prove the portal refuses them). What it was sent is kept in ``seen``."""

    def __init__(self, *, auth_methods=("client_secret_post",), id_claim="idcard", id_scope="idcard",
                 acr="urn:example:loa:card", claims_in_id_token=False, userinfo=True, discovery_extra=None):
        from joserfc.jwk import RSAKey

        self.key = RSAKey.generate_key(2048, parameters={"use": "sig"}, auto_kid=True)
        self.client_id, self.client_secret = "portal-elsewhere", "elsewhere-secret-0123456789"
        self.auth_methods, self.id_claim, self.id_scope = list(auth_methods), id_claim, id_scope
        self.acr, self.auth_time_ago = acr, 0
        self.claims_in_id_token, self.userinfo = claims_in_id_token, userinfo
        self.discovery_extra = discovery_extra or {}
        self.holder = {"sub": "elsewhere-0001", "name": "王建国", "id_number": "220102198503150111"}
        self.id_token_changes: dict = {}
        self.userinfo_changes: dict = {}
        self.redirect_uri = ""
        self.issuer = ""
        self.codes: dict[str, dict] = {}
        self.tokens: dict[str, dict] = {}
        self.seen: dict[str, list] = {"authorize": [], "token_auth": []}

    def settings(self) -> dict:
        """The portal's card settings for this provider (its own scope and claim names)."""
        return {"essc_issuer": self.issuer, "essc_client_id": self.client_id, "essc_client_secret": self.client_secret,
                "essc_scopes": f"openid profile {self.id_scope}", "essc_id_claim": self.id_claim,
                "essc_face_acr": "urn:example:loa:face"}

    def app(self):
        from starlette.applications import Starlette
        from starlette.routing import Route

        return Starlette(routes=[
            Route("/.well-known/openid-configuration", self._discovery),
            Route("/oauth/authorize", self._authorize),
            Route("/oauth/token", self._token, methods=["POST"]),
            Route("/oauth/userinfo", self._userinfo),
            Route("/oauth/keys", self._keys),
        ])

    async def _discovery(self, request):
        from starlette.responses import JSONResponse

        document = {"issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/oauth/authorize",
                    "token_endpoint": f"{self.issuer}/oauth/token", "jwks_uri": f"{self.issuer}/oauth/keys",
                    "response_types_supported": ["code"], "subject_types_supported": ["pairwise"],
                    "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"]}
        if self.userinfo:
            document["userinfo_endpoint"] = f"{self.issuer}/oauth/userinfo"
        if self.auth_methods:
            document["token_endpoint_auth_methods_supported"] = self.auth_methods
        document.update(self.discovery_extra)
        return JSONResponse(document)

    async def _keys(self, request):
        from starlette.responses import JSONResponse

        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    async def _authorize(self, request):
        from starlette.responses import JSONResponse, RedirectResponse

        asked = dict(request.query_params)
        self.seen["authorize"].append(asked)
        if (asked.get("response_type") != "code" or asked.get("client_id") != self.client_id
                or asked.get("redirect_uri") != self.redirect_uri or asked.get("code_challenge_method") != "S256"
                or not asked.get("code_challenge")):
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        code = secrets.token_urlsafe(24)
        self.codes[code] = asked
        return RedirectResponse(f"{self.redirect_uri}?{urlencode({'code': code, 'state': asked.get('state', '')})}",
                                status_code=302)

    def _client_method(self, request, form) -> str | None:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            if (unquote_plus(user), unquote_plus(password)) == (self.client_id, self.client_secret):
                return "client_secret_basic"
            return None
        if form.get("client_id") == self.client_id and form.get("client_secret") == self.client_secret:
            return "client_secret_post"
        return None

    async def _token(self, request):
        from starlette.responses import JSONResponse

        form = dict(await request.form())
        method = self._client_method(request, form)
        self.seen["token_auth"].append(method)
        if method is None or method not in (self.auth_methods or ["client_secret_basic"]):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        asked = self.codes.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if (form.get("grant_type") != "authorization_code" or asked is None
                or form.get("redirect_uri") != asked["redirect_uri"] or challenge != asked["code_challenge"]):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        now = int(time.time())
        scopes = asked.get("scope", "").split()
        released = {"name": self.holder["name"]} if "profile" in scopes else {}
        if self.id_scope in scopes:
            released[self.id_claim] = self.holder["id_number"]
        claims = {"iss": self.issuer, "sub": self.holder["sub"], "aud": self.client_id, "iat": now, "exp": now + 300,
                  "nonce": asked.get("nonce"), "acr": self.acr, "auth_time": now - self.auth_time_ago,
                  **(released if self.claims_in_id_token else {}), **self.id_token_changes}
        access_token = secrets.token_urlsafe(24)
        self.tokens[access_token] = {"sub": self.holder["sub"], **released}
        from joserfc import jwt

        id_token = jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, self.key)
        return JSONResponse({"access_token": access_token, "token_type": "Bearer", "expires_in": 300,
                             "id_token": id_token}, headers={"Cache-Control": "no-store"})

    async def _userinfo(self, request):
        from starlette.responses import JSONResponse

        token = request.headers.get("authorization", "")[len("Bearer "):]
        if token not in self.tokens:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        return JSONResponse({**self.tokens[token], **self.userinfo_changes})


@contextmanager
def elsewhere(provider: MinimalProvider):
    """The second provider on its own loopback port."""
    sock, base = _loopback_socket()
    provider.issuer = f"{base}/oidc"
    from starlette.applications import Starlette
    from starlette.routing import Mount

    with _serving(Starlette(routes=[Mount("/oidc", app=provider.app())]), sock):
        yield provider
