"""A checked base declaration waiting for the operator's confirmation (between preview and confirm)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from portal.models.base import utc_field


class DeclarationDraft(SQLModel, table=True):
    """Rows that passed every check, kept server-side under a random token so the confirm step never trusts
    rows sent back by the browser. ``rows`` is JSON: ``[[person_id, wage_fen, base_fen, clamped], ...]``."""

    __tablename__ = "declaration_draft"

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64, unique=True)
    employer_id: int = Field(foreign_key="employer.id", index=True)
    operator_id: int
    contribution_year: int
    source: str = Field(max_length=8)  # form | csv | xlsx
    row_count: int
    rows: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = utc_field()
