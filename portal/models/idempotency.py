"""What a state-changing form's first submission answered, so a second one with the same key answers the same."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.models.base import utc_field


class IdempotencyKey(SQLModel, table=True):
    """One submitted form: its key, whose it is, and where its answer sent the visitor.

    The row is written before the work, in the same transaction, so a concurrent submission with the same
    key waits on the unique constraint and then finds the answer; a failed submission leaves no row.
    """

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_idempotency_key_scope_key"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=80)  # the signed-in account (kind:id), else a hash of the visitor's cookie
    key: str = Field(max_length=64)
    method: str = Field(max_length=8)
    path: str = Field(max_length=300)
    status_code: int | None = None  # None while the first submission runs
    location: str | None = Field(default=None, max_length=2000)
    flash: str | None = Field(default=None, max_length=2000)  # the signed confirmation shown on the next page
    created_at: datetime = utc_field()
    expires_at: datetime = utc_field(index=True)
