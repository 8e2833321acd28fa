"""benefits: retirement claims, pension awards and adjustments, payroll payments and totals, life certification, deaths and survivor awards

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 13:05:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import portal.models.types


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('payroll_total',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_month', sa.Date(), nullable=False),
    sa.Column('region', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
    sa.Column('payments', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('back_pay_fen', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('run_month', 'region', name='uq_payroll_total')
    )
    op.create_table('certification_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('days_before', sa.Integer(), nullable=False),
    sa.Column('sent_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_id', 'due_on', 'days_before', name='uq_certification_notice')
    )
    op.create_table('death_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('date_of_death', sa.Date(), nullable=False),
    sa.Column('reported_by_person_id', sa.Integer(), nullable=True),
    sa.Column('reported_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('evidence', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('relationship', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('recoverable_fen', sa.BigInteger(), nullable=False),
    sa.Column('created_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['reported_by_person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['reported_by_staff_id'], ['staff_member.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_id')
    )
    op.create_table('life_certification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('certified_on', sa.Date(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('by_person_id', sa.Integer(), nullable=True),
    sa.Column('by_staff_id', sa.Integer(), nullable=True),
    sa.Column('case_reference', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('created_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['by_person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['by_staff_id'], ['staff_member.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_life_certification_person', 'life_certification', ['person_id', 'certified_on'], unique=False)
    op.create_table('pension_adjustment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('effective_month', sa.Date(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('parts_json', sa.Text(), nullable=False),
    sa.Column('assumed', sa.Boolean(), nullable=False),
    sa.Column('created_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_id', 'year', name='uq_pension_adjustment')
    )
    op.create_table('survivor_award',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deceased_person_id', sa.Integer(), nullable=False),
    sa.Column('claimant_person_id', sa.Integer(), nullable=False),
    sa.Column('case_reference', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('funeral_fen', sa.BigInteger(), nullable=False),
    sa.Column('benefit_fen', sa.BigInteger(), nullable=False),
    sa.Column('account_fen', sa.BigInteger(), nullable=False),
    sa.Column('total_fen', sa.BigInteger(), nullable=False),
    sa.Column('months', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('provisional', sa.Boolean(), nullable=False),
    sa.Column('explanation_json', sa.Text(), nullable=False),
    sa.Column('bank_code', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('card_number', sqlmodel.sql.sqltypes.AutoString(length=19), nullable=False),
    sa.Column('awarded_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['claimant_person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['deceased_person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('deceased_person_id')
    )
    op.create_table('retirement_claim',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('claim_date', sa.Date(), nullable=False),
    sa.Column('retirement_month', sa.Date(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('bank_code', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('card_number', sqlmodel.sql.sqltypes.AutoString(length=19), nullable=False),
    sa.Column('commitment', sa.Boolean(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['queue_case.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_retirement_claim_person_id'), 'retirement_claim', ['person_id'], unique=False)
    op.create_index('uq_retirement_claim_open', 'retirement_claim', ['person_id'], unique=True, sqlite_where=sa.text("state IN ('draft', 'submitted')"), postgresql_where=sa.text("state IN ('draft', 'submitted')"))
    op.create_table('pension_award',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=True),
    sa.Column('case_reference', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('region', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
    sa.Column('retirement_month', sa.Date(), nullable=False),
    sa.Column('first_payment_month', sa.Date(), nullable=False),
    sa.Column('claim_date', sa.Date(), nullable=False),
    sa.Column('actual_months', sa.Integer(), nullable=False),
    sa.Column('deemed_months', sa.Integer(), nullable=False),
    sa.Column('average_index', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('account_balance_fen', sa.BigInteger(), nullable=False),
    sa.Column('divisor_months', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('basic_fen', sa.BigInteger(), nullable=False),
    sa.Column('extra_fen', sa.BigInteger(), nullable=False),
    sa.Column('transitional_fen', sa.BigInteger(), nullable=False),
    sa.Column('account_fen', sa.BigInteger(), nullable=False),
    sa.Column('monthly_fen', sa.BigInteger(), nullable=False),
    sa.Column('provisional', sa.Boolean(), nullable=False),
    sa.Column('explanation_json', sa.Text(), nullable=False),
    sa.Column('bank_code', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('card_number', sqlmodel.sql.sqltypes.AutoString(length=19), nullable=False),
    sa.Column('stopped_after', sa.Date(), nullable=True),
    sa.Column('paid_through', sa.Date(), nullable=True),
    sa.Column('superseded_by', sa.Integer(), nullable=True),
    sa.Column('difference_fen', sa.BigInteger(), nullable=False),
    sa.Column('difference_run_month', sa.Date(), nullable=True),
    sa.Column('awarded_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['retirement_claim.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_index('uq_pension_award_current', 'pension_award', ['person_id'], unique=True, sqlite_where=sa.text('superseded_by IS NULL'), postgresql_where=sa.text('superseded_by IS NULL'))
    op.create_table('pension_payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('award_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('run_month', sa.Date(), nullable=False),
    sa.Column('pension_fen', sa.BigInteger(), nullable=False),
    sa.Column('adjustment_fen', sa.BigInteger(), nullable=False),
    sa.Column('correction_fen', sa.BigInteger(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('region', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
    sa.Column('bank_code', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('recoverable', sa.Boolean(), nullable=False),
    sa.Column('paid_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['award_id'], ['pension_award.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_id', 'month', name='uq_pension_payment')
    )
    op.create_index('ix_pension_payment_run', 'pension_payment', ['run_month', 'region'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_pension_payment_run', table_name='pension_payment')
    op.drop_table('pension_payment')
    op.drop_index('uq_pension_award_current', table_name='pension_award', sqlite_where=sa.text('superseded_by IS NULL'), postgresql_where=sa.text('superseded_by IS NULL'))
    op.drop_table('pension_award')
    op.drop_index('uq_retirement_claim_open', table_name='retirement_claim', sqlite_where=sa.text("state IN ('draft', 'submitted')"), postgresql_where=sa.text("state IN ('draft', 'submitted')"))
    op.drop_index(op.f('ix_retirement_claim_person_id'), table_name='retirement_claim')
    op.drop_table('retirement_claim')
    op.drop_table('survivor_award')
    op.drop_table('pension_adjustment')
    op.drop_index('ix_life_certification_person', table_name='life_certification')
    op.drop_table('life_certification')
    op.drop_table('death_report')
    op.drop_table('certification_notice')
    op.drop_table('payroll_total')
