"""the decision kept on a case once it is closed

``portal queue auto`` now closes decided cases after a while; ``outcome`` keeps what was decided
(approved or rejected), which the state no longer says once the case is closed. Cases decided or
closed before this revision get theirs from their state or from their history.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 08:10:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('queue_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True))
    op.execute("UPDATE queue_case SET outcome = state WHERE state IN ('approved', 'rejected')")
    op.execute("UPDATE queue_case SET outcome = (SELECT e.to_state FROM case_event e WHERE e.case_id = queue_case.id "
               "AND e.to_state IN ('approved', 'rejected') ORDER BY e.id DESC LIMIT 1) WHERE state = 'closed'")


def downgrade() -> None:
    with op.batch_alter_table('queue_case', schema=None) as batch_op:
        batch_op.drop_column('outcome')
