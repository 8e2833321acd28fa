"""What a request form sends to commit (告知承诺) instead of proving: the notice shown, and the confirmation.

An employer's operator confirms with the password again; a person only with a session signed in with the electronic
social security card and its face check (never the password)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy import update

from portal.auth.principal import Actor
from portal.models import WebSession
from portal.policy import commitments
from portal.services.commitments import Offer
from tests.factories import PASSWORD

DEFERRAL_ITEM = "deferral_hardship"


def notice_version(item: str = DEFERRAL_ITEM, on: date = date(2026, 11, 28)) -> str:
    return commitments.notice(item, on).version


# Keyword arguments of applications.submit_deferral for an employer's operator who commits (the password again).
COMMIT = {"mode": "commit", "password": PASSWORD, "notice_version": notice_version()}
# The same as form fields, for the employer's web page.
COMMIT_FIELDS = {"mode": "commit", "password": PASSWORD, "notice_version": notice_version()}


def person_commit_fields(item: str, *, prefix: str = "") -> dict:
    """What a person's form sends to commit: the choice and the notice version read (no password field)."""
    return {f"{prefix}mode": "commit", f"{prefix}notice_version": notice_version(item)}


def offer(item: str, mode: str = "commit", *, uploads: tuple = ()) -> Offer:
    """What a person's request form sends for a catalogue item: commit (the session's face check confirms it), or
    prove with files."""
    return Offer(mode=mode, notice_version=notice_version(item) if mode == "commit" else "", uploads=uploads)


def face(actor: Actor) -> Actor:
    """The same person acting from a session signed in with the card and its face check."""
    return replace(actor, principal=replace(actor.principal, assurance="face"))


def face_checked(db, *, account_id: int) -> None:
    """The person's web sessions pass the card's face check (as the step-up at the provider would make them)."""
    db.exec(update(WebSession).where(WebSession.account_kind == "person", WebSession.account_id == account_id)
            .values(assurance="face"))
    db.commit()
