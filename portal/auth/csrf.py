"""CSRF tokens bound to the session (signed in) or to a random cookie (anonymous visitors)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

ANON_COOKIE = "portal_csrf"
FIELD = "csrf_token"
HEADER = "x-csrf-token"


def new_anonymous_seed() -> str:
    return secrets.token_urlsafe(24)


def token_for(secret_key: str, *, session_key: str | None, anonymous_seed: str | None) -> str:
    basis = f"s:{session_key}" if session_key else f"a:{anonymous_seed or ''}"
    return hmac.new(secret_key.encode(), basis.encode(), hashlib.sha256).hexdigest()


def valid(secret_key: str, sent: str | None, *, session_key: str | None, anonymous_seed: str | None) -> bool:
    if not sent or (not session_key and not anonymous_seed):
        return False
    expected = token_for(secret_key, session_key=session_key, anonymous_seed=anonymous_seed)
    return hmac.compare_digest(expected, sent)
