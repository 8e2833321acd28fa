"""an index of contribution months by bill

Without it, deleting a bill (the billing run drops a bill left empty) makes PostgreSQL's foreign-key
check scan the whole contribution history for months on that bill, once per bill. Partial: months not
on a bill (history loaded without bills) stay out of it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 07:45:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('contribution_month', schema=None) as batch_op:
        batch_op.create_index('ix_contribution_month_bill', ['bill_id'], unique=False,
                              sqlite_where=sa.text('bill_id IS NOT NULL'),
                              postgresql_where=sa.text('bill_id IS NOT NULL'))


def downgrade() -> None:
    with op.batch_alter_table('contribution_month', schema=None) as batch_op:
        batch_op.drop_index('ix_contribution_month_bill', sqlite_where=sa.text('bill_id IS NOT NULL'),
                            postgresql_where=sa.text('bill_id IS NOT NULL'))
