"""monitoring cases: an anomaly keeps the verification case opened from it, a budget step the queue case that decided it

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05 21:40:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("monitoring_flag", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_monitoring_flag_case_id", "queue_case", ["case_id"], ["id"])
    # Steps recorded before the chain went through the queue keep no case: they stay as they were, readable.
    with op.batch_alter_table("fund_budget_step", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_fund_budget_step_case_id", "queue_case", ["case_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("fund_budget_step", schema=None) as batch_op:
        batch_op.drop_constraint("fk_fund_budget_step_case_id", type_="foreignkey")
        batch_op.drop_column("case_id")
    with op.batch_alter_table("monitoring_flag", schema=None) as batch_op:
        batch_op.drop_constraint("fk_monitoring_flag_case_id", type_="foreignkey")
        batch_op.drop_column("case_id")
