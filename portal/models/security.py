"""Server-side sessions and the tamper-evident audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from portal.models.base import utc_field


class WebSession(SQLModel, table=True):
    """A signed-in session. Only a hash of the cookie value is stored."""

    __tablename__ = "web_session"
    id: str = Field(primary_key=True, max_length=64)  # sha256 hex of the cookie token
    account_kind: str = Field(max_length=10)  # person | employer | staff
    account_id: int = Field(index=True)
    created_at: datetime = utc_field()
    last_seen_at: datetime = utc_field()
    client_address: str = Field(default="", max_length=45)
    # How the person signed in: password | card | face (a card sign-in with the provider's face check).
    assurance: str = Field(default="password", max_length=8)
    # A card sign-in: the provider's ID token, sent back to it as id_token_hint when the person signs out, so the
    # provider ends its own session too (OpenID Connect RP-Initiated Logout). Empty for every other sign-in.
    id_token: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class AuditEvent(SQLModel, table=True):
    """One security or business event. Rows are only ever appended; once sealed, each hashes the previous.

    ``seq`` is given by the database on insert; ``chain_pos``, ``prev_hash`` and ``hash`` are
    filled in by the sealer (portal.audit), empty until then.
    """

    __tablename__ = "audit_event"
    seq: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_field(index=True)
    actor_kind: str = Field(max_length=10)  # person | employer | staff | system | anonymous
    actor_id: str = Field(default="", max_length=40)
    client_address: str = Field(default="", max_length=45, index=True)
    action: str = Field(max_length=60, index=True)
    object_type: str = Field(default="", max_length=40)
    object_id: str = Field(default="", max_length=60)
    detail: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    chain_pos: int | None = Field(default=None, unique=True)  # 1, 2, 3, … in sealing order
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)


class AuditHead(SQLModel, table=True):
    """The sealed chain's tip, one row; only the sealer locks it, so the chain has no forks."""

    __tablename__ = "audit_head"
    id: int = Field(default=1, primary_key=True)
    last_seq: int = 0  # the seq of the last sealed event
    last_pos: int = 0  # its chain position: how many events are sealed
    last_hash: str = Field(default="0" * 64, max_length=64)
