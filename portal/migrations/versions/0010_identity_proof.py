"""accounts proven to be their person: one-time codes, activation codes, the mobile number on record

Person accounts that exist before this revision were opened with nothing but a name and an identity
number; they stay unproven (``identity_proven_at`` empty) and see nothing of the record until they prove
themselves with a code sent to the number on record or an activation code from a service counter.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 09:15:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import portal.models.types


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mobile', sqlmodel.sql.sqltypes.AutoString(length=11), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('mobile_source', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False,
                                      server_default=''))
    with op.batch_alter_table('person_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('identity_proven_at', portal.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('identity_proof', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False,
                                      server_default=''))
    op.create_table(
        'identity_claim',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('id_number', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=True),
        sa.Column('account_id', sa.Integer(), nullable=True),
        sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('client_address', sqlmodel.sql.sqltypes.AutoString(length=45), nullable=False),
        sa.Column('failed_attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('completed_at', portal.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['person_account.id'], ),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    with op.batch_alter_table('identity_claim', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_claim_person_id'), ['person_id'], unique=False)

    op.create_table(
        'identity_code',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('claim_id', sa.Integer(), nullable=True),
        sa.Column('mobile', sqlmodel.sql.sqltypes.AutoString(length=11), nullable=False),
        sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('client_address', sqlmodel.sql.sqltypes.AutoString(length=45), nullable=False),
        sa.Column('issued_by', sa.Integer(), nullable=True),
        sa.Column('failed_attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('used_at', portal.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['claim_id'], ['identity_claim.id'], ),
        sa.ForeignKeyConstraint(['issued_by'], ['staff_member.id'], ),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('identity_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_code_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_identity_code_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_identity_code_mobile'), ['mobile'], unique=False)
        batch_op.create_index(batch_op.f('ix_identity_code_person_id'), ['person_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('identity_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_code_person_id'))
        batch_op.drop_index(batch_op.f('ix_identity_code_mobile'))
        batch_op.drop_index(batch_op.f('ix_identity_code_created_at'))
        batch_op.drop_index(batch_op.f('ix_identity_code_claim_id'))
    op.drop_table('identity_code')
    with op.batch_alter_table('identity_claim', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_claim_person_id'))
    op.drop_table('identity_claim')
    with op.batch_alter_table('person_account', schema=None) as batch_op:
        batch_op.drop_column('identity_proof')
        batch_op.drop_column('identity_proven_at')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('mobile_source')
        batch_op.drop_column('mobile')
