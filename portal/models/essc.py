"""The electronic social security card sign-in: links to the card provider's subjects and QR sign-in codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.models.base import utc_field


class CardLink(SQLModel, table=True):
    """A person account as the card provider knows it. Made at the first card sign-in that matched the identity
    number; later sign-ins find the account by the provider's ``sub`` alone."""

    __tablename__ = "essc_link"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="person_account.id", index=True)
    issuer: str = Field(max_length=200)
    subject: str = Field(max_length=255)
    created_at: datetime = utc_field()
    last_used_at: datetime = utc_field()


class QrSignIn(SQLModel, table=True):
    """A QR code on the sign-in page: a one-time card sign-in started for one browser and confirmed on another
    device. The browser that shows it holds a secret whose hash is ``token_hash``; the provider's answer comes
    back with ``state``. Lives two minutes; used once."""

    __tablename__ = "essc_qr_sign_in"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    state: str = Field(max_length=64, unique=True)
    nonce: str = Field(max_length=64)
    code_verifier: str = Field(max_length=128)
    next_url: str = Field(default="", max_length=500)
    client_address: str = Field(default="", max_length=45)
    created_at: datetime = utc_field()
    expires_at: datetime = utc_field()
    confirmed_at: datetime | None = utc_field(nullable=True)
    account_id: int | None = Field(default=None, foreign_key="person_account.id")
    assurance: str = Field(default="", max_length=8)
    used_at: datetime | None = utc_field(nullable=True)
