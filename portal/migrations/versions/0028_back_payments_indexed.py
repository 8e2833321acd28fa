"""contribution_month: a partial index of the back payments by the time they were recorded

Why: monitoring counts back payments (补缴) by the month they were recorded in, and its digest reads them the same
way; without an index both read the whole history (180 million rows for a million persons) to find a few. The
index holds only back-payment rows, so billing's inserts of employer filings and flexible payments do not touch
it. On PostgreSQL the index is declared on the partitioned parent and so built on every year's partition.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 01:20:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

WHERE = sa.text("source = 'back_payment'")


def upgrade() -> None:
    op.create_index("ix_contribution_month_back_payment", "contribution_month", ["created_at"], unique=False,
                    sqlite_where=WHERE, postgresql_where=WHERE)


def downgrade() -> None:
    op.drop_index("ix_contribution_month_back_payment", table_name="contribution_month")
