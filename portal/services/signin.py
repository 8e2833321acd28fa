"""Signing in: passwords, the staff second factor, lockout and per-address throttling.

A refusal reads the same, byte for byte, for an unknown account, a wrong password and a locked account, so the
answer never tells whether an account exists; the lockout itself is told to the holder, by SMS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, func, select

from portal import audit
from portal.auth import sessions
from portal.auth.passwords import verify_password
from portal.auth.principal import Actor, Principal
from portal.auth.totp import accepted_step
from portal.errors import N_, Msg
from portal.identifiers import InvalidIdentifier, parse_credit_code
from portal.models import AuditEvent, Employer, EmployerOperator, Person, PersonAccount, StaffMember
from portal.notify import Notifier
from portal.services import identity
from portal.settings import Settings

FAILED = "auth.sign_in_failed"


@dataclass(frozen=True)
class Refused:
    """A refused sign-in. Returned, not raised: the failure count and audit rows must be committed."""

    message: Msg
    locked_until: datetime | None = None  # for the audit and tests only: the page must not say it
    retry_after: timedelta | None = None  # the whole address is throttled: how long before it may try again


WRONG = Msg(N_("The account details, password or one-time code are not right. Check them and try again."))


@dataclass(frozen=True)
class SignedIn:
    principal: Principal
    token: str


def _find(session: Session, account_type: str, username: str, employer_code: str):
    username = (username or "").strip()
    if account_type == "person":
        return session.exec(
            select(PersonAccount).join(Person, Person.id == PersonAccount.person_id)
            .where(Person.id_number == username.upper())
        ).first()
    if account_type == "employer":
        try:
            code = parse_credit_code(employer_code)
        except InvalidIdentifier:
            return None
        return session.exec(
            select(EmployerOperator).join(Employer, Employer.id == EmployerOperator.employer_id)
            .where(Employer.credit_code == code, EmployerOperator.username == username)
        ).first()
    if account_type == "staff":
        return session.exec(select(StaffMember).where(StaffMember.staff_number == username)).first()
    return None


def _address_throttled(session: Session, address: str, now: datetime, settings: Settings) -> bool:
    if not address:
        return False
    since = now - timedelta(minutes=settings.address_window_minutes)
    failures = session.exec(
        select(func.count()).select_from(AuditEvent)
        .where(AuditEvent.client_address == address, AuditEvent.action == FAILED, AuditEvent.at >= since)
    ).one()
    return failures >= settings.address_attempts


def sign_in(
    session: Session, *,
    settings: Settings,
    account_type: str,
    username: str,
    password: str,
    employer_code: str = "",
    otp: str = "",
    address: str,
    now: datetime,
    notifier: Notifier | None = None,
) -> SignedIn | Refused:
    """Checks the credentials and starts a session, or refuses with a message fit to show."""
    anonymous = Actor(principal=None, address=address)
    if _address_throttled(session, address, now, settings):
        audit.record(session=session, actor=anonymous, action="auth.throttled", now=now,
                     detail={"account_type": account_type})
        window = timedelta(minutes=settings.address_window_minutes)
        return Refused(Msg(N_("Too many failed sign-in attempts from your network. Wait %(minutes)d minutes and "
                              "try again."), {"minutes": settings.address_window_minutes}), retry_after=window)

    account = _find(session, account_type, username, employer_code)
    # The password is checked even for a locked account, so a locked one takes as long to refuse as any other.
    ok = verify_password(account.password_hash if account is not None else None, password or "")
    if account is not None and account.locked_until is not None and account.locked_until > now:
        audit.record(session=session, actor=anonymous, action="auth.refused_locked", now=now,
                     object_type=account_type, object_id=account.id)
        return Refused(WRONG, locked_until=account.locked_until)

    step = None
    if ok and account_type == "staff":
        step = accepted_step(account.totp_secret, otp, at=now, last_step=account.totp_last_step)
        ok = step is not None
    if ok and account_type == "employer" and not account.active:
        ok = False

    if not ok:
        detail = {"account_type": account_type, "username": (username or "")[:40]}
        audit.record(session=session, actor=anonymous, action=FAILED, now=now,
                     object_type=account_type, object_id=account.id if account is not None else "", detail=detail)
        if account is None:
            return Refused(WRONG)
        account.failed_logins += 1
        if account.failed_logins >= settings.lockout_attempts:
            account.failed_logins = 0
            account.locked_until = now + timedelta(minutes=settings.lockout_minutes)
            session.add(account)
            audit.record(session=session, actor=anonymous, action="auth.locked", now=now,
                         object_type=account_type, object_id=account.id)
            session.flush()
            _tell_holder(session, account_type, account, notifier=notifier, now=now)
            return Refused(WRONG, locked_until=account.locked_until)
        session.add(account)
        session.flush()
        return Refused(WRONG)

    account.failed_logins = 0
    account.locked_until = None
    account.last_login_at = now
    if step is not None:
        account.totp_last_step = step
    session.add(account)
    session.flush()
    token = sessions.start(session=session, kind=account_type, account_id=account.id, address=address, now=now)
    row = session.get(sessions.WebSession, sessions._key(token))
    principal = sessions.principal_for(session=session, row=row)
    audit.record(session=session, actor=Actor(principal=principal, address=address), action="auth.signed_in",
                 now=now, object_type=account_type, object_id=account.id)
    return SignedIn(principal=principal, token=token)


def _tell_holder(session: Session, account_type: str, account, *, notifier: Notifier | None, now: datetime) -> None:
    """The lockout goes to the account's holder: a person at the number on record, an operator at theirs."""
    if account_type == "person":
        mobile = session.get(Person, account.person_id).mobile
    elif account_type == "employer":
        mobile = account.mobile
    else:
        return  # staff are told by their supervisor, who sees the audit log
    identity.notify_lockout(session, notifier=notifier, mobile=mobile, until=account.locked_until, now=now)


def sign_out(session: Session, *, token: str | None, actor: Actor, now: datetime) -> str:
    """Ends the session here. Returns the card provider's ID token a card sign-in kept ("" otherwise), with which
    the person is signed out at the provider too."""
    id_token = sessions.end(session=session, token=token)
    if actor.principal is not None:
        audit.record(session=session, actor=actor, action="auth.signed_out", now=now)
    return id_token
