"""What a request form sends to commit (告知承诺) instead of proving: the notice shown and the password again."""

from __future__ import annotations

from datetime import date

from portal.policy import commitments
from portal.services.commitments import Offer
from tests.factories import PASSWORD

DEFERRAL_ITEM = "deferral_hardship"


def notice_version(item: str = DEFERRAL_ITEM, on: date = date(2026, 11, 28)) -> str:
    return commitments.notice(item, on).version


# Keyword arguments of applications.submit_deferral for an applicant who commits.
COMMIT = {"mode": "commit", "password": PASSWORD, "notice_version": notice_version()}
# The same as form fields, for the web page.
COMMIT_FIELDS = {"mode": "commit", "password": PASSWORD, "notice_version": notice_version()}


def offer(item: str, mode: str = "commit", *, password: str = PASSWORD, uploads: tuple = ()) -> Offer:
    """What a person's request form sends for a catalogue item: commit with the password, or prove with files."""
    return Offer(mode=mode, password=password if mode == "commit" else "",
                 notice_version=notice_version(item) if mode == "commit" else "", uploads=uploads)
