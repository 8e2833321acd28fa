"""People, employers and the accounts that sign in for them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.models.base import utc_field


class Person(SQLModel, table=True):
    """An insured individual, known by the resident identity number (the social security number)."""

    id: int | None = Field(default=None, primary_key=True)
    id_number: str = Field(max_length=18, unique=True, index=True)
    name: str = Field(max_length=50)
    birth_date: date
    sex: str = Field(max_length=6)  # "male" | "female", from the identity number's sequence digit
    created_at: datetime = utc_field()
    # The mobile number on record, where one-time codes that prove an account is this person's are sent.
    # Only an employer's enrolment or a service counter sets it, never the person registering online.
    # Server defaults too: bulk loads (synth, benchmarks) insert persons without these columns.
    mobile: str = Field(default="", max_length=11, sa_column_kwargs={"server_default": ""})
    mobile_source: str = Field(default="", max_length=10, sa_column_kwargs={"server_default": ""})  # enrolment | counter


class PersonAccount(SQLModel, table=True):
    """The online account a person signs in with; one per identity number."""

    __tablename__ = "person_account"
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", unique=True)
    mobile: str = Field(max_length=11)
    password_hash: str = Field(max_length=200)
    failed_logins: int = 0
    locked_until: datetime | None = utc_field(nullable=True)
    created_at: datetime = utc_field()
    last_login_at: datetime | None = utc_field(nullable=True)
    # Until proven, the account sees nothing of the record: see portal/services/identity.py.
    identity_proven_at: datetime | None = utc_field(nullable=True)
    identity_proof: str = Field(default="", max_length=10, sa_column_kwargs={"server_default": ""})  # sms | counter | essc | system: how it was proven

    @property
    def proven(self) -> bool:
        return self.identity_proven_at is not None


class Employer(SQLModel, table=True):
    """An employer identified by its unified social credit code."""

    id: int | None = Field(default=None, primary_key=True)
    credit_code: str = Field(max_length=18, unique=True, index=True)
    name: str = Field(max_length=100)
    region: str = Field(max_length=6, index=True)  # prefecture code, e.g. 220100
    status: str = Field(default="pending", max_length=12, index=True)  # pending | verified | rejected
    created_at: datetime = utc_field()
    decided_at: datetime | None = utc_field(nullable=True)
    decided_by: int | None = Field(default=None, foreign_key="staff_member.id")
    decision_note: str = Field(default="", max_length=500)


class EmployerOperator(SQLModel, table=True):
    """Someone who files for an employer. The first one is its administrator."""

    __tablename__ = "employer_operator"
    __table_args__ = (UniqueConstraint("employer_id", "username"),)
    id: int | None = Field(default=None, primary_key=True)
    employer_id: int = Field(foreign_key="employer.id", index=True)
    username: str = Field(max_length=40)
    name: str = Field(max_length=50)
    mobile: str = Field(default="", max_length=11)
    password_hash: str = Field(max_length=200)
    is_admin: bool = False
    active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = utc_field(nullable=True)
    created_at: datetime = utc_field()
    last_login_at: datetime | None = utc_field(nullable=True)


class StaffMember(SQLModel, table=True):
    """Provincial staff: password plus a TOTP second factor, and one or more roles."""

    __tablename__ = "staff_member"
    id: int | None = Field(default=None, primary_key=True)
    staff_number: str = Field(max_length=20, unique=True, index=True)
    name: str = Field(max_length=50)
    roles: str = Field(max_length=100)  # space-separated: handler reviewer supervisor admin
    region: str = Field(default="220000", max_length=6)
    password_hash: str = Field(max_length=200)
    totp_secret: str = Field(max_length=64)
    # The last accepted time step, so one code cannot be used twice.
    totp_last_step: int = 0
    active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = utc_field(nullable=True)
    created_at: datetime = utc_field()
    last_login_at: datetime | None = utc_field(nullable=True)

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(self.roles.split())
