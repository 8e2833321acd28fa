"""Notification and commitment (告知承诺): who may commit, the confirmation, and the evidence kept.

The applicant reads the notice of the catalogue item (portal/policy/commitments.py) and confirms it: a person
only with a session signed in with the electronic social security card and its face check (a step-up asked for
at that moment, which brings them back to the form: issue #16), never with the password; an employer's operator by
entering their password again. The evidence names the notice version and its hash, the time, the client address and the account,
and is shown to staff on the case. Who may not commit (grade D, on the serious-dishonesty list, or a false
commitment on record: 人社厅发〔2020〕110号) is told why and attaches the proof instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from portal import audit
from portal.auth.passwords import verify_password
from portal.auth.principal import Actor
from portal.errors import N_, Msg, ValidationFailed
from portal.models import AuditEvent, Case, CommitmentEvidence, DeathReport, EmployerOperator
from portal.policy import commitments as catalogue
from portal.policy.rules import credit as rules
from portal.queue import attachments, cases
from portal.services import credit

MODES = ("commit", "proof")
# Records made without a case whose forms offer a catalogue item; their evidence names the record instead.
RECORD_FORMS = ("death_report", "life_certification")
# Wrong passwords at a confirmation, per account: a technical limit like the sign-in throttle, not a policy figure.
MAX_WRONG_PASSWORDS = 5
WRONG_PASSWORD_WINDOW = timedelta(minutes=15)
WRONG_PASSWORD = N_("The password is not right. Enter the password you sign in with.")
REFUSED_ACTION = "commitment.confirmation_refused"
FACE_NEEDED = N_("To commit, confirm with your electronic social security card and its face check first: you come "
                 "back to this form. Or attach the documents that prove it.")


@dataclass(frozen=True)
class Eligibility:
    may_commit: bool
    reasons: tuple[Msg, ...]  # why not, when not


def eligibility(session: Session, *, subject: credit.Subject, on: date,
                rating: rules.Rating | None = None) -> Eligibility:
    rating = rating or credit.rating_of(session, subject=subject, on=on)
    reasons = []
    if rating.listed:
        reasons.append(Msg(N_("You are on the serious-dishonesty list, so you cannot commit instead of proving.")))
    elif not rules.grade_may_commit(rating.grade, on):
        reasons.append(Msg(N_("Your credit grade is %(grade)s, so you cannot commit instead of proving."),
                           {"grade": rating.grade}))
    if credit.has_false_commitment(session, subject=subject):
        reasons.append(Msg(N_("A commitment of yours was found to be false, so you cannot commit again until your "
                              "credit is repaired.")))
    return Eligibility(not reasons, tuple(reasons))


@dataclass(frozen=True)
class Confirmation:
    notice: catalogue.NoticeVersion
    locale: str
    method: str  # password | essc_face
    at: datetime
    address: str


def confirm(session: Session, *, actor: Actor, item: str, version: str, password: str, locale: str,
            now: datetime, today: date) -> Confirmation:
    """The applicant's confirmation of the notice they were shown; ValidationFailed at the field otherwise.

    A person confirms with the card's face check only (the error is at ``mode``, where the form offers the
    step-up); an employer's operator with their password (the error is at ``password``)."""
    notice = catalogue.notice(item, today)
    principal = actor.principal
    person = principal is not None and principal.kind == "person"
    if version != notice.version:
        raise ValidationFailed({"mode" if person else "password": Msg(N_(
            "The notice has changed since the page was shown. Read it again and confirm.")) })
    if person:
        if not principal.face_verified:
            raise ValidationFailed({"mode": Msg(FACE_NEEDED)})
        return Confirmation(notice, locale, "essc_face", now, actor.address)
    stored = None
    if principal is not None and principal.kind == "employer":
        operator = session.get(EmployerOperator, principal.account_id)
        stored = operator.password_hash if operator and operator.active else None
    if not password:
        raise ValidationFailed({"password": Msg(N_("Enter your password to confirm the commitment."))})
    if wrong_passwords(session, actor=actor, now=now) >= MAX_WRONG_PASSWORDS:
        raise ValidationFailed({"password": Msg(N_(
            "Too many wrong passwords. Try again in %(minutes)s minutes."),
            {"minutes": int(WRONG_PASSWORD_WINDOW.total_seconds() // 60)})})
    if not verify_password(stored, password):
        raise ValidationFailed({"password": Msg(WRONG_PASSWORD)})
    return Confirmation(notice, locale, "password", now, actor.address)


def needs_face(error: ValidationFailed) -> bool:
    """The refusal says the person must confirm with the card's face check first (the form shows the step-up)."""
    message = error.errors.get("mode")
    return message is not None and message.text == FACE_NEEDED


@dataclass(frozen=True)
class Offer:
    """What a person's form sent for a catalogue item: ``commit`` (the notice version read; the session's face
    check confirms it) or ``proof`` (the documents the commitment would replace)."""

    mode: str
    notice_version: str = ""
    locale: str = "zh_CN"
    uploads: tuple = ()


def check_offer(offer: Offer | None, *, eligible: Eligibility, errors: dict[str, Msg]) -> None:
    """The form's choice, checked with its other fields (not yet the confirmation): errors go into ``errors``."""
    if offer is None or offer.mode not in MODES:
        errors["mode"] = Msg(N_("Choose whether you commit to it or attach documents proving it."))
    elif offer.mode == "commit" and not eligible.may_commit:
        errors["mode"] = Msg(N_("You cannot commit instead of proving: attach the documents that prove it."))
    elif offer.mode == "proof" and not offer.uploads:
        errors[attachments.FIELD] = Msg(N_("Attach the documents that prove it."))
    elif offer.mode == "proof":
        try:
            attachments.check(list(offer.uploads))
        except ValidationFailed as invalid:
            errors |= invalid.errors


def confirm_offer(session: Session, *, actor: Actor, item: str, offer: Offer, now: datetime,
                  today: date) -> Confirmation | None:
    """The confirmation of a checked offer to commit (None for proof); ValidationFailed at ``mode`` otherwise."""
    if offer.mode != "commit":
        return None
    return confirm(session, actor=actor, item=item, version=offer.notice_version, password="",
                   locale=offer.locale, now=now, today=today)


def was_wrong_password(error: ValidationFailed) -> bool:
    message = error.errors.get("password")
    return message is not None and message.text == WRONG_PASSWORD


def note_wrong_password(session: Session, *, actor: Actor, now: datetime) -> None:
    """Records a wrong password; the view calls it after the refused request was rolled back, so it is kept."""
    audit.record(session=session, actor=actor, action=REFUSED_ACTION, now=now, object_type="commitment")


def wrong_passwords(session: Session, *, actor: Actor, now: datetime) -> int:
    return session.exec(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == REFUSED_ACTION, AuditEvent.actor_kind == actor.kind, AuditEvent.actor_id == actor.id,
        AuditEvent.at >= now - WRONG_PASSWORD_WINDOW)).one()


def payload_entry(confirmation: Confirmation) -> dict:
    """What the case's details carry of the commitment (the text as read, for the applicant and staff)."""
    text = confirmation.notice.text(confirmation.locale)
    return {"accepted": True, "item": confirmation.notice.item, "version": confirmation.notice.version,
            "sha256": confirmation.notice.sha256, "text": f"{text['item']}. {text['conditions']}",
            "accepted_at": confirmation.at.isoformat(), "confirmed_by": confirmation.method}


def keep_evidence(session: Session, *, case: Case, confirmation: Confirmation, actor: Actor) -> CommitmentEvidence:
    """Stores the evidence with the case (once: a resent form returns the same case and keeps nothing twice)."""
    existing = session.exec(select(CommitmentEvidence).where(CommitmentEvidence.case_id == case.id,
                                                             CommitmentEvidence.item == confirmation.notice.item)).first()
    if existing is not None:
        return existing
    return _kept(session, confirmation=confirmation, actor=actor, subject=credit.Subject(case.applicant_kind,
                                                                                        case.applicant_id),
                 where={"case_id": case.id}, about=("case", case.reference))


def keep_record_evidence(session: Session, *, record_kind: str, record_id: int, subject: credit.Subject,
                         confirmation: Confirmation, actor: Actor) -> CommitmentEvidence:
    """Stores the evidence of a commitment given on a record made without a case (``RECORD_FORMS``), once."""
    if record_kind not in RECORD_FORMS:
        raise ValueError(record_kind)
    existing = session.exec(select(CommitmentEvidence).where(
        CommitmentEvidence.record_kind == record_kind, CommitmentEvidence.record_id == record_id,
        CommitmentEvidence.item == confirmation.notice.item)).first()
    if existing is not None:
        return existing
    return _kept(session, confirmation=confirmation, actor=actor, subject=subject,
                 where={"record_kind": record_kind, "record_id": record_id}, about=(record_kind, record_id))


def _kept(session: Session, *, confirmation: Confirmation, actor: Actor, subject: credit.Subject, where: dict,
          about: tuple) -> CommitmentEvidence:
    principal = actor.principal
    evidence = CommitmentEvidence(
        **where, item=confirmation.notice.item, notice_version=confirmation.notice.version,
        notice_sha256=confirmation.notice.sha256, locale=confirmation.locale, confirmed_by=confirmation.method,
        confirmed_at=confirmation.at, client_address=(confirmation.address or "")[:64],
        account_kind=principal.kind, account_id=principal.account_id, subject_kind=subject.kind,
        subject_id=subject.id)
    session.add(evidence)
    session.flush()
    audit.record(session=session, actor=actor, action="commitment.given", now=confirmation.at,
                 object_type=about[0], object_id=about[1],
                 detail={"item": evidence.item, "version": evidence.notice_version,
                         "sha256": evidence.notice_sha256, "by": evidence.confirmed_by})
    return evidence


def evidence_of(session: Session, *, case: Case) -> list[CommitmentEvidence]:
    return list(session.exec(select(CommitmentEvidence).where(CommitmentEvidence.case_id == case.id)
                             .order_by(CommitmentEvidence.id)).all())


def rested_on(session: Session, *, case: Case) -> list[CommitmentEvidence]:
    """Commitments a case rests on that were given on a record without a case, for staff deciding it: a survivors'
    claim rests on the death report, which a family member may have committed to instead of the certificate."""
    if case.kind != "survivor_claim":
        return []
    deceased_id = int(cases.payload_of(case).get("deceased_id", 0) or 0)
    reports = select(DeathReport.id).where(DeathReport.person_id == deceased_id)
    return list(session.exec(select(CommitmentEvidence).where(CommitmentEvidence.record_kind == "death_report",
                                                              CommitmentEvidence.record_id.in_(reports))).all())


def record_evidence(session: Session, *, record_kind: str, record_ids: list[int]) -> dict[int, CommitmentEvidence]:
    """The evidence kept on records of one kind, by record id (for the pages that list those records)."""
    if not record_ids:
        return {}
    rows = session.exec(select(CommitmentEvidence).where(CommitmentEvidence.record_kind == record_kind,
                                                         CommitmentEvidence.record_id.in_(record_ids))).all()
    return {row.record_id: row for row in rows}
