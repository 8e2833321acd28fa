"""The central handling queue (统一经办): cases, their history, and notices to applicants.

The table is ``queue_case`` rather than ``case``: CASE is a reserved word in SQL and
raw statements (take next, the benchmark) should not have to quote it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.models.base import utc_field


class Case(SQLModel, table=True):
    """One request that needs a decision, from submission to closing."""

    __tablename__ = "queue_case"
    __table_args__ = (
        UniqueConstraint("applicant_kind", "applicant_id", "idempotency_key", name="uq_queue_case_idempotency"),
        Index("ix_queue_case_state_due", "state", "due_on", "submitted_at"),
        # The workbench lists every open case most urgent first: walk this index and stop after a page.
        Index("ix_queue_case_due", "due_on", "submitted_at", "id"),
        Index("ix_queue_case_kind_state", "kind", "state"),
        Index("ix_queue_case_handler_state", "handler_id", "state"),
        Index("ix_queue_case_applicant", "applicant_kind", "applicant_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=16, unique=True)  # JL + yyyymmdd + 6-digit sequence of that day
    kind: str = Field(max_length=30)
    applicant_kind: str = Field(max_length=10)  # person | employer
    applicant_id: int  # person.id or employer.id
    applicant_account_id: int | None = None  # the person account or employer operator who filed it
    counter_staff_id: int | None = Field(default=None, foreign_key="staff_member.id")  # filed at a counter by
    prefecture: str = Field(max_length=6)
    channel: str = Field(default="web", max_length=10)  # web | counter
    payload: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    risk_tier: str = Field(default="B", max_length=1)
    route: str = Field(max_length=10)  # auto | single | dual, from the routing table at submission
    state: str = Field(max_length=24)
    handler_id: int | None = Field(default=None, foreign_key="staff_member.id")
    reviewer_id: int | None = Field(default=None, foreign_key="staff_member.id")
    recommendation: str | None = Field(default=None, max_length=10)
    recommendation_reason: str | None = Field(default=None, max_length=40)
    checks_passed: bool | None = None
    check_results: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    submitted_at: datetime = utc_field()
    opened_at: datetime | None = utc_field(nullable=True)  # first time a handler held it
    due_on: date
    # The first year without an announced holiday schedule that due_on counts through (it may still
    # move); None once the due date is final. ``portal queue auto`` recomputes it when the year is encoded.
    due_provisional_year: int | None = Field(default=None, index=True)
    paused_since: date | None = None  # set while waiting for the applicant
    pauses: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # [[from, to], ...] ISO dates
    version: int = 1
    idempotency_key: str = Field(max_length=64)
    decided_at: datetime | None = utc_field(nullable=True)
    outcome: str | None = Field(default=None, max_length=10)  # approved | rejected: kept once the case is closed
    closed_at: datetime | None = utc_field(nullable=True)
    updated_at: datetime = utc_field()


class CaseEvent(SQLModel, table=True):
    """One step in a case's history. Rows are only appended."""

    __tablename__ = "case_event"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="queue_case.id", index=True)
    at: datetime = utc_field()
    actor_kind: str = Field(max_length=10)  # person | employer | staff | system
    actor_id: int | None = None
    action: str = Field(max_length=30)
    from_state: str | None = Field(default=None, max_length=24)
    to_state: str = Field(max_length=24)
    reason_code: str | None = Field(default=None, max_length=40)
    note: str = Field(default="", max_length=1000)


class CaseCounter(SQLModel, table=True):
    """The last reference number handed out on a day; the row is locked while a number is taken."""

    __tablename__ = "case_counter"
    day: str = Field(primary_key=True, max_length=8)  # yyyymmdd, China time
    last: int = 0


class Notice(SQLModel, table=True):
    """A message to an applicant, shown in their inbox; the title is a message id with parameters."""

    __tablename__ = "notice"
    __table_args__ = (Index("ix_notice_recipient", "recipient_kind", "recipient_id", "read_at"),)
    id: int | None = Field(default=None, primary_key=True)
    recipient_kind: str = Field(max_length=10)  # person | employer
    recipient_id: int  # person.id or employer.id
    case_id: int | None = Field(default=None, foreign_key="queue_case.id")
    at: datetime = utc_field()
    title: str = Field(max_length=200)  # English message id
    params: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    read_at: datetime | None = utc_field(nullable=True)


class CaseAttachment(SQLModel, table=True):
    """A document the applicant attached to a case (a PDF or a photo), stored in the database.

    The content lives in the row so every worker on every host serves it from the one database;
    the service caps each file's size. List attachments without loading ``content``.
    """

    __tablename__ = "case_attachment"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="queue_case.id", index=True)
    filename: str = Field(max_length=200)  # as the applicant named it, for display and download only
    content_type: str = Field(max_length=40)  # decided from the file's first bytes, not its name
    size: int
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    uploaded_at: datetime = utc_field()
    uploaded_by_kind: str = Field(max_length=10)  # person | employer
    uploaded_by_id: int | None = None  # the account that uploaded it
