"""Employment, contribution records, personal accounts, bills and payments.

Money is integer fen (``*_fen``, BigInteger) and is turned into ``Decimal`` yuan only at the service
boundary (``portal.policy.money``). A month is the date of its first day. ``end_month`` is inclusive: the last
month a spell or enrolment covers.

A bill's lines are the contribution months carrying its ``bill_id``: the amounts are kept once, on the month
(there is no separate bill-line table since migration 0026; a line's amount is employer part + individual part).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from portal.models.base import utc_field

SOURCES = ("employer_filing", "flexible_payment", "back_payment", "transfer_in", "deemed")
STATUSES = ("billed", "paid", "arrears", "deferred")
BILL_STATUSES = ("open", "arrears", "paid")
ORDER_STATUSES = ("pending", "paid", "cancelled", "voided")  # voided: replaced by a newer order


def _fen(*, nullable: bool = False, default: int | None = 0) -> int:
    return Field(default=default, sa_column=Column(BigInteger, nullable=nullable))


class EmploymentSpell(SQLModel, table=True):
    """A period of enterprise employment (增员 opens it, 减员 ends it). At most one open spell per person."""

    __tablename__ = "employment_spell"
    __table_args__ = (
        Index("uq_employment_spell_open", "person_id", unique=True,
              sqlite_where=text("end_month IS NULL"), postgresql_where=text("end_month IS NULL")),
        Index("ix_employment_spell_employer", "employer_id", "end_month"),
        Index("ix_employment_spell_person", "person_id", "start_month"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    employer_id: int = Field(foreign_key="employer.id")
    start_month: date
    end_month: date | None = None
    end_reason: str = Field(default="", max_length=20)  # resigned | dismissed | retired | died | transferred | other
    wage_fen: int = _fen()  # monthly wage declared when the person was enrolled
    created_at: datetime = utc_field()
    ended_at: datetime | None = utc_field(nullable=True)


class BaseDeclaration(SQLModel, table=True):
    """An employer's yearly declaration of a person's wage for a contribution year (July-June)."""

    __tablename__ = "base_declaration"
    __table_args__ = (
        UniqueConstraint("employer_id", "contribution_year", "person_id", name="uq_base_declaration"),
    )

    id: int | None = Field(default=None, primary_key=True)
    employer_id: int = Field(foreign_key="employer.id")
    contribution_year: int  # the calendar year in which the contribution year's July falls
    person_id: int = Field(foreign_key="person.id", index=True)
    wage_fen: int = _fen()
    base_fen: int = _fen()
    clamped: str | None = Field(default=None, max_length=5)  # floor | cap | None
    created_at: datetime = utc_field()


class FlexibleEnrolment(SQLModel, table=True):
    """A flexible worker's (灵活就业) enrolment; at most one open per person."""

    __tablename__ = "flexible_enrolment"
    __table_args__ = (
        Index("uq_flexible_enrolment_open", "person_id", unique=True,
              sqlite_where=text("end_month IS NULL"), postgresql_where=text("end_month IS NULL")),
        Index("ix_flexible_enrolment_person", "person_id", "start_month"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    start_month: date
    end_month: date | None = None
    end_reason: str = Field(default="", max_length=20)
    created_at: datetime = utc_field()


class FlexibleBaseChoice(SQLModel, table=True):
    """The base percent (60-300 of the average wage) a flexible worker chose for one contribution year."""

    __tablename__ = "flexible_base_choice"
    __table_args__ = (UniqueConstraint("enrolment_id", "contribution_year", name="uq_flexible_base_choice"),)

    id: int | None = Field(default=None, primary_key=True)
    enrolment_id: int = Field(foreign_key="flexible_enrolment.id")
    contribution_year: int
    base_percent: int
    created_at: datetime = utc_field()


class ContributionMonth(SQLModel, table=True):
    """One insured month of one person from one source: the line of the 权益记录.

    On PostgreSQL the table is partitioned by the year of ``month`` (migration 0027), its primary key there
    (id, month) as partitioning requires; the id alone stays unique (one sequence) and is the key here."""

    __tablename__ = "contribution_month"
    __table_args__ = (
        UniqueConstraint("person_id", "month", "source", name="uq_contribution_month"),
        # Only months billed and not yet paid: what the billing run and arrears work on. Paid history (the
        # bulk of the table) stays out of it; the person index serves the record and the interest run.
        Index("ix_contribution_month_billed", "month",
              sqlite_where=text("status = 'billed'"), postgresql_where=text("status = 'billed'")),
        # What is on a bill: deleting or checking a bill would otherwise scan the whole history for its months.
        Index("ix_contribution_month_bill", "bill_id",
              sqlite_where=text("bill_id IS NOT NULL"), postgresql_where=text("bill_id IS NOT NULL")),
        # Back payments by the day they were recorded: monitoring counts them by that month, a few rows among
        # hundreds of millions that a plain scan would read in full.
        Index("ix_contribution_month_back_payment", "created_at",
              sqlite_where=text("source = 'back_payment'"), postgresql_where=text("source = 'back_payment'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    month: date
    base_fen: int = _fen()
    employer_part_fen: int = _fen()
    individual_part_fen: int = _fen()
    personal_account_fen: int = _fen()
    source: str = Field(max_length=16)
    status: str = Field(max_length=10)
    employer_id: int | None = Field(default=None, foreign_key="employer.id")
    # The bill the month is on (its line there): a bill's lines are its months, read by ix_contribution_month_bill.
    bill_id: int | None = Field(default=None, foreign_key="bill.id")
    created_at: datetime = utc_field()


class PersonalAccountYear(SQLModel, table=True):
    """The personal account (个人账户) for one calendar year, as credited by the interest run."""

    __tablename__ = "personal_account_year"
    __table_args__ = (UniqueConstraint("person_id", "year", name="uq_personal_account_year"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    year: int
    opening_balance_fen: int = _fen()
    contributions_fen: int = _fen()
    interest_fen: int = _fen()
    closing_balance_fen: int = _fen()
    interest_rate: str = Field(max_length=12)  # the crediting rate as a decimal string, e.g. "0.0262"
    credited_at: datetime = utc_field()


class Bill(SQLModel, table=True):
    """What one payer (an employer, or a flexible worker) owes for one month; ``part`` > 1 for later additions."""

    __tablename__ = "bill"
    __table_args__ = (
        UniqueConstraint("payer_kind", "payer_id", "month", "part", name="uq_bill_payer_month_part"),
        Index("ix_bill_status_due", "status", "due_date"),
        Index("ix_bill_month", "month"),
    )

    id: int | None = Field(default=None, primary_key=True)
    payer_kind: str = Field(max_length=8)  # employer | person
    payer_id: int  # employer.id or person.id, as payer_kind says
    employer_id: int | None = Field(default=None, foreign_key="employer.id")
    person_id: int | None = Field(default=None, foreign_key="person.id")
    month: date
    part: int = 1
    due_date: date
    total_fen: int = _fen()
    status: str = Field(default="open", max_length=8)
    created_at: datetime = utc_field()
    paid_at: datetime | None = utc_field(nullable=True)


class PaymentOrder(SQLModel, table=True):
    """An order to pay one or more bills, with the reference the tax collection side confirms."""

    __tablename__ = "payment_order"

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=24, unique=True)
    payer_kind: str = Field(max_length=8)
    payer_id: int
    contributions_fen: int = _fen()
    late_fee_fen: int = _fen()
    amount_fen: int = _fen()
    pay_by: date  # the late fee in amount_fen is computed to this date
    status: str = Field(default="pending", max_length=10)
    created_at: datetime = utc_field()
    paid_at: datetime | None = utc_field(nullable=True)


class PaymentOrderBill(SQLModel, table=True):
    __tablename__ = "payment_order_bill"
    __table_args__ = (UniqueConstraint("order_id", "bill_id", name="uq_payment_order_bill"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="payment_order.id", index=True)
    bill_id: int = Field(foreign_key="bill.id", index=True)
    amount_fen: int = _fen()
    late_fee_fen: int = _fen()


class Payment(SQLModel, table=True):
    """Money received for an order, as confirmed by the collector; ``external_id`` makes replays harmless."""

    __tablename__ = "payment"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="payment_order.id", index=True)
    amount_fen: int = _fen()
    paid_at: datetime = utc_field()
    external_id: str = Field(max_length=64, unique=True)
    created_at: datetime = utc_field()
