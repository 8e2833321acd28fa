"""The portal as an OpenID Connect client of the electronic social security card provider.

Standard OpenID Connect only (authorization code flow with PKCE S256, state and nonce; the provider found through
its discovery document), so any conforming provider works, the development stand-in (portal/devtools) included.
No database and no request: the web layer keeps the per-login values (state, nonce, verifier) and gives them back.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import httpx2
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc6749.errors import OAuth2Error
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from portal.auth.sessions import FACE_LIFETIME
from portal.settings import Settings, essc_issuer_problem

log = logging.getLogger("portal.essc")

CALLBACK_PATH = "/auth/essc/callback"
# Where the provider sends the browser back after signing the person out (registered at the provider as the
# client's post_logout_redirect_uri).
SIGNED_OUT_PATH = "/auth/essc/signed-out"
# Client authentication at the token endpoint, in the order we prefer among what the provider offers.
AUTH_METHODS = ("client_secret_basic", "client_secret_post")
METADATA_SECONDS = 3600
TIMEOUT_SECONDS = 10
LEEWAY_SECONDS = 60


class Unavailable(Exception):
    """The provider could not be reached or described itself in a way the portal cannot use."""


class Rejected(Exception):
    """The answer did not prove a sign-in (wrong state, nonce, issuer, audience, signature, a used code...).

    ``reason`` goes to the log and the audit trail, never to the page."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class LoginRequest:
    url: str  # where the browser goes: the provider's authorization endpoint
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class CardClaims:
    issuer: str
    subject: str
    name: str
    id_number: str
    acr: str
    face: bool  # the provider checked the person's face
    id_token: str = ""  # as the provider signed it: the hint that signs the person out there too (end_session_url)


_cache: dict[str, tuple[float, dict]] = {}
_cache_lock = threading.Lock()


def enabled(settings: Settings) -> bool:
    return bool(settings.essc_issuer)


def redirect_uri(settings: Settings) -> str:
    return settings.base_url.rstrip("/") + CALLBACK_PATH


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def form_targets(settings: Settings) -> tuple[str, ...]:
    """Where a form of the portal may lead on to: the provider, for signing out there (and a step-up sent from a
    form). The content security policy allows this origin in form-action, as browsers apply it to redirects."""
    return (_origin(settings.essc_issuer),) if enabled(settings) else ()


def post_logout_redirect_uri(settings: Settings) -> str:
    return settings.base_url.rstrip("/") + SIGNED_OUT_PATH


def _get_json(url: str) -> dict:
    try:
        response = httpx2.get(url, timeout=TIMEOUT_SECONDS, headers={"Accept": "application/json"})
        response.raise_for_status()
        document = response.json()
    except (httpx2.HTTPError, ValueError) as error:
        raise Unavailable(f"{url}: {error}") from error
    if not isinstance(document, dict):
        raise Unavailable(f"{url}: not a JSON object")
    return document


def _cached(url: str, *, force: bool = False) -> dict:
    with _cache_lock:
        found = _cache.get(url)
    if found and not force and time.monotonic() - found[0] < METADATA_SECONDS:
        return found[1]
    document = _get_json(url)
    with _cache_lock:
        _cache[url] = (time.monotonic(), document)
    return document


def metadata(settings: Settings) -> dict:
    """The provider's discovery document, checked: same issuer, secure endpoints, the code flow with S256."""
    issuer = settings.essc_issuer.rstrip("/")
    problem = essc_issuer_problem(issuer, production=settings.production)
    if problem:
        raise Unavailable(problem)
    document = _cached(f"{issuer}/.well-known/openid-configuration")
    if document.get("issuer", "").rstrip("/") != issuer:
        raise Unavailable(f"the discovery document names the issuer {document.get('issuer')!r}, not {issuer!r}")
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        url = document.get(name)
        if not isinstance(url, str) or essc_issuer_problem(url, production=settings.production):
            raise Unavailable(f"the discovery document's {name} is missing or not secure")
    if "code" not in document.get("response_types_supported", ["code"]):
        raise Unavailable("the provider does not offer the authorization code flow")
    if "S256" not in document.get("code_challenge_methods_supported", ["S256"]):
        raise Unavailable("the provider does not offer PKCE with S256")
    return document


def end_session_url(settings: Settings, *, id_token: str, state: str) -> str | None:
    """Where to send the browser so the provider ends its own session too (OpenID Connect RP-Initiated Logout 1.0):
    its ``end_session_endpoint`` with the ID token as ``id_token_hint``, the address to come back to and ``state``.

    None when the discovery document names no end_session_endpoint: signing out of the portal is all there is."""
    document = metadata(settings)
    endpoint = document.get("end_session_endpoint")
    if not endpoint:
        return None
    if not isinstance(endpoint, str) or essc_issuer_problem(endpoint, production=settings.production):
        raise Unavailable("the discovery document's end_session_endpoint is not secure")
    if _origin(endpoint) not in form_targets(settings):
        # The sign-out form's redirect there would be stopped by the browser (form-action): sign out here only.
        raise Unavailable(f"the end_session_endpoint is not on the issuer's origin: {endpoint}")
    return add_params_to_uri(endpoint, [
        ("id_token_hint", id_token), ("post_logout_redirect_uri", post_logout_redirect_uri(settings)),
        ("state", state), ("client_id", settings.essc_client_id)])


def _auth_method(document: dict) -> str:
    # RFC 8414: when the provider does not say, client_secret_basic is the default.
    offered = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    for method in AUTH_METHODS:
        if method in offered:
            return method
    raise Unavailable(f"the provider offers no client authentication the portal uses: {offered}")


def _client(settings: Settings, document: dict) -> OAuth2Client:
    return OAuth2Client(
        client_id=settings.essc_client_id, client_secret=settings.essc_client_secret,
        token_endpoint_auth_method=_auth_method(document), scope=settings.essc_scopes,
        redirect_uri=redirect_uri(settings), code_challenge_method="S256", timeout=TIMEOUT_SECONDS)


def begin(settings: Settings, *, face: bool = False, again: LoginRequest | None = None) -> LoginRequest:
    """A new sign-in: fresh state, nonce and PKCE verifier, and the provider address to send the browser to.

    ``face`` asks the provider for a face check (acr_values); ``again`` rebuilds the address of a request made
    earlier (a QR code shown again)."""
    document = metadata(settings)
    if again is not None:
        state, nonce, verifier = again.state, again.nonce, again.code_verifier
    else:
        state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), generate_token(64)
    # A face check is asked for at that moment: the provider must check again, not answer from an earlier sign-in.
    extra = {"acr_values": settings.essc_face_acr, "prompt": "login"} if face else {}
    with _client(settings, document) as client:
        url, _state = client.create_authorization_url(document["authorization_endpoint"], state=state,
                                                      code_verifier=verifier, nonce=nonce, **extra)
    return LoginRequest(url=url, state=state, nonce=nonce, code_verifier=verifier)


def finish(settings: Settings, *, expected_state: str, nonce: str, code_verifier: str, query: dict,
           now: datetime) -> CardClaims:
    """The provider sent the browser back: check the state, trade the code, verify the ID token, read the claims."""
    if query.get("error"):
        raise Rejected(f"provider_error:{str(query.get('error'))[:40]}")
    returned = query.get("state") or ""
    if not expected_state or not secrets.compare_digest(returned.encode(), expected_state.encode()):
        raise Rejected("state")
    code = query.get("code")
    if not code:
        raise Rejected("no_code")
    document = metadata(settings)
    try:
        with _client(settings, document) as client:
            token = client.fetch_token(document["token_endpoint"], grant_type="authorization_code", code=code,
                                       code_verifier=code_verifier)
    except (OAuthError, OAuth2Error) as error:
        raise Rejected(f"token:{getattr(error, 'error', '') or error}") from error
    except httpx2.HTTPError as error:
        raise Unavailable(f"token endpoint: {error}") from error
    if "id_token" not in token:
        raise Rejected("no_id_token")
    claims = verify_id_token(settings, document, token["id_token"], nonce=nonce,
                             access_token=token.get("access_token"), now=now)
    if not claims.get(settings.essc_id_claim) or not claims.get("name"):
        claims = {**_userinfo(document, token, subject=claims["sub"]), **claims}
    return CardClaims(
        issuer=claims["iss"], subject=str(claims["sub"]), name=str(claims.get("name") or ""),
        id_number=str(claims.get(settings.essc_id_claim) or "").strip().upper(), acr=str(claims.get("acr") or ""),
        face=claims.get("acr") == settings.essc_face_acr and _recent(claims.get("auth_time"), now),
        id_token=token["id_token"])


def _recent(auth_time, now: datetime) -> bool:
    """A face check counts only while it is fresh: one the provider made long ago (its own earlier sign-in
    remembered) is a plain card sign-in here. A provider that does not say when trusted the prompt to check."""
    if auth_time is None:
        return True
    if not isinstance(auth_time, int | float) or isinstance(auth_time, bool):
        return False
    return now.timestamp() - auth_time <= FACE_LIFETIME.total_seconds()


def verify_id_token(settings: Settings, document: dict, id_token: str, *, nonce: str, access_token: str | None,
                    now: datetime) -> dict:
    """The ID token's signature (the provider's published keys), issuer, audience, times and nonce."""
    algorithms = [alg for alg in document.get("id_token_signing_alg_values_supported", ["RS256"]) if alg != "none"]
    try:
        try:
            decoded = jwt.decode(id_token, KeySet.import_key_set(_cached(document["jwks_uri"])),
                                 registry=JWSRegistry(algorithms=algorithms or ["RS256"]))
        except InvalidKeyIdError:
            # The provider rolled its key: fetch the published keys again, once.
            decoded = jwt.decode(id_token, KeySet.import_key_set(_cached(document["jwks_uri"], force=True)),
                                 registry=JWSRegistry(algorithms=algorithms or ["RS256"]))
        options = {"iss": {"essential": True, "value": document["issuer"]},
                   "aud": {"essential": True, "value": settings.essc_client_id}}
        params = {"nonce": nonce, "client_id": settings.essc_client_id}
        if access_token:
            params["access_token"] = access_token
        claims = CodeIDToken(decoded.claims, decoded.header, options, params)
        claims.validate(now=int(now.timestamp()), leeway=LEEWAY_SECONDS)
    except JoseError as error:
        raise Rejected(f"id_token:{type(error).__name__}:{error}") from error
    except ValueError as error:  # a token that is not a JWT at all
        raise Rejected(f"id_token:{error}") from error
    if not nonce:
        raise Rejected("id_token:no_nonce")
    return dict(claims)


def _userinfo(document: dict, token: dict, *, subject: str) -> dict:
    url = document.get("userinfo_endpoint")
    if not url:
        return {}
    try:
        response = httpx2.get(url, timeout=TIMEOUT_SECONDS,
                              headers={"Authorization": f"Bearer {token['access_token']}"})
        response.raise_for_status()
        info = response.json()
    except (httpx2.HTTPError, ValueError, KeyError) as error:
        raise Unavailable(f"userinfo: {error}") from error
    # OpenID Connect Core 5.3.2: the userinfo sub must be the ID token's, or the answer is not about this person.
    if not isinstance(info, dict) or str(info.get("sub")) != subject:
        raise Rejected("userinfo_subject")
    return {key: value for key, value in info.items() if key not in ("iss", "aud", "sub", "nonce", "acr")}

