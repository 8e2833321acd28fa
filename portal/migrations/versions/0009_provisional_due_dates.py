"""due dates computed from a provisional (not yet announced) holiday calendar

``due_provisional_year`` marks a case whose due date counts through a year whose State Council
holiday notice is not encoded yet; ``portal queue auto`` recomputes and clears it once the year
is encoded. Cases already due past 2026, the last year encoded at this revision, were counted
with Monday to Friday only: they are marked for 2027 so they say so and are recomputed too.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 09:15:00.000000
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('queue_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_provisional_year', sa.Integer(), nullable=True))
        batch_op.create_index('ix_queue_case_due_provisional_year', ['due_provisional_year'], unique=False)
    op.execute("UPDATE queue_case SET due_provisional_year = 2027 WHERE due_on > '2026-12-31'")


def downgrade() -> None:
    with op.batch_alter_table('queue_case', schema=None) as batch_op:
        batch_op.drop_index('ix_queue_case_due_provisional_year')
        batch_op.drop_column('due_provisional_year')
