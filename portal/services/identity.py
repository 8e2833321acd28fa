"""Proving that a person account belongs to its person before anything of the record is shown.

An account is proven by one of: a one-time code sent to the mobile number on the person's record (set by an
employer's enrolment or a service counter, never by the person registering), an activation code printed at
a service counter, or, once it exists, the electronic social security card sign-in, which calls
``mark_proven(..., means="essc")``.

Registering and resetting a forgotten password are the same claim, "set the password of this identity
number's account", proven the same way. The visitor is given the same answer whether or not a record, a
mobile number or an account exists: the code goes only to the number on record, and a visitor without one
is told to ask a counter for an activation code.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, func, select

from portal import audit, i18n
from portal.auth import sessions
from portal.auth.passwords import hash_password, verify_password
from portal.auth.principal import Actor
from portal.errors import N_, Conflict, Forbidden, Msg, NotFound, Throttled, ValidationFailed
from portal.identifiers import valid_mobile
from portal.models import AuditEvent, IdentityClaim, IdentityCode, Person, PersonAccount
from portal.notify import Message, Notifier, NotifierError, compose
from portal.services import accounts

log = logging.getLogger("portal.identity")

PURPOSES = ("register", "reset", "prove")
# sms and counter are proven by the person; system is an account a trusted tool opened (demo seed, loading records).
MEANS = ("sms", "counter", "essc", "system")
# Letters a person reads off paper and types: no 0/O, 1/I/L, 5/S, 8/B to mistake for each other.
LETTER_ALPHABET = "ACDEFGHJKMNPQRTUVWXY234679"
LETTER_LENGTH = 12
SMS_CODE = re.compile(r"^[0-9]{6}$", re.ASCII)
LETTER_CODE = re.compile(rf"^[{LETTER_ALPHABET}]{{{LETTER_LENGTH}}}$", re.ASCII)
CODE_REQUESTED = "identity.code_requested"

WRONG_CODE = Msg(N_("This code is not right, or it has expired. Check it and try again, or ask for a new code."))
TOO_MANY_CODES = Msg(N_("Too many wrong codes. Start again later, or ask a service counter for an activation code."))
CLAIM_GONE = Msg(N_("This request has expired or has been used. Start again."))
TOO_MANY_CLAIMS = N_("Too many requests from your network. Wait %(minutes)d minutes and try again.")


@dataclass(frozen=True)
class ClaimStarted:
    token: str  # goes to the visitor's cookie; only its hash is stored


@dataclass(frozen=True)
class Refused:
    """A wrong code. Returned, not raised: the count of wrong tries must be committed."""

    message: Msg
    claim_closed: bool = False


@dataclass(frozen=True)
class Letter:
    code: str  # formatted XXXX-XXXX-XXXX, shown once, printed for the person
    person: Person
    expires_at: datetime


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _retry_after(settings) -> int:
    return settings.code_window_minutes * 60


def _throttle(count: int, limit: int, settings) -> None:
    if count >= limit:
        raise Throttled(Msg(TOO_MANY_CLAIMS, {"minutes": settings.code_window_minutes}), _retry_after(settings))


def _claims_from(session: Session, address: str, since: datetime) -> int:
    return session.exec(select(func.count()).select_from(IdentityClaim).where(
        IdentityClaim.client_address == address, IdentityClaim.created_at >= since,
        IdentityClaim.purpose != "prove")).one()


def _code_requests_from(session: Session, address: str, since: datetime) -> int:
    return session.exec(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.client_address == address, AuditEvent.action == CODE_REQUESTED, AuditEvent.at >= since)).one()


def start_claim(
    session: Session, *, settings, notifier: Notifier, purpose: str, id_number: str, name: str, password: str,
    password_confirm: str, address: str, now: datetime, today: date,
) -> ClaimStarted:
    """Registration or a forgotten password: keeps the new password until a code proves the claim.

    Refuses bad input field by field; otherwise answers the same for every identity number.
    """
    if purpose not in ("register", "reset"):
        raise ValueError(purpose)
    errors: dict[str, Msg] = {}
    problem = accounts.identity_problem(id_number, today=today)
    if problem:
        errors["id_number"] = problem
    name = accounts._check_name(errors, "name", name)
    number = (id_number or "").strip().upper()
    accounts._check_password(errors, password, password_confirm, (number,))
    if errors:
        raise ValidationFailed(errors)
    since = now - timedelta(minutes=settings.code_window_minutes)
    if address:
        _throttle(_claims_from(session, address, since), settings.address_claims, settings)

    person = session.exec(select(Person).where(Person.id_number == number)).first()
    # A name that does not match is treated as no record: no code, and the same answer.
    matched = person if person is not None and person.name == name else None
    token = secrets.token_urlsafe(32)
    claim = IdentityClaim(
        token_hash=_hash_token(token), purpose=purpose, id_number=number,
        person_id=matched.id if matched else None, password_hash=hash_password(password), client_address=address[:45],
        created_at=now, expires_at=now + timedelta(minutes=settings.claim_minutes))
    session.add(claim)
    session.flush()
    audit.record(session=session, actor=Actor(None, address), action=f"identity.{purpose}_started", now=now,
                 object_type="person" if matched else "", object_id=matched.id if matched else "",
                 detail={"matched": matched is not None})
    if matched is not None and matched.mobile:
        _send_code(session, settings=settings, notifier=notifier, claim=claim, person=matched, address=address,
                   now=now)
    else:
        _same_work()
    return ClaimStarted(token=token)


def live_claim(session: Session, *, token: str | None, now: datetime) -> IdentityClaim | None:
    """The open claim behind a visitor's cookie, or None (unknown, expired, closed or completed)."""
    if not token:
        return None
    claim = session.exec(select(IdentityClaim).where(IdentityClaim.token_hash == _hash_token(token))).first()
    if claim is None or claim.completed_at is not None or claim.expires_at <= now:
        return None
    return claim


def resend_code(session: Session, *, settings, notifier: Notifier, token: str | None, address: str,
                now: datetime) -> None:
    """A new code for a registration or reset (the same answer whether or not one is sent)."""
    claim = live_claim(session, token=token, now=now)
    if claim is None:
        raise Conflict(CLAIM_GONE)
    _request_code(session, settings=settings, notifier=notifier, claim=claim, address=address, now=now)


def _request_code(session: Session, *, settings, notifier: Notifier, claim: IdentityClaim, address: str,
                  now: datetime) -> None:
    if address:
        since = now - timedelta(minutes=settings.code_window_minutes)
        _throttle(_code_requests_from(session, address, since), settings.address_code_requests, settings)
    audit.record(session=session, actor=Actor(None, address), action=CODE_REQUESTED, now=now,
                 object_type="identity_claim", object_id=claim.id)
    person = session.get(Person, claim.person_id) if claim.person_id else None
    if person is not None and person.mobile:
        _send_code(session, settings=settings, notifier=notifier, claim=claim, person=person, address=address,
                   now=now)
    else:
        _same_work()


def _same_work() -> None:
    """The cost of hashing a code, spent when none is sent, so the time of the answer says nothing either."""
    hash_password(f"{secrets.randbelow(10**6):06d}")


def _send_code(session: Session, *, settings, notifier: Notifier, claim: IdentityClaim, person: Person,
               address: str, now: datetime) -> None:
    since = now - timedelta(minutes=settings.code_window_minutes)
    sent = session.exec(select(func.count()).select_from(IdentityCode).where(
        IdentityCode.kind == "sms", IdentityCode.mobile == person.mobile, IdentityCode.created_at >= since)).one()
    if sent >= settings.codes_per_number:
        # Said to nobody: the visitor's answer must not depend on the number. The holder already has codes.
        audit.record(session=session, actor=Actor(None, address), action="identity.code_withheld", now=now,
                     object_type="person", object_id=person.id, detail={"reason": "number_limit"})
        _same_work()
        return
    for earlier in session.exec(select(IdentityCode).where(
            IdentityCode.claim_id == claim.id, IdentityCode.used_at.is_(None))).all():
        earlier.expires_at = min(earlier.expires_at, now)  # only the newest code of a claim works
        session.add(earlier)
    code = f"{secrets.randbelow(10**6):06d}"
    session.add(IdentityCode(kind="sms", person_id=person.id, claim_id=claim.id, mobile=person.mobile,
                             code_hash=hash_password(code), client_address=address[:45], created_at=now,
                             expires_at=now + timedelta(minutes=settings.code_minutes)))
    session.flush()
    text = compose(Msg(N_("Jilin pension service: your verification code is %(code)s, valid for %(minutes)d "
                          "minutes. Never tell it to anyone, staff included. If you did not ask for it, ignore "
                          "this message."), {"code": code, "minutes": settings.code_minutes}))
    _deliver(session, notifier=notifier, message=Message(to=person.mobile, text=text, purpose="code", at=now),
             person=person, now=now)


def _deliver(session: Session, *, notifier: Notifier, message: Message, person: Person, now: datetime) -> None:
    try:
        notifier.send(message)
    except NotifierError:
        log.exception("a message to a person could not be sent")
        audit.record(session=session, actor=Actor(None, "system"), action="identity.message_failed", now=now,
                     object_type="person", object_id=person.id, detail={"purpose": message.purpose})
        return
    audit.record(session=session, actor=Actor(None, "system"), action="identity.message_sent", now=now,
                 object_type="person", object_id=person.id, detail={"purpose": message.purpose})


def _normalise(code: str) -> str:
    return re.sub(r"[\s\-－—]", "", code or "").upper()


def _match_code(session: Session, *, settings, claim: IdentityClaim, code: str, now: datetime) -> str | None:
    """Which means proves the claim ("sms" or "counter"), using up the code; None for a wrong code."""
    typed = _normalise(code)
    candidates: list[IdentityCode] = []
    if claim.person_id is not None and SMS_CODE.match(typed):
        latest = session.exec(select(IdentityCode).where(
            IdentityCode.claim_id == claim.id, IdentityCode.kind == "sms", IdentityCode.used_at.is_(None),
            IdentityCode.expires_at > now, IdentityCode.failed_attempts < settings.code_attempts,
        ).order_by(IdentityCode.id.desc())).first()
        candidates = [latest] if latest else []
    elif claim.person_id is not None and LETTER_CODE.match(typed):
        candidates = list(session.exec(select(IdentityCode).where(
            IdentityCode.person_id == claim.person_id, IdentityCode.kind == "letter",
            IdentityCode.used_at.is_(None), IdentityCode.expires_at > now)).all())
    if not candidates:
        verify_password(None, typed)  # the same work as a real check, so timing says nothing
        return None
    for row in candidates:
        if verify_password(row.code_hash, typed):
            row.used_at = now
            session.add(row)
            return "sms" if row.kind == "sms" else "counter"
        if row.kind == "sms":
            row.failed_attempts += 1
            session.add(row)
    return None


def _refuse(session: Session, *, settings, claim: IdentityClaim, address: str, now: datetime) -> Refused:
    claim.failed_attempts += 1
    closed = claim.failed_attempts >= settings.code_attempts
    if closed:
        claim.expires_at = now
    session.add(claim)
    session.flush()
    audit.record(session=session, actor=Actor(None, address), action="identity.code_refused", now=now,
                 object_type="identity_claim", object_id=claim.id, detail={"closed": closed})
    if closed:
        return Refused(TOO_MANY_CODES, claim_closed=True)
    return Refused(WRONG_CODE)


def prove_claim(session: Session, *, settings, notifier: Notifier, token: str | None, code: str, address: str,
                now: datetime) -> PersonAccount | Refused:
    """Completes a registration or reset with its code: the account (new, or existing with the new password),
    proven, with every earlier session of it ended."""
    claim = live_claim(session, token=token, now=now)
    if claim is None or claim.purpose == "prove":
        raise Conflict(CLAIM_GONE)
    means = _match_code(session, settings=settings, claim=claim, code=code, now=now)
    if means is None:
        return _refuse(session, settings=settings, claim=claim, address=address, now=now)
    person = session.get(Person, claim.person_id)
    account = session.exec(select(PersonAccount).where(PersonAccount.person_id == person.id)).first()
    actor = Actor(None, address)
    if account is None:
        account = PersonAccount(person_id=person.id, mobile=person.mobile, password_hash=claim.password_hash,
                                created_at=now)
        session.add(account)
        session.flush()
        action = "account.person_registered"
    else:
        account.password_hash = claim.password_hash
        account.failed_logins = 0
        account.locked_until = None
        session.add(account)
        sessions.end_all(session=session, kind="person", account_id=account.id)
        action = "account.password_reset"
    mark_proven(session, account=account, means=means, actor=actor, now=now)
    claim.completed_at = now
    claim.account_id = account.id
    claim.password_hash = ""
    session.add(claim)
    session.flush()
    audit.record(session=session, actor=actor, action=action, now=now, object_type="person", object_id=person.id)
    if person.mobile:
        text = compose(Msg(N_("Jilin pension service: the password of your online account was set just now. If "
                              "this was not you, call 12333 or visit a service counter.")))
        _deliver(session, notifier=notifier, message=Message(to=person.mobile, text=text, purpose="notice", at=now),
                 person=person, now=now)
    return account


def mark_proven(session: Session, *, account: PersonAccount, means: str, actor: Actor, now: datetime) -> None:
    """The account is its person's from now on. Every means of proof ends here (sms, counter, and essc next)."""
    if means not in MEANS:
        raise ValueError(means)
    if account.identity_proven_at is None:
        account.identity_proven_at = now
        account.identity_proof = means
        session.add(account)
        session.flush()
        audit.record(session=session, actor=actor, action="account.identity_proven", now=now,
                     object_type="person_account", object_id=account.id, detail={"means": means})


def _unproven_account(session: Session, actor: Actor) -> PersonAccount:
    principal = actor.principal
    if principal is None or principal.kind != "person":
        raise Forbidden()
    account = session.get(PersonAccount, principal.account_id)
    if account is None:
        raise NotFound()
    return account


def request_account_code(session: Session, *, settings, notifier: Notifier, actor: Actor,
                         now: datetime) -> ClaimStarted:
    """A signed-in account not yet proven asks for a code to the number on its person's record."""
    account = _unproven_account(session, actor)
    person = session.get(Person, account.person_id)
    token = secrets.token_urlsafe(32)
    claim = IdentityClaim(token_hash=_hash_token(token), purpose="prove", id_number=person.id_number,
                          person_id=person.id, account_id=account.id, client_address=actor.address[:45],
                          created_at=now, expires_at=now + timedelta(minutes=settings.claim_minutes))
    session.add(claim)
    session.flush()
    _request_code(session, settings=settings, notifier=notifier, claim=claim, address=actor.address, now=now)
    return ClaimStarted(token=token)


def prove_account(session: Session, *, settings, actor: Actor, token: str | None, code: str,
                  now: datetime) -> PersonAccount | Refused:
    """A signed-in account proves itself with a code sent to the number on record or a counter's activation code.

    A letter code needs no claim of its own: one is opened for it, bound to the account.
    """
    account = _unproven_account(session, actor)
    since = now - timedelta(minutes=settings.code_window_minutes)
    if _wrong_codes(session, account_id=account.id, since=since) >= settings.code_attempts:
        return Refused(TOO_MANY_CODES, claim_closed=True)
    claim = live_claim(session, token=token, now=now)
    if claim is None or claim.purpose != "prove" or claim.account_id != account.id:
        claim = IdentityClaim(token_hash=_hash_token(secrets.token_urlsafe(32)), purpose="prove",
                              id_number="", person_id=account.person_id, account_id=account.id,
                              client_address=actor.address[:45], created_at=now,
                              expires_at=now + timedelta(minutes=settings.claim_minutes))
        session.add(claim)
        session.flush()
    means = _match_code(session, settings=settings, claim=claim, code=code, now=now)
    if means is None:
        return _refuse(session, settings=settings, claim=claim, address=actor.address, now=now)
    mark_proven(session, account=account, means=means, actor=actor, now=now)
    claim.completed_at = now
    session.add(claim)
    session.flush()
    return account


def _wrong_codes(session: Session, *, account_id: int, since: datetime) -> int:
    """Wrong codes typed for a signed-in account (its claims), so one account cannot guess without end."""
    return session.exec(select(func.coalesce(func.sum(IdentityClaim.failed_attempts), 0)).where(
        IdentityClaim.account_id == account_id, IdentityClaim.created_at >= since)).one()


def set_record_mobile(session: Session, *, person: Person, mobile: str, source: str, actor: Actor,
                      now: datetime) -> None:
    """Keeps the number on record that codes go to. A counter's number (checked against the identity card in
    person) is not replaced by an employer's."""
    if source not in ("enrolment", "counter"):
        raise ValueError(source)
    if not mobile or mobile == person.mobile:
        return
    if source == "enrolment" and person.mobile_source == "counter":
        return
    person.mobile = mobile
    person.mobile_source = source
    session.add(person)
    session.flush()
    audit.record(session=session, actor=actor, action="person.mobile_recorded", now=now, object_type="person",
                 object_id=person.id, detail={"source": source})


def mobile_problem(mobile: str) -> Msg | None:
    if mobile and not valid_mobile(mobile):
        return Msg(N_("Enter an 11-digit mainland mobile number, such as 13912345678."))
    return None


def _new_letter_code() -> str:
    return "".join(secrets.choice(LETTER_ALPHABET) for _ in range(LETTER_LENGTH))


def issue_letter(session: Session, *, settings, actor: Actor, id_number: str, mobile: str = "", now: datetime,
                 today: date) -> Letter:
    """A service counter issues an activation code for a person whose identity card it has seen.

    The code is printed for the person and shown once; an earlier unused letter stops working. A mobile number
    given here becomes the number on record.
    """
    principal = actor.principal
    if actor.kind not in ("staff", "system") or (principal is not None and principal.kind != "staff"):
        raise Forbidden()
    errors: dict[str, Msg] = {}
    number = (id_number or "").strip().upper()
    problem = accounts.identity_problem(number, today=today)
    if problem:
        errors["id_number"] = problem
    mobile = (mobile or "").strip()
    problem = mobile_problem(mobile)
    if problem:
        errors["mobile"] = problem
    person = session.exec(select(Person).where(Person.id_number == number)).first() if not errors else None
    if not errors and person is None:
        errors["id_number"] = Msg(N_("No record holds this identity number. An activation code is issued only for "
                                     "a person with a record; the employer's enrolment creates one."))
    if errors:
        raise ValidationFailed(errors)
    for earlier in session.exec(select(IdentityCode).where(
            IdentityCode.person_id == person.id, IdentityCode.kind == "letter", IdentityCode.used_at.is_(None))).all():
        earlier.expires_at = min(earlier.expires_at, now)
        session.add(earlier)
    code = _new_letter_code()
    expires = now + timedelta(days=settings.letter_days)
    session.add(IdentityCode(kind="letter", person_id=person.id, code_hash=hash_password(code),
                             client_address=actor.address[:45], issued_by=principal.account_id if principal else None,
                             created_at=now, expires_at=expires))
    session.flush()
    set_record_mobile(session, person=person, mobile=mobile, source="counter", actor=actor, now=now)
    audit.record(session=session, actor=actor, action="identity.letter_issued", now=now, object_type="person",
                 object_id=person.id)
    return Letter(code="-".join(code[i:i + 4] for i in range(0, LETTER_LENGTH, 4)), person=person,
                  expires_at=expires)


def notify_lockout(session: Session, *, notifier: Notifier | None, mobile: str, until: datetime,
                   now: datetime) -> None:
    """Tells the holder (not the visitor) that their account was locked, and how to get back in."""
    if notifier is None or not mobile:
        return
    text = compose(Msg(N_("Jilin pension service: after several wrong passwords your online account is locked until "
                          "%(time)s. If this was not you, reset your password on the portal or at a service "
                          "counter."), {"time": i18n.format_datetime(until, i18n.DEFAULT_LOCALE)}))
    try:
        notifier.send(Message(to=mobile, text=text, purpose="notice", at=now))
    except NotifierError:
        log.exception("a lockout notice could not be sent")
