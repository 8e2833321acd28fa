"""transfers: transfers between provinces, their legs with clocks, and the signed messages between provinces

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 13:05:00.000000
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401

import portal.models.types


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'transfer',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('direction', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('other_province', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column('other_reference', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('hukou_province', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column('exemption', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('account_type', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('decision_json', sa.Text(), nullable=False),
        sa.Column('periods_json', sa.Text(), nullable=False),
        sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('amounts_json', sa.Text(), nullable=False),
        sa.Column('query_json', sa.Text(), nullable=False),
        sa.Column('certificate_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('created_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['queue_case.id'], ),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('reference'),
    )
    with op.batch_alter_table('transfer', schema=None) as batch_op:
        batch_op.create_index('ix_transfer_person', ['person_id', 'created_at'], unique=False)

    op.create_table(
        'transfer_leg',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('transfer_id', sa.Integer(), nullable=False),
        sa.Column('leg', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('by_jilin', sa.Boolean(), nullable=False),
        sa.Column('started_on', sa.Date(), nullable=True),
        sa.Column('due_on', sa.Date(), nullable=True),
        sa.Column('due_provisional_year', sa.Integer(), nullable=True),
        sa.Column('done_on', sa.Date(), nullable=True),
        sa.Column('overdue_flagged_at', portal.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['transfer_id'], ['transfer.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('transfer_id', 'leg', name='uq_transfer_leg'),
    )
    with op.batch_alter_table('transfer_leg', schema=None) as batch_op:
        batch_op.create_index('ix_transfer_leg_open', ['done_on', 'due_on'], unique=False)

    op.create_table(
        'province_message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('direction', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column('province', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('transfer_id', sa.Integer(), nullable=True),
        sa.Column('at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('signed_at', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('signature', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('result', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.ForeignKeyConstraint(['transfer_id'], ['transfer.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('direction', 'province', 'message_id', name='uq_province_message'),
    )
    with op.batch_alter_table('province_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_province_message_transfer_id'), ['transfer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('province_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_province_message_transfer_id'))
    op.drop_table('province_message')
    with op.batch_alter_table('transfer_leg', schema=None) as batch_op:
        batch_op.drop_index('ix_transfer_leg_open')
    op.drop_table('transfer_leg')
    with op.batch_alter_table('transfer', schema=None) as batch_op:
        batch_op.drop_index('ix_transfer_person')
    op.drop_table('transfer')
