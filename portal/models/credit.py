"""Trust: commitments given instead of proof (告知承诺), credit events and ratings (信用评级), and the
serious-dishonesty list (社会保险领域严重失信人名单, 人社部规〔2019〕2号).

A subject is a person or an employer (``subject_kind`` + ``subject_id``), as a case's applicant is.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from portal.models.base import utc_field


class CreditEvent(SQLModel, table=True):
    """Something that counts for or against a subject's rating, with the day it happened. Rows are only added;
    an objection upheld marks one ``annulled`` (it then counts for nothing but stays in the history)."""

    __tablename__ = "credit_event"
    __table_args__ = (Index("ix_credit_event_subject", "subject_kind", "subject_id", "occurred_on"),)
    id: int | None = Field(default=None, primary_key=True)
    subject_kind: str = Field(max_length=10)  # person | employer
    subject_id: int
    kind: str = Field(max_length=30)  # a key of the credit_scoring parameter's weights
    occurred_on: date
    recorded_at: datetime = utc_field()
    case_id: int | None = Field(default=None, foreign_key="queue_case.id")
    recorded_by: int | None = Field(default=None, foreign_key="staff_member.id")  # None: recorded by the system
    note: str = Field(default="", max_length=500)
    annulled_at: datetime | None = utc_field(nullable=True)
    annulled_by_case_id: int | None = Field(default=None, foreign_key="queue_case.id")


class CreditRating(SQLModel, table=True):
    """The latest score and grade of a subject with any event; a subject without a row has the base score."""

    __tablename__ = "credit_rating"
    subject_kind: str = Field(max_length=10, primary_key=True)
    subject_id: int = Field(primary_key=True)
    score: int
    grade: str = Field(max_length=1)  # A | B | C | D
    listed: bool = False  # on the serious-dishonesty list on computed_on
    computed_on: date
    computed_at: datetime = utc_field()


class CommitmentEvidence(SQLModel, table=True):
    """What proves that an applicant committed: the notice they were shown (its version and hash), when, from which
    address, by which account, and how they confirmed (an operator's password again, or a person's card face check).

    On a case (``case_id``), or on a record made without one (``record_kind`` + ``record_id``: a death report, a
    certification by a linked family member). The record reference has no foreign key: the evidence outlives a
    record withdrawn later (a death recorded in error), as the audit log does."""

    __tablename__ = "commitment_evidence"
    __table_args__ = (Index("ix_commitment_evidence_record", "record_kind", "record_id"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="queue_case.id", index=True)
    record_kind: str = Field(default="", max_length=20)  # "" on a case | death_report | life_certification
    record_id: int | None = None
    item: str = Field(max_length=40)  # the commitment catalogue's item code
    notice_version: str = Field(max_length=20)
    notice_sha256: str = Field(max_length=64)
    locale: str = Field(max_length=10)  # the language the notice was shown in
    confirmed_by: str = Field(max_length=12)  # password | essc_face
    confirmed_at: datetime = utc_field()
    client_address: str = Field(default="", max_length=64)
    account_kind: str = Field(max_length=10)  # person | employer (an employer's operator)
    account_id: int
    subject_kind: str = Field(max_length=10)
    subject_id: int
    # Set when a later check finds the commitment false (the spot check's case), else None.
    found_false_at: datetime | None = utc_field(nullable=True)
    found_false_case_id: int | None = Field(default=None, foreign_key="queue_case.id")


class DishonestyListing(SQLModel, table=True):
    """One entry of the serious-dishonesty list, from the proposal to its removal; rows are never deleted.

    proposed → (the second person decides) listed | rejected; listed → removed. A listed entry is public from
    ``effective_on`` (after the period to state one's case) until ``ends_on`` or its removal.
    """

    __tablename__ = "dishonesty_listing"
    __table_args__ = (Index("ix_dishonesty_listing_subject", "subject_kind", "subject_id"),
                      Index("ix_dishonesty_listing_state", "state", "effective_on"))
    id: int | None = Field(default=None, primary_key=True)
    subject_kind: str = Field(max_length=10)
    subject_id: int
    trigger: str = Field(max_length=40)  # a trigger code of 人社部规〔2019〕2号 (portal/services/trust_data)
    finding: str = Field(default="", sa_column=Column(Text, nullable=False))
    state: str = Field(max_length=10)  # proposed | listed | rejected | removed
    proposed_at: datetime = utc_field()
    proposed_by: int = Field(foreign_key="staff_member.id")
    case_id: int | None = Field(default=None, foreign_key="queue_case.id")  # the decision's case
    statement_until: date  # the subject may state their case until this day (inclusive)
    decided_at: datetime | None = utc_field(nullable=True)
    effective_on: date | None = None
    ends_on: date | None = None
    removed_at: datetime | None = utc_field(nullable=True)
    removal_reason: str = Field(default="", max_length=40)  # period_ended | repaired | objection_upheld
