"""insurance certificates

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 05:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import portal.models.types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('certificate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('issued_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('cumulative_months', sa.Integer(), nullable=False),
    sa.Column('periods_json', sa.Text(), nullable=False),
    sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.create_index('ix_certificate_person_issued', ['person_id', 'issued_on'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_index('ix_certificate_person_issued')

    op.drop_table('certificate')
