"""monitoring: monthly summaries per area, the insured by age and sex, month digests, anomaly flags

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 13:05:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import portal.models.types


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('contribution_month', schema=None) as batch_op:
        batch_op.create_index('ix_contribution_month_month', ['month'], unique=False)

    op.create_table(
        'monitoring_month',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('area', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column('insured', sa.Integer(), nullable=False),
        sa.Column('contributors', sa.Integer(), nullable=False),
        sa.Column('pensioners', sa.Integer(), nullable=False),
        sa.Column('new_pensioners', sa.Integer(), nullable=False),
        sa.Column('pensions_paid', sa.Integer(), nullable=False),
        sa.Column('pensions_fen', sa.BigInteger(), nullable=False),
        sa.Column('enrolments', sa.Integer(), nullable=False),
        sa.Column('back_payments', sa.Integer(), nullable=False),
        sa.Column('due_fen', sa.BigInteger(), nullable=False),
        sa.Column('collected_fen', sa.BigInteger(), nullable=False),
        sa.Column('arrears_fen', sa.BigInteger(), nullable=False),
        sa.Column('collections_in_fen', sa.BigInteger(), nullable=False),
        sa.Column('payments_out_fen', sa.BigInteger(), nullable=False),
        sa.Column('cases_decided', sa.Integer(), nullable=False),
        sa.Column('cases_on_time', sa.Integer(), nullable=False),
        sa.Column('cases_overdue', sa.Integer(), nullable=False),
        sa.Column('computed_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('month', 'area', name='uq_monitoring_month'),
    )
    op.create_table(
        'monitoring_pyramid',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('area', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column('band', sa.Integer(), nullable=False),
        sa.Column('sex', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column('insured', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('month', 'area', 'band', 'sex', name='uq_monitoring_pyramid'),
    )
    op.create_table(
        'monitoring_digest',
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('computed_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('month'),
    )
    op.create_table(
        'monitoring_flag',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rule', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('area', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('evidence', sa.Text(), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column('found_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('explained_at', portal.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('explained_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['explained_by'], ['staff_member.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('rule', 'area', 'month', 'subject', name='uq_monitoring_flag'),
    )
    with op.batch_alter_table('monitoring_flag', schema=None) as batch_op:
        batch_op.create_index('ix_monitoring_flag_status', ['status', 'month'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('monitoring_flag', schema=None) as batch_op:
        batch_op.drop_index('ix_monitoring_flag_status')
    op.drop_table('monitoring_flag')
    op.drop_table('monitoring_digest')
    op.drop_table('monitoring_pyramid')
    op.drop_table('monitoring_month')
    with op.batch_alter_table('contribution_month', schema=None) as batch_op:
        batch_op.drop_index('ix_contribution_month_month')
