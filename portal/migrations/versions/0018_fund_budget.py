"""fund budget: versions with their approval steps, and money arriving in the provincial special account

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 17:20:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import portal.models.types


revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fund_budget",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.Column("evidence_years", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("drafted_by", sa.Integer(), nullable=False),
        sa.Column("drafted_at", portal.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("approved_at", portal.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["drafted_by"], ["staff_member.id"], ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("year", "version", name="uq_fund_budget_version"),
    )
    op.create_table(
        "fund_budget_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("budget_id", sa.Integer(), nullable=False),
        sa.Column("step", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("agreed", sa.Boolean(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=False),
        sa.Column("decided_at", portal.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["budget_id"], ["fund_budget.id"], ),
        sa.ForeignKeyConstraint(["decided_by"], ["staff_member.id"], ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("budget_id", "step", name="uq_fund_budget_step"),
    )
    op.create_table(
        "fund_receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", portal.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["recorded_by"], ["staff_member.id"], ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("fund_receipt", schema=None) as batch_op:
        batch_op.create_index("ix_fund_receipt_kind_month", ["kind", "month"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("fund_receipt", schema=None) as batch_op:
        batch_op.drop_index("ix_fund_receipt_kind_month")
    op.drop_table("fund_receipt")
    op.drop_table("fund_budget_step")
    op.drop_table("fund_budget")
