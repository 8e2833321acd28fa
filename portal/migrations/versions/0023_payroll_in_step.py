"""payroll in step: an award says whether every month up to the last payroll run is paid, instead of the month it
is paid through (which every run rewrote for every award)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 21:40:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pension_award") as batch:
        batch.add_column(sa.Column("paid_to_last_run", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("""
        UPDATE pension_award SET paid_to_last_run = (paid_through IS NOT NULL
            AND paid_through >= (SELECT MAX(run_month) FROM payroll_total))
        WHERE EXISTS (SELECT 1 FROM payroll_total)""")
    with op.batch_alter_table("pension_award") as batch:
        batch.drop_column("paid_through")


def downgrade() -> None:
    with op.batch_alter_table("pension_award") as batch:
        batch.add_column(sa.Column("paid_through", sa.Date(), nullable=True))
    op.execute("""
        UPDATE pension_award SET paid_through = (SELECT MAX(run_month) FROM payroll_total)
        WHERE paid_to_last_run""")
    with op.batch_alter_table("pension_award") as batch:
        batch.drop_column("paid_to_last_run")
