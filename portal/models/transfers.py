"""Transfers of the pension relationship between provinces (转移接续) and the signed messages that carry them.

A transfer has three legs, each with its own working-day clock: the new place's contact letter (联系函), the old
place's transfer of funds and record, the new place's merge. Into Jilin, Jilin does the first and the last leg;
out of Jilin, Jilin does the middle one. Messages between provinces are kept as they were sent or received
(body and signature), so a replay is recognised by its sender and message id.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.models.base import utc_field

DIRECTIONS = ("in", "out")
ACCOUNT_TYPES = ("general", "temporary")
# in:  applied → letter_sent → merged   (query: the amounts disagree; refused: the letter was not issued;
#      temporary: a temporary contribution account was opened instead, nothing moves)
# out: letter_received → sent → completed                (refused: staff did not confirm)
STATES = ("applied", "letter_sent", "query", "merged", "refused", "temporary", "letter_received", "sent", "completed")
LEGS = ("letter", "transfer", "merge")


class Transfer(SQLModel, table=True):
    """One transfer of one person's relationship, into Jilin or out of it."""

    __tablename__ = "transfer"
    __table_args__ = (Index("ix_transfer_person", "person_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=20, unique=True)  # ZY + yyyymmdd + 6 digits: quoted in every message
    direction: str = Field(max_length=3)  # in | out
    person_id: int = Field(foreign_key="person.id")
    other_province: str = Field(max_length=6)  # the province left (in) or going to (out)
    other_reference: str = Field(default="", max_length=40)  # the other province's own number for it
    hukou_province: str = Field(default="", max_length=6)  # the household registration as the person gave it
    exemption: str = Field(default="", max_length=32)  # why a temporary account does not apply, when one was claimed
    account_type: str = Field(default="general", max_length=10)  # general | temporary (into Jilin)
    decision_json: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # the engine's explanation
    periods_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # [{"start","end"}] there
    state: str = Field(max_length=16)
    case_id: int | None = Field(default=None, foreign_key="queue_case.id")
    amounts_json: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # expected / received / sent
    query_json: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # the open query, if any
    certificate_code: str = Field(default="", max_length=16)  # out: the 参保缴费凭证's verification code
    # in: the personal account received, credited to the person's Jilin account on the day of the merge (the
    # yearly interest run adds it to that year's credits, with interest from that month)
    account_credit_fen: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    credited_on: date | None = None
    # out: the payment order that pays what moves to the other province (payer: the provincial fund)
    payment_order_id: int | None = Field(default=None, foreign_key="payment_order.id")
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class TransferLeg(SQLModel, table=True):
    """One leg of a transfer with its clock: started, due (working days), done; flagged once when overdue."""

    __tablename__ = "transfer_leg"
    __table_args__ = (UniqueConstraint("transfer_id", "leg", name="uq_transfer_leg"),
                      Index("ix_transfer_leg_open", "done_on", "due_on"))

    id: int | None = Field(default=None, primary_key=True)
    transfer_id: int = Field(foreign_key="transfer.id")
    leg: str = Field(max_length=10)  # letter | transfer | merge
    position: int  # 1, 2, 3
    by_jilin: bool  # whether Jilin does this leg (else the other province)
    started_on: date | None = None
    due_on: date | None = None
    due_provisional_year: int | None = None  # the first counted year whose holidays are not announced yet
    done_on: date | None = None
    overdue_flagged_at: datetime | None = utc_field(nullable=True)


class ProvinceMessage(SQLModel, table=True):
    """A signed message exchanged with another province, kept as sent or received."""

    __tablename__ = "province_message"
    __table_args__ = (UniqueConstraint("direction", "province", "message_id", name="uq_province_message"),)

    id: int | None = Field(default=None, primary_key=True)
    direction: str = Field(max_length=3)  # in (received by Jilin) | out (sent by Jilin)
    province: str = Field(max_length=6)  # the other province: sender of an incoming, addressee of an outgoing
    message_id: str = Field(max_length=64)
    kind: str = Field(max_length=20)  # contact_letter | transfer | merged | query
    transfer_id: int | None = Field(default=None, foreign_key="transfer.id", index=True)
    at: datetime = utc_field()
    signed_at: int  # the sender's timestamp (seconds since the epoch), part of what is signed
    body: str = Field(sa_column=Column(Text, nullable=False))
    signature: str = Field(max_length=64)
    result: str = Field(default="", max_length=20)
