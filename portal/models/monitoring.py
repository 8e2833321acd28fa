"""Stored monthly summaries for supervisors (监控), rebuilt by ``portal monitoring refresh``, and the flags of the
anomaly rules (智能监控).

A summary row holds one month of one area: the province (``220000``, every record counted once) or a prefecture.
Money is integer fen. ``monitoring_digest`` keeps, per month, a digest of the records the month's figures are
built from, so a refresh recomputes only the months whose records changed.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.models.base import utc_field
from portal.models.records import ContributionMonth

# The monitoring aggregates read the history one month at a time; without this every month scans the whole table.
CONTRIBUTION_MONTH_INDEX = Index("ix_contribution_month_month", ContributionMonth.month)


def _fen() -> int:
    return Field(default=0, sa_column=Column(BigInteger, nullable=False))


class MonitoringMonth(SQLModel, table=True):
    """One area's figures for one month."""

    __tablename__ = "monitoring_month"
    __table_args__ = (UniqueConstraint("month", "area", name="uq_monitoring_month"),)

    id: int | None = Field(default=None, primary_key=True)
    month: date
    area: str = Field(max_length=6)  # 220000: the province; otherwise a prefecture code
    insured: int = 0  # persons with a contribution month due (billed, paid, in arrears or deferred)
    contributors: int = 0  # of them, persons whose month is paid
    pensioners: int = 0  # persons drawing a pension this month (an award, or a retirement not yet awarded)
    new_pensioners: int = 0  # persons whose first pension month this is
    pensions_paid: int = 0  # pensions paid for this benefit month
    pensions_fen: int = _fen()  # their amount (pension and adjustment; corrections left out): the average pension
    enrolments: int = 0  # employment spells and flexible enrolments starting this month
    back_payments: int = 0  # months recorded by back payment (补缴) this month, whatever months they pay for
    due_fen: int = _fen()  # contributions due for the month (employer and individual parts)
    collected_fen: int = _fen()  # of them, paid
    arrears_fen: int = _fen()  # of them, in arrears
    collections_in_fen: int = _fen()  # money received this month (by the day the collector confirmed it)
    payments_out_fen: int = _fen()  # benefits paid out this month (the payroll run of the month, survivors' awards)
    cases_decided: int = 0  # requests decided this month
    cases_on_time: int = 0  # of them, decided by their due date
    cases_overdue: int = 0  # requests due this month still open past their due date, when computed
    computed_at: datetime = utc_field()


class MonitoringPyramid(SQLModel, table=True):
    """The insured of one area and month by age band and sex."""

    __tablename__ = "monitoring_pyramid"
    __table_args__ = (UniqueConstraint("month", "area", "band", "sex", name="uq_monitoring_pyramid"),)

    id: int | None = Field(default=None, primary_key=True)
    month: date
    area: str = Field(max_length=6)
    band: int  # the band's lowest age (16, 20, 25, ..., 60)
    sex: str = Field(max_length=6)
    insured: int = 0


class MonitoringDigest(SQLModel, table=True):
    """The digest of the records behind one month's figures when they were last computed."""

    __tablename__ = "monitoring_digest"

    month: date = Field(primary_key=True)
    digest: str = Field(max_length=64)
    computed_at: datetime = utc_field()


class MonitoringFlag(SQLModel, table=True):
    """What an anomaly rule found, with its evidence; a supervisor may mark it explained."""

    __tablename__ = "monitoring_flag"
    __table_args__ = (
        UniqueConstraint("rule", "area", "month", "subject", name="uq_monitoring_flag"),
        Index("ix_monitoring_flag_status", "status", "month"),
    )

    id: int | None = Field(default=None, primary_key=True)
    rule: str = Field(max_length=40)
    area: str = Field(max_length=6)
    month: date
    subject: str = Field(default="", max_length=40)  # what it is about within the area (a person, an employer)
    evidence: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # JSON: the figures that fired it
    # open | explained (by a supervisor's note, or by the decision of its verification case) | confirmed (by that
    # decision)
    status: str = Field(default="open", max_length=10)
    note: str = Field(default="", max_length=500)
    found_at: datetime = utc_field()
    explained_at: datetime | None = utc_field(nullable=True)  # when it was explained or confirmed
    explained_by: int | None = Field(default=None, foreign_key="staff_member.id")
    # The verification case opened from it in the central queue (one at most), whose decision settles it.
    case_id: int | None = Field(default=None, foreign_key="queue_case.id")


class FundBudget(SQLModel, table=True):
    """One version of the fund budget for a year (基金预算, 吉政发〔2020〕2号 §三(三)): drafted province-wide by the
    provincial social insurance bureau, reviewed by the provincial department and the finance department, then
    approved; an approved version is frozen (its figures never change and no later version is drafted)."""

    __tablename__ = "fund_budget"
    __table_args__ = (UniqueConstraint("year", "version", name="uq_fund_budget_version"),)

    id: int | None = Field(default=None, primary_key=True)
    year: int
    version: int  # 1, 2, ... within the year
    # drafted | department_reviewed | finance_reviewed | approved | returned | superseded
    state: str = Field(default="drafted", max_length=20)
    # JSON: area code → {contributors, pensioners, income, subsidy, expenditure, transfers_in, transfers_out} (yuan)
    figures: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    evidence_years: str = Field(default="", max_length=60)  # the complete years the trend was drawn through
    note: str = Field(default="", max_length=500)
    drafted_by: int = Field(foreign_key="staff_member.id")
    drafted_at: datetime = utc_field()
    approved_at: datetime | None = utc_field(nullable=True)


class FundBudgetStep(SQLModel, table=True):
    """One step of a budget version's approval chain, with who recorded it and what was decided: the budget's own
    record of its chain. Each review step is decided in the central queue (a ``budget_review`` case, named here by
    ``case_id``); steps recorded before the chain went through the queue have none."""

    __tablename__ = "fund_budget_step"
    __table_args__ = (UniqueConstraint("budget_id", "step", name="uq_fund_budget_step"),)

    id: int | None = Field(default=None, primary_key=True)
    budget_id: int = Field(foreign_key="fund_budget.id")
    step: str = Field(max_length=20)  # draft | department_review | finance_review | approval
    agreed: bool = True  # False: returned to the bureau for a new version
    note: str = Field(default="", max_length=500)
    decided_by: int = Field(foreign_key="staff_member.id")
    decided_at: datetime = utc_field()
    case_id: int | None = Field(default=None, foreign_key="queue_case.id")  # the queue case that decided it


class FundReceipt(SQLModel, table=True):
    """Money that arrived in the provincial special account (省级基金财政专户) for an area and month: a prefecture's
    remittance of what it collected (归集), or a fiscal subsidy (财政补助), as recorded by a supervisor."""

    __tablename__ = "fund_receipt"
    __table_args__ = (Index("ix_fund_receipt_kind_month", "kind", "month"),)

    id: int | None = Field(default=None, primary_key=True)
    area: str = Field(max_length=6)
    month: date
    kind: str = Field(max_length=12)  # remittance | subsidy
    amount_fen: int = _fen()
    note: str = Field(default="", max_length=200)
    recorded_by: int = Field(foreign_key="staff_member.id")
    recorded_at: datetime = utc_field()
