"""Server-side sessions: a random token in an HttpOnly cookie, its hash in the database."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam
from sqlmodel import Session, delete, select

from portal.auth.principal import Principal
from portal.models import Employer, EmployerOperator, Person, PersonAccount, StaffMember, WebSession

COOKIE = "portal_session"
# Writing last_seen on every request would make every page a write; a minute's precision is enough.
TOUCH_AFTER = timedelta(seconds=60)


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


ASSURANCES = ("password", "card", "face")
# A face check at the card provider signs commitments and claims for this long after it was made; then the session
# counts as a plain card sign-in and the next signature asks for the face again (a step-up made at that moment).
FACE_LIFETIME = timedelta(minutes=15)


def start(*, session: Session, kind: str, account_id: int, address: str, now: datetime,
          assurance: str = "password", id_token: str = "") -> str:
    """Creates a new session and returns the cookie token (a fresh one at every sign-in).

    ``assurance`` says how the person signed in: a password, the electronic social security card, or the card
    with the provider's face check (needed to sign a commitment or a claim). ``id_token``: a card sign-in's ID
    token, handed back to the provider at sign-out (end)."""
    if assurance not in ASSURANCES:
        raise ValueError(assurance)
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            id=_key(token),
            account_kind=kind,
            account_id=account_id,
            created_at=now,
            last_seen_at=now,
            client_address=address[:45],
            assurance=assurance,
            id_token=id_token,
        )
    )
    session.flush()
    return token


def end(*, session: Session, token: str | None) -> str:
    """Ends the session; returns the card provider's ID token it kept ("" for any other sign-in, or none)."""
    if not token:
        return ""
    row = session.get(WebSession, _key(token))
    if row is None:
        return ""
    id_token = row.id_token or ""
    session.delete(row)
    session.flush()
    return id_token


def end_all(*, session: Session, kind: str, account_id: int) -> None:
    """Signs an account out everywhere (disabled operator, password change)."""
    session.exec(delete(WebSession).where(WebSession.account_kind == kind, WebSession.account_id == account_id))


def resume(*, session: Session, token: str | None, now: datetime, idle: timedelta) -> WebSession | None:
    """The live session for a cookie, or None if unknown or idle too long (then it is removed)."""
    if not token:
        return None
    row = session.get(WebSession, _key(token))
    if row is None:
        return None
    if now - row.last_seen_at > idle:
        session.delete(row)
        session.flush()
        return None
    face_spent = row.assurance == "face" and now - row.created_at > FACE_LIFETIME
    if now - row.last_seen_at > TOUCH_AFTER or face_spent:
        row.last_seen_at = now
        if face_spent:
            row.assurance = "card"
        session.add(row)
        session.flush()
    return row


_PERSON_PRINCIPAL = (select(PersonAccount.id, PersonAccount.identity_proven_at, Person.id, Person.name)
                     .join(Person, Person.id == PersonAccount.person_id)
                     .where(PersonAccount.id == bindparam("account_id")))
_EMPLOYER_PRINCIPAL = (select(EmployerOperator.id, EmployerOperator.active, EmployerOperator.name,
                              EmployerOperator.is_admin, Employer.id.label("employer_id"),
                              Employer.name.label("employer_name"), Employer.status, Employer.region)
                       .join(Employer, Employer.id == EmployerOperator.employer_id)
                       .where(EmployerOperator.id == bindparam("account_id")))


def principal_for(*, session: Session, row: WebSession) -> Principal | None:
    """Loads the account behind a session; None when it no longer may sign in."""
    # The columns a principal needs, not the account's and the person's whole rows: this runs on every page.
    if row.account_kind == "person":
        found = session.execute(_PERSON_PRINCIPAL, {"account_id": row.account_id}).first()
        if not found:
            return None
        account_id, proven_at, person_id, name = found
        return Principal(kind="person", account_id=account_id, display_name=name, person_id=person_id,
                         identity_proven=proven_at is not None, assurance=row.assurance)
    if row.account_kind == "employer":
        found = session.execute(_EMPLOYER_PRINCIPAL, {"account_id": row.account_id}).first()
        if not found or not found.active:
            return None
        return Principal(
            kind="employer",
            account_id=found.id,
            display_name=f"{found.name} · {found.employer_name}",
            employer_id=found.employer_id,
            employer_status=found.status,
            is_employer_admin=found.is_admin,
            region=found.region,
        )
    if row.account_kind == "staff":
        staff = session.get(StaffMember, row.account_id)
        if staff is None or not staff.active:
            return None
        return Principal(
            kind="staff", account_id=staff.id, display_name=staff.name, roles=staff.role_set, region=staff.region
        )
    return None
