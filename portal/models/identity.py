"""Proving that an online account belongs to its person: claims and the codes that prove them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from portal.models.base import utc_field


class IdentityClaim(SQLModel, table=True):
    """Someone asks for the account of an identity number (to register or reset the password), or a
    signed-in account asks to prove itself. Nothing happens to any account until a code proves the claim.

    ``person_id`` is empty when no record matches the number and name: the claim then can never be proven,
    but the visitor is told exactly what everyone else is told, so the answer reveals nothing.
    """

    __tablename__ = "identity_claim"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)  # sha256 of the token in the visitor's cookie
    purpose: str = Field(max_length=10)  # register | reset | prove
    id_number: str = Field(max_length=18)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    account_id: int | None = Field(default=None, foreign_key="person_account.id")
    password_hash: str = Field(default="", max_length=200)  # the password to set once proven
    client_address: str = Field(default="", max_length=45)
    failed_attempts: int = 0
    created_at: datetime = utc_field()
    expires_at: datetime = utc_field()
    completed_at: datetime | None = utc_field(nullable=True)


class IdentityCode(SQLModel, table=True):
    """A one-time code sent by SMS to the number on record, or an activation code printed at a counter.

    Only an argon2 hash is kept; a code expires, is used once, and takes a limited number of wrong tries.
    """

    __tablename__ = "identity_code"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=8)  # sms | letter
    person_id: int = Field(foreign_key="person.id", index=True)
    claim_id: int | None = Field(default=None, foreign_key="identity_claim.id", index=True)  # sms codes only
    mobile: str = Field(default="", max_length=11, index=True)  # where an sms code went (the per-number limit)
    code_hash: str = Field(max_length=200)
    client_address: str = Field(default="", max_length=45)
    issued_by: int | None = Field(default=None, foreign_key="staff_member.id")  # letters: the counter's staff
    failed_attempts: int = 0
    created_at: datetime = utc_field(index=True)
    expires_at: datetime = utc_field()
    used_at: datetime | None = utc_field(nullable=True)
