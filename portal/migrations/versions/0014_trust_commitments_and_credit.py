"""trust: commitment evidence, credit events and ratings, the serious-dishonesty list

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 13:05:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import portal.models.types


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('credit_rating',
    sa.Column('subject_kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('grade', sqlmodel.sql.sqltypes.AutoString(length=1), nullable=False),
    sa.Column('listed', sa.Boolean(), nullable=False),
    sa.Column('computed_on', sa.Date(), nullable=False),
    sa.Column('computed_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('subject_kind', 'subject_id')
    )
    op.create_table('commitment_evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('item', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('notice_version', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('notice_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('locale', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('confirmed_by', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('confirmed_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('client_address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('account_kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('subject_kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('found_false_at', portal.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('found_false_case_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['queue_case.id'], ),
    sa.ForeignKeyConstraint(['found_false_case_id'], ['queue_case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_commitment_evidence_case_id'), 'commitment_evidence', ['case_id'], unique=False)
    op.create_table('credit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('recorded_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('annulled_at', portal.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('annulled_by_case_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['annulled_by_case_id'], ['queue_case.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['queue_case.id'], ),
    sa.ForeignKeyConstraint(['recorded_by'], ['staff_member.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_credit_event_subject', 'credit_event', ['subject_kind', 'subject_id', 'occurred_on'], unique=False)
    op.create_table('dishonesty_listing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('trigger', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('finding', sa.Text(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('proposed_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('proposed_by', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('statement_until', sa.Date(), nullable=False),
    sa.Column('decided_at', portal.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('effective_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('removed_at', portal.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('removal_reason', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['queue_case.id'], ),
    sa.ForeignKeyConstraint(['proposed_by'], ['staff_member.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_dishonesty_listing_state', 'dishonesty_listing', ['state', 'effective_on'], unique=False)
    op.create_index('ix_dishonesty_listing_subject', 'dishonesty_listing', ['subject_kind', 'subject_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_dishonesty_listing_subject', table_name='dishonesty_listing')
    op.drop_index('ix_dishonesty_listing_state', table_name='dishonesty_listing')
    op.drop_table('dishonesty_listing')
    op.drop_index('ix_credit_event_subject', table_name='credit_event')
    op.drop_table('credit_event')
    op.drop_index(op.f('ix_commitment_evidence_case_id'), table_name='commitment_evidence')
    op.drop_table('commitment_evidence')
    op.drop_table('credit_rating')
