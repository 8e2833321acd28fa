"""electronic social security card sign-in: provider links, QR sign-in codes, assurance levels

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 09:15:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import portal.models.types


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Sessions opened before this revision were all password sign-ins.
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assurance', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False,
                                      server_default='password'))
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.alter_column('assurance', server_default=None)

    op.create_table(
        'essc_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('issuer', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column('created_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['person_account.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('issuer', 'subject'),
    )
    with op.batch_alter_table('essc_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_essc_link_account_id'), ['account_id'], unique=False)

    op.create_table(
        'essc_qr_sign_in',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('nonce', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('code_verifier', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column('next_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column('client_address', sqlmodel.sql.sqltypes.AutoString(length=45), nullable=False),
        sa.Column('created_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('confirmed_at', portal.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('account_id', sa.Integer(), nullable=True),
        sa.Column('assurance', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('used_at', portal.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['person_account.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('state'),
        sa.UniqueConstraint('token_hash'),
    )


def downgrade() -> None:
    op.drop_table('essc_qr_sign_in')
    with op.batch_alter_table('essc_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_essc_link_account_id'))
    op.drop_table('essc_link')
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.drop_column('assurance')
