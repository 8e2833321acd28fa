"""Documents an applicant attaches to a case (PDF, JPEG, PNG), and the commitment they accepted.

The type is decided from the file's first bytes, never from its name or the browser's word
for it, and the download always goes out as an attachment with ``nosniff``, so a document can
never run as a page of this site. Attaching is all or nothing: every file is checked before
any is stored. Only the applicant (any operator of an applicant employer) may attach, and only
while the case is being submitted or answered.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from portal import audit
from portal.auth.principal import Actor
from portal.errors import N_, Msg, NotFound, ValidationFailed
from portal.models import Case, CaseAttachment
from portal.queue.errors import ActionRefused
from portal.queue.parties import applicant_of
from portal.queue.states import Refusal, State

# A technical limit of the store, not a policy figure: scans of a few pages fit well within it.
MAX_BYTES = 10 * 1024 * 1024
MAX_PER_CASE = 20
FIELD = "attachment"
# First bytes → the type served back. Nothing else is accepted.
SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
)
# While the applicant is still the one holding the case.
ATTACHABLE_STATES = (State.SUBMITTED, State.CHECKED, State.WAITING_FOR_APPLICANT)


@dataclass(frozen=True)
class Upload:
    filename: str
    content: bytes


@dataclass(frozen=True)
class Listed:
    """An attachment without its content, for lists."""

    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime


def sniff(content: bytes) -> str | None:
    for magic, content_type, _extension in SIGNATURES:
        if content.startswith(magic):
            return content_type
    return None


def clean_filename(name: str, content_type: str) -> str:
    """The name as shown and downloaded: no folders, no control characters, a sensible length and extension."""
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    name = re.sub(r"\s+", " ", name)[:150]
    extension = next(ext for _m, ct, ext in SIGNATURES if ct == content_type)
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{stem or 'document'}.{extension}"


def check(uploads: list[Upload]) -> list[tuple[Upload, str]]:
    """Every upload with its type, or ValidationFailed naming the first bad one (nothing is stored)."""
    checked = []
    for upload in uploads:
        if not upload.content:
            raise ValidationFailed({FIELD: Msg(N_("The file %(name)s is empty."), {"name": upload.filename})})
        if len(upload.content) > MAX_BYTES:
            raise ValidationFailed({FIELD: Msg(N_("The file %(name)s is larger than %(limit)s MB."),
                                               {"name": upload.filename, "limit": MAX_BYTES // (1024 * 1024)})})
        content_type = sniff(upload.content)
        if content_type is None:
            raise ValidationFailed({FIELD: Msg(N_(
                "The file %(name)s is not a PDF, JPEG or PNG document. Scan or save it as one of those."),
                {"name": upload.filename})})
        checked.append((upload, content_type))
    return checked


def attach(session: Session, *, case: Case, actor: Actor, uploads: list[Upload], now: datetime) -> list[CaseAttachment]:
    """Stores the applicant's documents on their case, after checking all of them."""

    if not uploads:
        return []
    principal = actor.principal
    if principal is None or principal.kind not in ("person", "employer"):
        raise ActionRefused(Refusal.ROLE_REQUIRED)
    who = applicant_of(actor)
    if (who.kind, who.id) != (case.applicant_kind, case.applicant_id):
        raise ActionRefused(Refusal.NOT_OWN_CASE)
    if case.state not in ATTACHABLE_STATES:
        raise ActionRefused(Refusal.NOT_ALLOWED_IN_STATE)
    checked = check(uploads)
    if count_for(session, case=case) + len(checked) > MAX_PER_CASE:
        raise ValidationFailed({FIELD: Msg(N_("A request can carry at most %(limit)s documents."),
                                           {"limit": MAX_PER_CASE})})
    stored = []
    for upload, content_type in checked:
        row = CaseAttachment(case_id=case.id, filename=clean_filename(upload.filename, content_type),
                             content_type=content_type, size=len(upload.content),
                             sha256=hashlib.sha256(upload.content).hexdigest(), content=upload.content,
                             uploaded_at=now, uploaded_by_kind=principal.kind, uploaded_by_id=principal.account_id)
        session.add(row)
        stored.append(row)
    session.flush()
    for row in stored:
        audit.record(session=session, actor=actor, action="case.attachment_added", now=now, object_type="case",
                     object_id=case.reference, detail={"attachment": row.id, "filename": row.filename,
                                                       "type": row.content_type, "size": row.size,
                                                       "sha256": row.sha256})
    return stored


def count_for(session: Session, *, case: Case) -> int:
    return len(session.exec(select(CaseAttachment.id).where(CaseAttachment.case_id == case.id)).all())


def listed(session: Session, *, case: Case) -> list[Listed]:
    """The case's documents, oldest first, without loading their content."""
    rows = session.exec(
        select(CaseAttachment.id, CaseAttachment.filename, CaseAttachment.content_type, CaseAttachment.size,
               CaseAttachment.sha256, CaseAttachment.uploaded_at)
        .where(CaseAttachment.case_id == case.id).order_by(CaseAttachment.uploaded_at, CaseAttachment.id)
    ).all()
    return [Listed(*row) for row in rows]


def load(session: Session, *, case: Case, attachment_id: int) -> CaseAttachment:
    """One document of a case the caller has already been allowed to see (portal.queue.service.load_case)."""
    row = session.get(CaseAttachment, attachment_id)
    if row is None or row.case_id != case.id:
        raise NotFound()
    return row


def commitment_of(payload: dict) -> dict | None:
    """The commitment (告知承诺) the applicant accepted, when the request carries one."""
    value = payload.get("commitment")
    if not isinstance(value, dict) or not value.get("text"):
        return None
    accepted_at = value.get("accepted_at")
    if isinstance(accepted_at, str):
        try:
            accepted_at = datetime.fromisoformat(accepted_at)
        except ValueError:
            pass  # shown as written
    if isinstance(accepted_at, datetime) and accepted_at.tzinfo is None:
        accepted_at = None  # a time without a zone cannot be shown correctly; the text still stands
    return {"text": str(value["text"]), "accepted_at": accepted_at}
