"""Insurance certificates (参保证明) as issued: what a third party can later verify by the code."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from portal.models.base import utc_field


class Certificate(SQLModel, table=True):
    """One issued certificate. The content is frozen here, so verifying shows what was issued, not today's record."""

    __tablename__ = "certificate"
    __table_args__ = (Index("ix_certificate_person_issued", "person_id", "issued_on"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)  # the verification code, from a readable alphabet
    person_id: int = Field(foreign_key="person.id")
    issued_at: datetime = utc_field()
    issued_on: date  # the issue date in China, for "one certificate per person, day and content"
    cumulative_months: int = 0
    periods_json: str = Field(sa_column=Column(Text, nullable=False))  # [{"start","end","months","kind","employer"}]
    content_hash: str = Field(max_length=64)  # SHA-256 of the person, periods and months as issued
