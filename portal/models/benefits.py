"""Benefits: retirement claims and pension awards, the monthly payroll, life certification, deaths and survivors.

Money is integer fen. A month is the date of its first day.

- ``RetirementClaim``: a person's claim; the draft fixes the claim date (``claim_date``), so slow paperwork does
  not cost months of pension. Submitting it opens a ``retirement_claim`` case.
- ``PensionAward``: what the approval granted, computed from the record as it was, with the explanation and the
  parameters used; ``provisional`` when a parameter was (the base not yet published). One award in force per person.
- ``PensionAdjustment``: the yearly adjustment (调待) of an award, from ``effective_month``; ``assumed`` when its
  parts are low-confidence parameters.
- ``PensionPayment``: one row per award and benefit month (unique), written by the payroll run of ``run_month``;
  a month paid in a later run is back pay. ``recoverable`` marks a payment for a month after the death.
- ``PayrollTotal``: a run's totals by prefecture (for monitoring).
- ``LifeCertification``: each certification (待遇资格认证) with how it was done; the history is kept.
- ``FamilyLink``: a family member linked to a pensioner by an approved request (亲情服务), who may then certify
  for them online; a person is linked to a limited number of pensioners (a parameter).
- ``DeathReport``: a reported death; payments stop from the month after.
- ``DeathCertificate``: the death certificate a family member attached to their report (PDF, JPEG or PNG, checked
  by content); kept in the database, served only to the reporter, a survivor who claims, and staff.
- ``SurvivorAward``: the one-off survivors' payment for one death (paid once: unique per deceased).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Index, LargeBinary, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from portal.models.base import utc_field

CLAIM_STATES = ("draft", "submitted", "approved", "rejected", "withdrawn")
CERTIFICATION_CHANNELS = ("face", "counter", "family", "home_visit")


def _fen(default: int = 0) -> int:
    return Field(default=default, sa_column=Column(BigInteger, nullable=False))


class RetirementClaim(SQLModel, table=True):
    __tablename__ = "retirement_claim"
    __table_args__ = (
        # At most one claim in progress (draft or submitted) per person.
        Index("uq_retirement_claim_open", "person_id", unique=True,
              sqlite_where=text("state IN ('draft', 'submitted')"),
              postgresql_where=text("state IN ('draft', 'submitted')")),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    claim_date: date  # fixed when the draft is saved
    retirement_month: date
    state: str = Field(default="draft", max_length=10)
    bank_code: str = Field(default="", max_length=10)
    card_number: str = Field(default="", max_length=19)
    commitment: bool = False
    case_id: int | None = Field(default=None, foreign_key="queue_case.id")
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class PensionAward(SQLModel, table=True):
    __tablename__ = "pension_award"
    __table_args__ = (
        Index("uq_pension_award_current", "person_id", unique=True,
              sqlite_where=text("superseded_by IS NULL"), postgresql_where=text("superseded_by IS NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)  # the award letter's verification code
    person_id: int = Field(foreign_key="person.id")
    claim_id: int | None = Field(default=None, foreign_key="retirement_claim.id")
    case_reference: str = Field(default="", max_length=24)
    region: str = Field(max_length=6)
    retirement_month: date
    first_payment_month: date
    claim_date: date
    actual_months: int
    deemed_months: int
    average_index: str = Field(max_length=8)
    account_balance_fen: int = _fen()
    divisor_months: str = Field(max_length=8)
    basic_fen: int = _fen()
    extra_fen: int = _fen()
    transitional_fen: int = _fen()
    account_fen: int = _fen()
    monthly_fen: int = _fen()
    provisional: bool = False
    explanation_json: str = Field(sa_column=Column(Text, nullable=False))  # steps (zh and en) and parameters used
    bank_code: str = Field(max_length=10)
    card_number: str = Field(max_length=19)
    stopped_after: date | None = None  # the last month payable (the month of death)
    # Every payable month up to the last payroll run is paid: the next run looks only at the months since, and
    # rewrites the award only when that changes (false for a new award, so the first run looks at it in full).
    paid_to_last_run: bool = False
    superseded_by: int | None = Field(default=None)  # a recomputed award replaces this one
    # A recomputed award: what the months already paid under the one it replaces come to more (+) or less (-);
    # paid or recovered with the next payroll, which sets ``difference_run_month``.
    difference_fen: int = _fen()
    difference_run_month: date | None = None
    awarded_at: datetime = utc_field()


class PensionAdjustment(SQLModel, table=True):
    __tablename__ = "pension_adjustment"
    __table_args__ = (UniqueConstraint("person_id", "year", name="uq_pension_adjustment"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    year: int
    effective_month: date
    amount_fen: int = _fen()
    parts_json: str = Field(sa_column=Column(Text, nullable=False))
    assumed: bool = False
    created_at: datetime = utc_field()


class PensionPayment(SQLModel, table=True):
    """On PostgreSQL partitioned by the year of the benefit ``month`` (migration 0027, which says why not
    ``run_month``); its primary key there is (id, month), the id alone unique through its sequence."""

    __tablename__ = "pension_payment"
    __table_args__ = (
        UniqueConstraint("person_id", "month", name="uq_pension_payment"),
        Index("ix_pension_payment_run", "run_month", "region"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # No foreign keys: the payroll writes this table only from current awards, in the same statement, and persons
    # and awards are never deleted; checking each of a million rows a month cost the run 6 s of its 11 (measured).
    person_id: int
    award_id: int
    month: date  # the benefit month
    run_month: date  # the payroll that paid it (later than ``month`` for back pay)
    pension_fen: int = _fen()
    adjustment_fen: int = _fen()
    correction_fen: int = _fen()  # a recomputed award's difference, settled with this payment
    amount_fen: int = _fen()
    region: str = Field(max_length=6)
    bank_code: str = Field(max_length=10)
    recoverable: bool = False  # paid for a month after the death: to be recovered
    paid_at: datetime = utc_field()


class PayrollTotal(SQLModel, table=True):
    __tablename__ = "payroll_total"
    __table_args__ = (UniqueConstraint("run_month", "region", name="uq_payroll_total"),)

    id: int | None = Field(default=None, primary_key=True)
    run_month: date
    region: str = Field(max_length=6)
    payments: int = 0
    amount_fen: int = _fen()
    back_pay_fen: int = _fen()
    updated_at: datetime = utc_field()


class LifeCertification(SQLModel, table=True):
    __tablename__ = "life_certification"
    __table_args__ = (Index("ix_life_certification_person", "person_id", "certified_on"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    certified_on: date
    channel: str = Field(max_length=12)  # face | counter | family | home_visit
    by_person_id: int | None = Field(default=None, foreign_key="person.id")  # the family member
    by_staff_id: int | None = Field(default=None, foreign_key="staff_member.id")
    case_reference: str = Field(default="", max_length=24)
    created_at: datetime = utc_field()


class CertificationNotice(SQLModel, table=True):
    """A reminder sent before the due date (30 and 7 days): one per person, due date and days, never twice."""

    __tablename__ = "certification_notice"
    __table_args__ = (UniqueConstraint("person_id", "due_on", "days_before", name="uq_certification_notice"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    due_on: date
    days_before: int
    sent_at: datetime = utc_field()


class FamilyLink(SQLModel, table=True):
    __tablename__ = "family_link"
    __table_args__ = (UniqueConstraint("pensioner_id", "family_id", name="uq_family_link"),)

    id: int | None = Field(default=None, primary_key=True)
    pensioner_id: int = Field(foreign_key="person.id")
    family_id: int = Field(foreign_key="person.id", index=True)  # the family member who may certify
    relationship: str = Field(max_length=12)
    case_reference: str = Field(max_length=24)  # the request that linked them
    linked_at: datetime = utc_field()


class DeathReport(SQLModel, table=True):
    __tablename__ = "death_report"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", unique=True)  # the deceased
    date_of_death: date
    reported_by_person_id: int | None = Field(default=None, foreign_key="person.id")
    reported_by_staff_id: int | None = Field(default=None, foreign_key="staff_member.id")
    evidence: str = Field(max_length=12)  # commitment | certificate | data_match
    relationship: str = Field(default="", max_length=12)
    recoverable_fen: int = _fen()
    created_at: datetime = utc_field()


class DeathCertificate(SQLModel, table=True):
    __tablename__ = "death_certificate"

    id: int | None = Field(default=None, primary_key=True)
    death_report_id: int = Field(foreign_key="death_report.id", unique=True)
    filename: str = Field(max_length=200)  # as the reporter named it, for display and download only
    content_type: str = Field(max_length=40)  # decided from the file's first bytes, not its name
    size: int
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    uploaded_at: datetime = utc_field()


class SurvivorAward(SQLModel, table=True):
    __tablename__ = "survivor_award"

    id: int | None = Field(default=None, primary_key=True)
    deceased_person_id: int = Field(foreign_key="person.id", unique=True)  # paid once per death
    claimant_person_id: int = Field(foreign_key="person.id")
    case_reference: str = Field(max_length=24)
    funeral_fen: int = _fen()
    benefit_fen: int = _fen()
    account_fen: int = _fen()
    total_fen: int = _fen()
    months: str = Field(max_length=8)
    provisional: bool = False
    explanation_json: str = Field(sa_column=Column(Text, nullable=False))
    bank_code: str = Field(max_length=10)
    card_number: str = Field(max_length=19)
    awarded_at: datetime = utc_field()
