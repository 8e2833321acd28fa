"""Signing in with the electronic social security card: the provider's claims to a person account.

The first card sign-in whose identity number matches a person links the account to the provider's subject
(``sub``); later sign-ins find the account by that link alone. A person with no account gets one (and then
confirms a mobile number, before any session starts); a locked account and an identity number failing its check are refused. A card
sign-in proves the account is its person's (identity.mark_proven, means "essc").

QR sign-in: a browser shows a one-time code for two minutes; the card sign-in made on another device with it
signs that browser in, once. Its session keeps no ID token: the card platform's own session is on the other
device, so signing out of the screen signs out of the portal only.

A card sign-in's session keeps the provider's ID token: signing out sends the person to the provider to end its
session too (portal/web/public/essc.py, sign_out_at_provider).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, delete, select

from portal import audit
from portal.auth import sessions
from portal.auth.essc import CardClaims, LoginRequest
from portal.auth.principal import Actor, Principal
from portal.errors import N_, Forbidden, Msg, ValidationFailed
from portal.identifiers import InvalidIdentifier, parse_resident_id, valid_mobile
from portal.models import CardLink, Person, PersonAccount, QrSignIn
from portal.services import identity
from portal.services.accounts import ID_MESSAGES

QR_LIFETIME = timedelta(minutes=2)

LOCKED = Msg(N_("Your account is locked, so you cannot sign in with the card now. Call 12333 or visit a service "
                "counter."))
BAD_NUMBER = Msg(N_("The card platform sent an identity number that is not valid, so we cannot sign you in with "
                    "the card. Visit a service counter with your identity card."))
NO_NUMBER = Msg(N_("The card platform did not send your identity number, so we cannot sign you in with the card. "
                   "Allow the portal to see your identity number on the card platform and try again."))
SOMEONE_ELSE = Msg(N_("That card belongs to someone other than the person signed in here. Sign out first, or "
                      "confirm with your own card."))


@dataclass(frozen=True)
class CardRefused:
    message: Msg
    reason: str  # for the audit trail


@dataclass(frozen=True)
class CardAccount:
    account: PersonAccount
    person: Person
    assurance: str  # card | face
    created: bool  # a new account: the person confirms a mobile number next


@dataclass(frozen=True)
class CardSignedIn:
    token: str
    principal: Principal
    created: bool


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _refuse(session: Session, *, actor: Actor, reason: str, message: Msg, now: datetime,
            claims: CardClaims | None = None) -> CardRefused:
    audit.record(session=session, actor=actor, action="essc.refused", now=now,
                 detail={"reason": reason, **({"subject": claims.subject} if claims else {})})
    return CardRefused(message=message, reason=reason)


def _locked(account: PersonAccount, now: datetime) -> bool:
    return account.locked_until is not None and account.locked_until > now


def account_for_card(session: Session, *, claims: CardClaims, actor: Actor, now: datetime,
                     today: date) -> CardAccount | CardRefused:
    """The person account these card claims belong to: linked, found by identity number, or opened now.

    A refusal changes nothing but the audit trail: a locked account is refused before any link is made."""
    link = session.exec(select(CardLink).where(CardLink.issuer == claims.issuer,
                                               CardLink.subject == claims.subject)).first()
    created = False
    if link is not None:
        account = session.get(PersonAccount, link.account_id)
        person = session.get(Person, account.person_id)
        if _locked(account, now):
            return _refuse(session, actor=actor, reason="locked", message=LOCKED, now=now, claims=claims)
    else:
        if not claims.id_number:
            return _refuse(session, actor=actor, reason="no_id_number", message=NO_NUMBER, now=now, claims=claims)
        try:
            resident = parse_resident_id(claims.id_number, today=today)
        except InvalidIdentifier as error:
            return _refuse(session, actor=actor, reason=f"id_number:{error.code}", message=BAD_NUMBER, now=now,
                           claims=claims)
        person = session.exec(select(Person).where(Person.id_number == resident.number)).first()
        account = None
        if person is not None:
            account = session.exec(select(PersonAccount).where(PersonAccount.person_id == person.id)).first()
        if account is not None and _locked(account, now):
            return _refuse(session, actor=actor, reason="locked", message=LOCKED, now=now, claims=claims)
        if person is None:
            # The card platform has checked this person's real name against the identity card.
            person = Person(id_number=resident.number, name=claims.name[:50] or resident.number,
                            birth_date=resident.birth_date, sex=resident.sex, created_at=now)
            session.add(person)
            session.flush()
        if account is None:
            # No password (the person signs in with the card, or sets one later with a code) and no mobile number
            # until the person confirms one (confirm_mobile): no session starts before that.
            account = PersonAccount(person_id=person.id, mobile="", password_hash="", created_at=now)
            session.add(account)
            session.flush()
            created = True
            audit.record(session=session, actor=actor, action="account.person_opened_by_card", now=now,
                         object_type="person", object_id=person.id)
        link = CardLink(account_id=account.id, issuer=claims.issuer, subject=claims.subject, created_at=now,
                        last_used_at=now)
        session.add(link)
        session.flush()
        audit.record(session=session, actor=actor, action="essc.linked", now=now, object_type="person_account",
                     object_id=account.id)
    link.last_used_at = now
    session.add(link)
    identity.mark_proven(session, account=account, means="essc", actor=actor, now=now)
    return CardAccount(account=account, person=person, assurance="face" if claims.face else "card", created=created)


@dataclass(frozen=True)
class MobileNeeded:
    """The card proved who this is, but the account has no mobile number the person confirmed yet (an account the
    card just opened): the session starts once they confirm one (confirm_mobile)."""
    account_id: int
    assurance: str
    id_token: str = ""  # the card sign-in's, kept by the session that starts


def sign_in_with_card(session: Session, *, claims: CardClaims, actor: Actor, now: datetime,
                      today: date) -> CardSignedIn | MobileNeeded | CardRefused:
    """A card sign-in in this browser: a new session recording card or card-and-face.

    A person already signed in who confirms with the card (a step-up) must be the card's holder."""
    found = account_for_card(session, claims=claims, actor=actor, now=now, today=today)
    if isinstance(found, CardRefused):
        return found
    current = actor.principal
    if current is not None and (current.kind != "person" or current.account_id != found.account.id):
        return _refuse(session, actor=actor, reason="someone_else", message=SOMEONE_ELSE, now=now, claims=claims)
    return _start_or_ask_mobile(session, found=found, actor=actor, now=now, id_token=claims.id_token)


def _start_or_ask_mobile(session: Session, *, found: CardAccount, actor: Actor, now: datetime,
                         id_token: str = "") -> CardSignedIn | MobileNeeded:
    if not found.account.mobile:
        return MobileNeeded(account_id=found.account.id, assurance=found.assurance, id_token=id_token)
    return _start(session, found=found, actor=actor, now=now, id_token=id_token)


def _start(session: Session, *, found: CardAccount, actor: Actor, now: datetime,
           id_token: str = "") -> CardSignedIn:
    account = found.account
    account.failed_logins = 0
    account.last_login_at = now
    session.add(account)
    # The session keeps the provider's ID token, so signing out here signs the person out at the provider too.
    token = sessions.start(session=session, kind="person", account_id=account.id, address=actor.address, now=now,
                           assurance=found.assurance, id_token=id_token)
    principal = Principal(kind="person", account_id=account.id, display_name=found.person.name,
                          person_id=found.person.id, identity_proven=True, assurance=found.assurance)
    audit.record(session=session, actor=Actor(principal, actor.address), action="auth.signed_in", now=now,
                 object_type="person", object_id=account.id, detail={"via": "essc", "assurance": found.assurance})
    return CardSignedIn(token=token, principal=principal, created=found.created)


MOBILE_DONE = Msg(N_("This sign-in has already been completed, or it has expired. Sign in with the card again."))


def mobile_on_record(session: Session, *, account_id: int) -> str:
    """The number the records hold for the person (an employer's enrolment or a counter), offered to confirm."""
    account = session.get(PersonAccount, account_id)
    person = session.get(Person, account.person_id) if account is not None else None
    return person.mobile if person is not None else ""


def confirm_mobile(session: Session, *, pending: MobileNeeded, mobile: str, actor: Actor,
                   now: datetime) -> CardSignedIn:
    """The person the card signed in confirms the mobile number where the portal may reach them; then their
    session starts. Refused (ValidationFailed) for a number that is not a mainland mobile, and for an account
    that has one already or is locked now (the step was done, or the sign-in is stale)."""
    mobile = (mobile or "").strip()
    if not valid_mobile(mobile):
        raise ValidationFailed({"mobile": Msg(N_("Enter an 11-digit mainland mobile number, such as 13912345678."))})
    account = session.get(PersonAccount, pending.account_id)
    if account is None or account.mobile or _locked(account, now) or pending.assurance not in ("card", "face"):
        raise ValidationFailed({"mobile": MOBILE_DONE})
    account.mobile = mobile
    session.add(account)
    session.flush()
    audit.record(session=session, actor=actor, action="account.mobile_confirmed", now=now,
                 object_type="person_account", object_id=account.id)
    person = session.get(Person, account.person_id)
    return _start(session, found=CardAccount(account=account, person=person, assurance=pending.assurance,
                                             created=True), actor=actor, now=now, id_token=pending.id_token)


# --- QR sign-in ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class QrStarted:
    token: str  # the showing browser's secret (its cookie); only the hash is kept
    url: str  # what the QR code encodes: the provider's sign-in address for this one-time request
    expires_at: datetime


def start_qr(session: Session, *, login: LoginRequest, next_url: str, actor: Actor, now: datetime) -> QrStarted:
    # Every showing of the sign-in page makes one; spent codes are of no use after a day.
    session.exec(delete(QrSignIn).where(QrSignIn.expires_at < now - timedelta(days=1)))
    token = secrets.token_urlsafe(32)
    row = QrSignIn(token_hash=_hash(token), state=login.state, nonce=login.nonce, code_verifier=login.code_verifier,
                   next_url=next_url[:500], client_address=actor.address[:45], created_at=now,
                   expires_at=now + QR_LIFETIME)
    session.add(row)
    session.flush()
    return QrStarted(token=token, url=login.url, expires_at=row.expires_at)


def qr_by_state(session: Session, *, state: str) -> QrSignIn | None:
    if not state:
        return None
    return session.exec(select(QrSignIn).where(QrSignIn.state == state)).first()


def qr_usable(row: QrSignIn, now: datetime) -> bool:
    return row.confirmed_at is None and row.used_at is None and row.expires_at > now


def confirm_qr(session: Session, *, row_id: int, account_id: int, assurance: str, actor: Actor,
               now: datetime) -> bool:
    """The cardholder, on the other device, confirmed that the screen showing this code is theirs to sign in.

    False when the code expired or was used meanwhile."""
    row = session.get(QrSignIn, row_id)
    if row is None or not qr_usable(row, now) or assurance not in ("card", "face"):
        return False
    row.confirmed_at = now
    row.account_id = account_id
    row.assurance = assurance
    session.add(row)
    session.flush()
    audit.record(session=session, actor=actor, action="essc.qr_confirmed", now=now, object_type="person_account",
                 object_id=account_id)
    return True


@dataclass(frozen=True)
class QrStatus:
    status: str  # waiting | expired | used | signed_in | mobile
    signed_in: CardSignedIn | None = None
    next_url: str = ""
    mobile_needed: MobileNeeded | None = None


def poll_qr(session: Session, *, token: str | None, actor: Actor, now: datetime) -> QrStatus:
    """The showing browser asks whether its code was confirmed; the first answer after confirmation signs it in."""
    row = session.exec(select(QrSignIn).where(QrSignIn.token_hash == _hash(token))).first() if token else None
    if row is None or row.used_at is not None:
        return QrStatus("used")
    if row.confirmed_at is None:
        return QrStatus("expired" if row.expires_at <= now else "waiting")
    row.used_at = now
    session.add(row)
    account = session.get(PersonAccount, row.account_id)
    if _locked(account, now):
        audit.record(session=session, actor=actor, action="essc.refused", now=now, detail={"reason": "locked"})
        return QrStatus("used")
    person = session.get(Person, account.person_id)
    started = _start_or_ask_mobile(session, found=CardAccount(account=account, person=person,
                                                              assurance=row.assurance, created=False),
                                   actor=actor, now=now)
    if isinstance(started, MobileNeeded):
        return QrStatus("mobile", next_url=row.next_url, mobile_needed=started)
    return QrStatus("signed_in", signed_in=started, next_url=row.next_url)


# --- the service counter's assisted check ------------------------------------------------------------------------

def record_counter_card_check(session: Session, *, actor: Actor, id_number: str, now: datetime, today: date) -> Person:
    """Staff checked a person's social security card and face at the counter (people without a phone)."""
    principal = actor.principal
    if principal is None or principal.kind != "staff":
        raise Forbidden()
    number = (id_number or "").strip().upper()
    try:
        parse_resident_id(number, today=today)
    except InvalidIdentifier as error:
        raise ValidationFailed({"id_number": Msg(ID_MESSAGES[error.code])}) from error
    person = session.exec(select(Person).where(Person.id_number == number)).first()
    if person is None:
        raise ValidationFailed({"id_number": Msg(N_("No record holds this identity number."))})
    audit.record(session=session, actor=actor, action="essc.counter_card_check", now=now, object_type="person",
                 object_id=person.id, detail={"checked": "card_and_face"})
    return person
