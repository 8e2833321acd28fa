"""every state-changing form safe to submit twice: idempotency keys, voided payment orders

``idempotency_key`` keeps, for a day, what the first submission of a form answered (where it sent the
visitor and the confirmation it showed), keyed by the account or visitor and the form's one-time key; the
unique constraint makes a concurrent second submission wait for the first and then answer the same.
A payment order replaced by a newer one for the same bill gets the status ``voided`` (no new column).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 09:15:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import portal.models.types


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'idempotency_key',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('path', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('location', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column('flash', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column('created_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('scope', 'key', name='uq_idempotency_key_scope_key'),
    )
    with op.batch_alter_table('idempotency_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_key_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('idempotency_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_key_expires_at'))
    op.drop_table('idempotency_key')
    # Voided orders were pending before; the older schema knows no other word for them.
    op.execute("UPDATE payment_order SET status = 'pending' WHERE status = 'voided'")
