"""A stand-in for the electronic social security card platform: a small OpenID Connect provider.

For development, demos and tests only (portal.devtools refuses to load in production). Built on authlib's server
parts: discovery, a JWKS with one persistent RS256 key whose id is derived from the key, the authorization code
flow with PKCE (S256) required of every client, and a sign-in page where a demo cardholder is chosen and a face
check is simulated. It keeps its codes and tokens in memory, as one process serves it.

Like the real platform it remembers who signed in at it in this browser (its own session, named in the ID token's
``sid``), and ends that session at its ``end_session_endpoint`` (OpenID Connect RP-Initiated Logout 1.0): only with
an ID token it issued to the client as ``id_token_hint``, and sending the browser back only to an address the
client registered (``post_logout_redirect_uri``), with the client's ``state``.

The portal talks to it only through standard OpenID Connect (portal/auth/essc.py).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Request
from authlib.oauth2.rfc6749.errors import InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from portal import clock, i18n
from portal.settings import VAR_DIR, Settings
from portal.web.middleware import csp
from portal.web.templating import render

FACE_ACR = "urn:essc:acr:face"
CARD_ACR = "urn:essc:acr:card"
SCOPES = ("openid", "profile", "essc")
COOKIE = "essc_stand_in"  # its own cookie: two apps on one loopback host share cookies across ports
SESSION_COOKIE = "essc_stand_in_session"  # who signed in at the stand-in in this browser
CODE_SECONDS = 60
TOKEN_SECONDS = 600
AUTH_FIELDS = ("response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge",
               "code_challenge_method", "prompt", "max_age", "acr_values", "login_hint")


@dataclass(frozen=True)
class Cardholder:
    id_number: str
    name: str


# The demo persons of `portal seed --demo`, and one without a record anywhere (a first-time card user).
DEMO_CARDHOLDERS = (
    Cardholder("220102198503150111", "王建国"),
    Cardholder("220104197908200226", "李秀英"),
    Cardholder("22020319620410031X", "张德明"),
    Cardholder("220102199001010017", "赵新民"),
)


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uri: str
    post_logout_redirect_uris: tuple[str, ...] = ()

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uri

    def get_allowed_scope(self, scope):
        return " ".join(s for s in (scope or "").split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri == self.redirect_uri

    def check_client_secret(self, client_secret):
        return secrets.compare_digest(client_secret.encode(), self.client_secret.encode())

    def check_endpoint_auth_method(self, method, endpoint):
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


@dataclass
class Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str
    code_challenge: str
    code_challenge_method: str
    cardholder: Cardholder
    acr: str
    auth_time: int
    expires_at: float
    sid: str = ""  # the stand-in's session this sign-in belongs to

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time

    def get_acr(self):
        return self.acr

    def get_amr(self):
        return ["face"] if self.acr == FACE_ACR else None


@dataclass
class Store:
    codes: dict[str, Code] = field(default_factory=dict)
    tokens: dict[str, tuple[Cardholder, str, float]] = field(default_factory=dict)
    sessions: dict[str, Cardholder] = field(default_factory=dict)  # the stand-in's own sessions, by sid
    lock: threading.Lock = field(default_factory=threading.Lock)


class StarletteRequest(OAuth2Request):
    """authlib's request over a Starlette request whose body was read already (the grants read ``form``)."""

    def __init__(self, request: Request, form: dict):
        super().__init__(method=request.method, uri=str(request.url), headers=request.headers)
        self._args = dict(request.query_params)
        self._form = form
        self.payload = BasicOAuth2Payload({**self._args, **form})

    @property
    def args(self):
        return self._args

    @property
    def form(self):
        return self._form


class PkceForEveryClient(CodeChallenge):
    """authlib requires PKCE only of public clients; this provider requires S256 of every client."""

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE with code_challenge_method=S256 is required")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant, result):
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'")
        super().validate_code_verifier(grant, result)


def _subject(issuer: str, cardholder: Cardholder) -> str:
    """A pairwise-looking, stable subject that is not the identity number."""
    return hashlib.sha256(f"{issuer}|{cardholder.id_number}".encode()).hexdigest()[:32]


def load_key(path: Path) -> RSAKey:
    """The signing key, generated once and kept, so the portal's cached keys stay valid across restarts."""
    if path.exists():
        return RSAKey.import_key(json.loads(path.read_text()))
    key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, auto_kid=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(key.as_dict(private=True)))
    path.chmod(0o600)
    return key


class Provider:
    def __init__(self, *, issuer: str, client: Client, key: RSAKey, cardholders, id_token_claims: bool = True):
        self.issuer = issuer.rstrip("/")
        self.client = client
        self.key = key
        self.cardholders = {c.id_number: c for c in cardholders}
        self.id_token_claims = id_token_claims
        self.store = Store()
        self.server = self._server()

    def _server(self) -> AuthorizationServer:
        provider = self

        class Server(AuthorizationServer):
            def query_client(self, client_id):
                return provider.client if client_id == provider.client.client_id else None

            def save_token(self, token, request):
                with provider.store.lock:
                    provider.store.tokens[token["access_token"]] = (
                        request.user, token.get("scope", ""), clock.now().timestamp() + TOKEN_SECONDS)

            def send_signal(self, name, *args, **kwargs):
                pass

            def create_oauth2_request(self, request):
                return request

            def handle_response(self, status, body, headers):
                headers = dict(headers)
                if isinstance(body, dict):
                    return JSONResponse(body, status_code=status, headers=headers)
                return Response(body, status_code=status, headers=headers)

        class Grant(AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

            def save_authorization_code(self, code, request):
                data = request.payload.data
                user = request.user
                with provider.store.lock:
                    provider.store.codes[code] = Code(
                        code=code, client_id=request.client.client_id, redirect_uri=data.get("redirect_uri", ""),
                        scope=request.scope or data.get("scope", ""), nonce=data.get("nonce", ""),
                        code_challenge=data.get("code_challenge", ""),
                        code_challenge_method=data.get("code_challenge_method", ""),
                        cardholder=user["cardholder"], acr=FACE_ACR if user["face"] else CARD_ACR,
                        auth_time=int(clock.now().timestamp()), expires_at=clock.now().timestamp() + CODE_SECONDS,
                        sid=user["sid"])

            def query_authorization_code(self, code, client):
                with provider.store.lock:
                    found = provider.store.codes.get(code)
                if found and found.client_id == client.client_id and found.expires_at > clock.now().timestamp():
                    return found
                return None

            def delete_authorization_code(self, authorization_code):
                # Used once: a replayed code is unknown from here on.
                with provider.store.lock:
                    provider.store.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code):
                return authorization_code.cardholder

        class IdToken(OpenIDCode):
            def resolve_client_private_key(self, client):
                return KeySet([provider.key])

            def get_client_algorithm(self, client):
                return "RS256"

            def get_encode_header(self, client):
                return {"alg": "RS256", "kid": provider.key.kid}

            def get_authorization_code_claims(self, authorization_code):
                claims = super().get_authorization_code_claims(authorization_code)
                if authorization_code.sid:
                    claims["sid"] = authorization_code.sid
                return claims

            def get_client_claims(self, client):
                now = int(clock.now().timestamp())
                return {"iss": provider.issuer, "aud": [client.get_client_id()], "iat": now, "exp": now + 600}

            def exists_nonce(self, nonce, request):
                with provider.store.lock:
                    return any(c.nonce == nonce for c in provider.store.codes.values())

            def generate_user_info(self, user, scope):
                return provider.user_info(user, scope, in_id_token=True)

        server = Server(scopes_supported=list(SCOPES))
        server.register_token_generator("default", BearerTokenGenerator(
            lambda client, grant_type, user, scope: generate_token(42)))
        server.register_grant(Grant, [PkceForEveryClient(required=True), IdToken(require_nonce=True)])
        return server

    def user_info(self, cardholder: Cardholder, scope: str, *, in_id_token: bool = False) -> UserInfo:
        info = UserInfo(sub=_subject(self.issuer, cardholder))
        if in_id_token and not self.id_token_claims:
            return info
        scopes = (scope or "").split()
        if "profile" in scopes:
            info["name"] = cardholder.name
        if "essc" in scopes:
            info["id_number"] = cardholder.id_number
        return info

    # --- endpoints -----------------------------------------------------------------------------------------

    async def discovery(self, request: Request) -> Response:
        return JSONResponse({
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "end_session_endpoint": f"{self.issuer}/end-session",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": list(SCOPES),
            "claims_supported": ["sub", "name", "id_number", "acr", "amr", "auth_time"],
            "acr_values_supported": [CARD_ACR, FACE_ACR],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
        })

    async def jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    async def authorize(self, request: Request) -> Response:
        i18n.set_locale(request.scope.get("state", {}).get("locale", i18n.DEFAULT_LOCALE))
        form = dict(await request.form()) if request.method == "POST" else {}
        if request.method == "POST":
            # The confirmation repeats the authorization request in hidden fields; read it as it was sent.
            if not secrets.compare_digest(form.get("stand_in_token", "").encode(),
                                          request.cookies.get(COOKIE, "-").encode()):
                return self._page(request, {}, status=403, problem=True)
            oauth_request = StarletteRequest(request, {})
            oauth_request.payload = BasicOAuth2Payload({k: form[k] for k in AUTH_FIELDS if form.get(k)})
            oauth_request._args = dict(oauth_request.payload.data)
        else:
            oauth_request = StarletteRequest(request, {})
        try:
            grant = self.server.get_consent_grant(oauth_request)
        except OAuth2Error as error:
            if getattr(error, "redirect_uri", None):
                return self.server.handle_error_response(oauth_request, error)
            return self._page(request, {}, status=400, problem=True)
        if request.method == "GET":
            return self._page(request, {k: v for k, v in oauth_request.payload.data.items() if k in AUTH_FIELDS})
        cardholder = self.cardholders.get(form.get("cardholder", ""))
        if form.get("decision") != "confirm" or cardholder is None:
            return self.server.create_authorization_response(oauth_request, grant_user=None, grant=grant)
        sid = self._session_of(request, cardholder) or secrets.token_urlsafe(24)
        with self.store.lock:
            self.store.sessions[sid] = cardholder
        user = {"cardholder": cardholder, "face": form.get("face") == "yes", "sid": sid}
        response = self.server.create_authorization_response(oauth_request, grant_user=user, grant=grant)
        response.set_cookie(SESSION_COOKIE, sid, path=self._cookie_path, httponly=True, samesite="lax")
        return response

    @property
    def _cookie_path(self) -> str:
        return urlsplit(self.issuer).path or "/"

    def _session_of(self, request: Request, cardholder: Cardholder | None = None) -> str | None:
        """This browser's session at the stand-in (of ``cardholder``, when given), if it has one."""
        sid = request.cookies.get(SESSION_COOKIE, "")
        with self.store.lock:
            found = self.store.sessions.get(sid)
        if found is None or (cardholder is not None and found != cardholder):
            return None
        return sid

    def signed_in(self, request: Request) -> Cardholder | None:
        sid = self._session_of(request)
        with self.store.lock:
            return self.store.sessions.get(sid) if sid else None

    def _page(self, request: Request, params: dict, *, status: int = 200, problem: bool = False) -> Response:
        token = request.cookies.get(COOKIE) or secrets.token_urlsafe(24)
        html = render("devtools/essc_signin.html", {
            "locale": i18n.current_locale(), "params": params, "cardholders": list(self.cardholders.values()),
            "token": token, "problem": problem, "action": f"{self.issuer}/authorize",
            "lang_url": f"?{urlencode({**dict(request.query_params), 'lang': 'en'})}",
            "signed_in_as": None if problem else self.signed_in(request),
        })
        response = HTMLResponse(html, status_code=status, headers=self._policy())
        response.set_cookie(COOKIE, token, path=self._cookie_path, httponly=True, samesite="lax")
        return response

    def _policy(self) -> dict:
        """Its own content security policy, as a provider on its own origin has: its sign-in form leads on (by
        redirect) to the client's callback, which form-action must allow."""
        parts = urlsplit(self.client.redirect_uri)
        return {"Content-Security-Policy": csp((f"{parts.scheme}://{parts.netloc}",))}

    # --- RP-initiated logout ------------------------------------------------------------------------------------

    def _hint(self, id_token_hint: str) -> dict | None:
        """The claims of an ID token this provider issued to its client, or None. Its signature, issuer and
        audience are checked; an expired token is still a good hint (RP-Initiated Logout 1.0, section 2)."""
        try:
            decoded = jwt.decode(id_token_hint, KeySet([self.key]), algorithms=["RS256"])
        except (JoseError, ValueError):
            return None
        claims = decoded.claims
        audience = claims.get("aud")
        audience = [audience] if isinstance(audience, str) else audience or []
        if claims.get("iss") != self.issuer or self.client.client_id not in audience or not claims.get("sub"):
            return None
        return claims

    async def end_session(self, request: Request) -> Response:
        i18n.set_locale(request.scope.get("state", {}).get("locale", i18n.DEFAULT_LOCALE))
        params = dict(request.query_params)
        if request.method == "POST":
            params.update(dict(await request.form()))
        hint = self._hint(params.get("id_token_hint", ""))
        back = params.get("post_logout_redirect_uri", "")
        client_id = params.get("client_id")
        # Nothing is ended and nobody is sent anywhere on a request the client cannot have made.
        if (hint is None or (client_id and client_id != self.client.client_id)
                or (back and back not in self.client.post_logout_redirect_uris)):
            return self._signed_out_page(status=400, problem=True)
        with self.store.lock:
            # The session the ID token names, and this browser's if it is the same person's.
            ended = [sid for sid, holder in self.store.sessions.items()
                     if sid == hint.get("sid") or (sid == request.cookies.get(SESSION_COOKIE)
                                                   and _subject(self.issuer, holder) == hint["sub"])]
            for sid in ended:
                del self.store.sessions[sid]
        if back:
            state = params.get("state")
            response = RedirectResponse(add_params_to_uri(back, [("state", state)] if state else []),
                                        status_code=302)
        else:
            response = self._signed_out_page()
        response.delete_cookie(SESSION_COOKIE, path=self._cookie_path)
        return response

    def _signed_out_page(self, *, status: int = 200, problem: bool = False) -> Response:
        html = render("devtools/essc_signed_out.html", {"locale": i18n.current_locale(), "problem": problem})
        return HTMLResponse(html, status_code=status, headers=self._policy())

    async def token(self, request: Request) -> Response:
        form = dict(await request.form())
        response = self.server.create_token_response(StarletteRequest(request, form))
        response.headers["Cache-Control"] = "no-store"
        return response

    async def userinfo(self, request: Request) -> Response:
        header = request.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else ""
        with self.store.lock:
            found = self.store.tokens.get(token)
        if not found or found[2] <= clock.now().timestamp():
            return JSONResponse({"error": "invalid_token"}, status_code=401,
                                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        cardholder, scope, _expires = found
        return JSONResponse(dict(self.user_info(cardholder, scope)))


def create_provider(settings: Settings, *, issuer: str | None = None, cardholders=DEMO_CARDHOLDERS,
                    id_token_claims: bool = True) -> Starlette:
    """The stand-in as an ASGI app, registered with the portal's client id, secret and callback address."""
    if settings.production:
        raise RuntimeError("the stand-in e-SSC provider is never enabled in production")
    issuer = issuer or f"{settings.base_url.rstrip('/')}/dev/essc"
    key_path = Path(settings.essc_stand_in_key) if settings.essc_stand_in_key else VAR_DIR / "essc_stand_in_key.json"
    client = Client(client_id=settings.essc_client_id or "jilin-pension-portal",
                    client_secret=settings.essc_client_secret or "-",
                    redirect_uri=f"{settings.base_url.rstrip('/')}/auth/essc/callback",
                    post_logout_redirect_uris=(f"{settings.base_url.rstrip('/')}/auth/essc/signed-out",))
    provider = Provider(issuer=issuer, client=client, key=load_key(key_path), cardholders=cardholders,
                        id_token_claims=id_token_claims)
    app = Starlette(routes=[
        Route("/.well-known/openid-configuration", provider.discovery, methods=["GET"]),
        Route("/jwks", provider.jwks, methods=["GET"]),
        Route("/authorize", provider.authorize, methods=["GET", "POST"]),
        Route("/token", provider.token, methods=["POST"]),
        Route("/userinfo", provider.userinfo, methods=["GET", "POST"]),
        Route("/end-session", provider.end_session, methods=["GET", "POST"]),
    ])
    app.state.provider = provider
    return app
