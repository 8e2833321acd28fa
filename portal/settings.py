"""The only reader of the environment.

Everything configurable comes from ``PORTAL_*`` variables; code elsewhere receives a
``Settings`` object and never looks at ``os.environ`` itself.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass, field
from ipaddress import ip_address
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = ROOT / "var"
ENVIRONMENTS = ("development", "test", "production")


REQUEST_THREADS = 8


class SettingsError(RuntimeError):
    """The environment does not describe a runnable portal."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    env: str = "development"
    payment_secret: str = ""
    session_idle_minutes: int = 30
    lockout_attempts: int = 5
    lockout_minutes: int = 15
    # Many failures from one address in a short time are an attack on many accounts at once.
    address_attempts: int = 30
    address_window_minutes: int = 15
    base_url: str = "http://127.0.0.1:8000"
    # The audit log's sealer links a worker's new events at most this often (0: after every request).
    audit_seal_ms: int = 500
    # Requests a worker process runs at once (its thread pool; the rest wait their turn in the event loop). Python
    # runs one thread at a time: anyio's default of 40 threads made requests queue inside the interpreter instead,
    # and /healthz's p99 at 32 connections on 2 workers grew with it (make bench, the pages section).
    request_threads: int = REQUEST_THREADS
    # Proving an account is its person (portal/services/identity.py): a code sent by SMS lives this long and
    # takes this many wrong tries; a claim (a registration or reset waiting for its code) lives a little longer.
    code_minutes: int = 10
    code_attempts: int = 5
    claim_minutes: int = 30
    # At most this many codes to one mobile number, and this many registrations, resets and code requests from
    # one address, in the window; an activation letter from a counter is valid for letter_days.
    codes_per_number: int = 3
    address_claims: int = 10
    address_code_requests: int = 10
    code_window_minutes: int = 60
    letter_days: int = 30
    # The SMS gateway that takes messages to people (production); without it messages go to the development sink.
    sms_url: str = ""
    sms_key: str = ""
    # The electronic social security card's OpenID Connect provider (portal/auth/essc.py); no issuer: card
    # sign-in is off. Development defaults to the stand-in provider served under /dev/essc.
    essc_issuer: str = ""
    essc_client_id: str = ""
    essc_client_secret: str = ""
    essc_scopes: str = "openid profile essc"
    essc_id_claim: str = "id_number"
    essc_face_acr: str = "urn:essc:acr:face"
    # The stand-in provider's signing key (development and tests only); empty: var/essc_stand_in_key.json.
    essc_stand_in_key: str = ""
    # Tests only: the crash point (portal.faults) at which this process kills itself; never set outside tests.
    crash_at: str = ""
    # The secret shared with each other province for signed transfer messages (portal/services/province_messages.py),
    # by 6-digit province code: PORTAL_PROVINCE_SECRETS="110000=...,310000=...".
    province_secrets: dict = field(default_factory=dict)
    # Where each other province takes Jilin's signed messages (`portal transfers deliver`), by province code:
    # PORTAL_PROVINCE_URLS="110000=https://...,310000=https://..."; a province without one keeps its messages queued.
    province_urls: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    def province_secret(self, province: str) -> str:
        """The secret shared with ``province``; empty (every message refused) when production has none for it.
        Outside production a province without one gets a secret derived from the secret key, so development
        and tests can play any province (``portal dev province send``)."""
        given = self.province_secrets.get(province, "")
        if given or self.production:
            return given
        return hmac.new(self.secret_key.encode("utf-8"), f"province:{province}".encode("ascii"),
                        hashlib.sha256).hexdigest()

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def secure_cookies(self) -> bool:
        return self.env != "development" and self.env != "test"


def _development_secret(path: Path) -> str:
    """Generate the development secret once and keep it, so sessions survive a restart."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def loopback_url(url: str) -> bool:
    """An address on this machine: the only place a plain-http identity provider is accepted."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def essc_issuer_problem(issuer: str, *, production: bool) -> str | None:
    """Why an e-SSC issuer cannot be used: tokens and codes must travel over TLS except on loopback."""
    parts = urlsplit(issuer)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and loopback_url(issuer) and not production:
        return None
    return "PORTAL_ESSC_ISSUER must be an https:// address (http:// only on a loopback address, never in production)"


def production_environment(environ: dict[str, str] | None = None) -> bool:
    """Whether this process runs in production, for modules that must refuse to load there (portal.devtools)."""
    return dict(os.environ if environ is None else environ).get("PORTAL_ENV", "development") == "production"


_PROVINCE_SECRET = re.compile(r"([1-9][0-9]0000)=(\S{16,})")


def province_secrets(text: str) -> dict[str, str]:
    """``110000=secret,310000=secret`` as a mapping; a malformed entry or a secret under 16 characters is refused."""
    secrets_by_province: dict[str, str] = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        found = _PROVINCE_SECRET.fullmatch(entry)
        if found is None:
            raise SettingsError("PORTAL_PROVINCE_SECRETS must be a comma-separated list of CODE=SECRET, the code a "
                                "6-digit province code ending 0000 and the secret at least 16 characters")
        secrets_by_province[found.group(1)] = found.group(2)
    return secrets_by_province


def province_urls(text: str, *, production: bool) -> dict[str, str]:
    """``110000=https://…,310000=https://…`` as a mapping; plain http only on a loopback address outside production."""
    urls: dict[str, str] = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        code, _, url = entry.partition("=")
        parts = urlsplit(url)
        secure = parts.scheme == "https" or (parts.scheme == "http" and loopback_url(url) and not production)
        if not re.fullmatch(r"[1-9][0-9]0000", code) or not parts.hostname or not secure:
            raise SettingsError("PORTAL_PROVINCE_URLS must be a comma-separated list of CODE=URL, the code a 6-digit "
                                "province code ending 0000 and the URL https:// (http:// only on loopback, never in "
                                "production)")
        urls[code] = url
    return urls


def from_environment(environ: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)
    name = env.get("PORTAL_ENV", "development")
    if name not in ENVIRONMENTS:
        raise SettingsError(f"PORTAL_ENV must be one of {', '.join(ENVIRONMENTS)}, not {name!r}")
    secret = env.get("PORTAL_SECRET_KEY", "")
    if not secret:
        if name == "production":
            raise SettingsError("PORTAL_SECRET_KEY is required when PORTAL_ENV=production")
        secret = _development_secret(VAR_DIR / "secret_key")
    payment_secret = env.get("PORTAL_PAYMENT_SECRET", "")
    if not payment_secret:
        if name == "production":
            raise SettingsError("PORTAL_PAYMENT_SECRET is required when PORTAL_ENV=production")
        payment_secret = _development_secret(VAR_DIR / "payment_secret")
    sms_url, sms_key = env.get("PORTAL_SMS_URL", ""), env.get("PORTAL_SMS_KEY", "")
    if name == "production" and not (sms_url and sms_key):
        raise SettingsError("PORTAL_SMS_URL and PORTAL_SMS_KEY are required when PORTAL_ENV=production "
                            "(one-time codes and notices go to people by SMS)")
    url = env.get("PORTAL_DATABASE_URL") or f"sqlite:///{VAR_DIR / 'portal.db'}"
    host = env.get("PORTAL_HOST", "127.0.0.1")
    port = env.get("PORTAL_PORT", "8000")
    seal_ms = env.get("PORTAL_AUDIT_SEAL_MS", "500")
    if not seal_ms.isdigit():
        raise SettingsError("PORTAL_AUDIT_SEAL_MS must be a whole number of milliseconds (0 seals after each request)")
    threads = env.get("PORTAL_REQUEST_THREADS", str(REQUEST_THREADS))
    if not (threads.isdigit() and 1 <= int(threads) <= 200):
        raise SettingsError("PORTAL_REQUEST_THREADS must be a whole number from 1 to 200")
    base_url = env.get("PORTAL_BASE_URL", f"http://{host}:{port}")
    essc_issuer = env.get("PORTAL_ESSC_ISSUER", "").rstrip("/")
    essc_client_id = env.get("PORTAL_ESSC_CLIENT_ID", "")
    essc_client_secret = env.get("PORTAL_ESSC_CLIENT_SECRET", "")
    if not essc_issuer and name != "production" and loopback_url(base_url):
        # The stand-in provider mounted by create_app, registered with this client (plain http: loopback only).
        essc_issuer = f"{base_url}/dev/essc"
        essc_client_id = essc_client_id or "jilin-pension-portal"
        essc_client_secret = essc_client_secret or _development_secret(VAR_DIR / "essc_client_secret")
    if essc_issuer:
        problem = essc_issuer_problem(essc_issuer, production=name == "production")
        if problem:
            raise SettingsError(problem)
        if not (essc_client_id and essc_client_secret):
            raise SettingsError("PORTAL_ESSC_CLIENT_ID and PORTAL_ESSC_CLIENT_SECRET are required with "
                                "PORTAL_ESSC_ISSUER")
    return Settings(
        essc_issuer=essc_issuer,
        essc_client_id=essc_client_id,
        essc_client_secret=essc_client_secret,
        essc_scopes=env.get("PORTAL_ESSC_SCOPES", "openid profile essc"),
        essc_id_claim=env.get("PORTAL_ESSC_ID_CLAIM", "id_number"),
        essc_face_acr=env.get("PORTAL_ESSC_FACE_ACR", "urn:essc:acr:face"),
        audit_seal_ms=int(seal_ms),
        request_threads=int(threads),
        database_url=url,
        secret_key=secret,
        env=name,
        payment_secret=payment_secret,
        base_url=base_url,
        sms_url=sms_url,
        sms_key=sms_key,
        crash_at=env.get("PORTAL_CRASH_AT", "") if name == "test" else "",
        province_secrets=province_secrets(env.get("PORTAL_PROVINCE_SECRETS", "")),
        province_urls=province_urls(env.get("PORTAL_PROVINCE_URLS", ""), production=name == "production"),
    )
