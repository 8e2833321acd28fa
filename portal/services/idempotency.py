"""Every state-changing form answers a second submission as it answered the first, without doing the work again.

Each form carries a one-time key (the ``csrf`` macro in templates/components/forms.html adds it). The request
boundary (portal.web.endpoint) claims the key in the view's own transaction before the view runs, and settles
it after: a redirect (the answer of every successful form, Post/Redirect/Get) is kept with its confirmation
message for ``LIFETIME``; any other answer (a form shown again with its errors, a refusal) releases the key,
since nothing was done. A second submission with the key finds the first answer and is sent to the same place
with the same message. Keys belong to the signed-in account, or to the visitor's cookie before signing in.

Race: the claim is an insert under a unique constraint. On PostgreSQL a concurrent submission with the same
key waits on it until the first commits (then finds its answer) or rolls back (then does the work itself);
SQLite takes the write lock when a transaction begins (portal.db), so submissions there run one after another.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from portal.auth.principal import Principal
from portal.models import IdempotencyKey

FIELD = "idempotency_key"
HEADER = "idempotency-key"
LIFETIME = timedelta(hours=24)
_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


@dataclass(frozen=True)
class Earlier:
    """What the first submission with a key answered."""

    method: str
    path: str
    status_code: int | None
    location: str | None
    flash: str | None

    def answers(self, method: str, path: str) -> bool:
        """The same form sent again (a key sent to another address is not a repeat of it)."""
        return (self.method, self.path) == (method, path) and self.status_code is not None and bool(self.location)


def new_key() -> str:
    return secrets.token_urlsafe(18)


def parse_key(sent: object) -> str | None:
    """The key as a form or an htmx header sent it; anything else is no key."""
    return sent if isinstance(sent, str) and _KEY.fullmatch(sent) else None


def scope_of(principal: Principal | None, anonymous_seed: str | None) -> str | None:
    """Whose keys: the signed-in account, else the visitor's anonymous cookie (stored hashed, never as sent)."""
    if principal is not None:
        return f"{principal.kind}:{principal.account_id}"
    if anonymous_seed:
        return "anonymous:" + hashlib.sha256(anonymous_seed.encode()).hexdigest()[:40]
    return None


def _insert(session: Session, values: dict) -> bool:
    """True when the row was inserted, False when the key was already there (after waiting for its writer)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(IdempotencyKey.__table__).values(**values).on_conflict_do_nothing(
        index_elements=["scope", "key"]).returning(IdempotencyKey.__table__.c.id)
    # RETURNING rather than rowcount: psycopg reports -1 for an insert SQLAlchemy adds RETURNING to.
    return session.execute(statement).first() is not None


def _where(scope: str, key: str) -> tuple:
    return (IdempotencyKey.scope == scope, IdempotencyKey.key == key)


def claim(session: Session, *, scope: str, key: str, method: str, path: str, now: datetime) -> Earlier | None:
    """Hold ``key`` for this submission (None), or return what its first submission answered."""
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.expires_at < now))
    values = {"scope": scope, "key": key, "method": method, "path": path[:300], "created_at": now,
              "expires_at": now + LIFETIME}
    if _insert(session, values):
        return None
    row = session.exec(select(IdempotencyKey).where(*_where(scope, key))
                       .execution_options(populate_existing=True)).first()
    if row is None:  # released between our insert and our read: it is ours now
        _insert(session, values)
        return None
    return Earlier(row.method, row.path, row.status_code, row.location, row.flash)


def settle(session: Session, *, scope: str, key: str, method: str, path: str, status_code: int,
           location: str | None, flash: str | None, now: datetime) -> None:
    """Keep the answer of a submission that did its work (a redirect); release the key of any other."""
    if not location:
        session.execute(delete(IdempotencyKey).where(*_where(scope, key)))
        return
    answer = {"status_code": status_code, "location": location[:2000], "flash": (flash or None) and flash[:2000]}
    kept = session.execute(update(IdempotencyKey).where(*_where(scope, key)).values(**answer)).rowcount
    if not kept:  # the view rolled its transaction back (and the claim with it) before answering
        _insert(session, {"scope": scope, "key": key, "method": method, "path": path[:300], "created_at": now,
                          "expires_at": now + LIFETIME, **answer})


def purge_expired(session: Session, *, now: datetime) -> int:
    """Forget the answers older than ``LIFETIME`` (each claim also forgets its own account's)."""
    return session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at < now)).rowcount or 0
