"""Shared column helpers for SQLModel tables."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field

from portal.models.types import UTCDateTime


def utc_field(*, nullable: bool = False, index: bool = False, **kwargs) -> datetime:
    """A timezone-aware UTC timestamp column."""
    return Field(sa_type=UTCDateTime(), nullable=nullable, index=index, **kwargs)
