"""payroll in step: an award says whether every month up to the last payroll run is paid, instead of the month it
is paid through (which every run rewrote for every award); the payment table drops its two foreign keys (the payroll
writes it only from current awards in the same statement, and checking a million rows a month cost 6 s)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 21:40:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import portal.models.types


revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def _payment(foreign_keys: bool) -> sa.Table:
    keys = [sa.ForeignKeyConstraint(["award_id"], ["pension_award.id"]),
            sa.ForeignKeyConstraint(["person_id"], ["person.id"])] if foreign_keys else []
    return sa.Table(
        "pension_payment", sa.MetaData(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("award_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("run_month", sa.Date(), nullable=False),
        sa.Column("pension_fen", sa.BigInteger(), nullable=False),
        sa.Column("adjustment_fen", sa.BigInteger(), nullable=False),
        sa.Column("correction_fen", sa.BigInteger(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("bank_code", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("recoverable", sa.Boolean(), nullable=False),
        sa.Column("paid_at", portal.models.types.UTCDateTime(timezone=True), nullable=False),
        *keys,
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person_id", "month", name="uq_pension_payment"),
        sa.Index("ix_pension_payment_run", "run_month", "region"),
    )


def _payment_keys(foreign_keys: bool) -> None:
    if op.get_bind().dialect.name == "postgresql":
        for column, table in (("award_id", "pension_award"), ("person_id", "person")):
            if foreign_keys:
                op.create_foreign_key(f"pension_payment_{column}_fkey", "pension_payment", table, [column], ["id"])
            else:
                op.drop_constraint(f"pension_payment_{column}_fkey", "pension_payment", type_="foreignkey")
        return
    with op.batch_alter_table("pension_payment", copy_from=_payment(foreign_keys), recreate="always"):
        pass


def upgrade() -> None:
    _payment_keys(False)
    with op.batch_alter_table("pension_award") as batch:
        batch.add_column(sa.Column("paid_to_last_run", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("""
        UPDATE pension_award SET paid_to_last_run = (paid_through IS NOT NULL
            AND paid_through >= (SELECT MAX(run_month) FROM payroll_total))
        WHERE EXISTS (SELECT 1 FROM payroll_total)""")
    with op.batch_alter_table("pension_award") as batch:
        batch.drop_column("paid_through")


def downgrade() -> None:
    _payment_keys(True)
    with op.batch_alter_table("pension_award") as batch:
        batch.add_column(sa.Column("paid_through", sa.Date(), nullable=True))
    op.execute("""
        UPDATE pension_award SET paid_through = (SELECT MAX(run_month) FROM payroll_total)
        WHERE paid_to_last_run""")
    with op.batch_alter_table("pension_award") as batch:
        batch.drop_column("paid_to_last_run")
