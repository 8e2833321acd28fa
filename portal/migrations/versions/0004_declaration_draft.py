"""declaration draft (a checked base declaration awaiting confirmation)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 04:45:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import portal.models.types


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('declaration_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('employer_id', sa.Integer(), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('contribution_year', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('rows', sa.Text(), nullable=False),
    sa.Column('created_at', portal.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['employer_id'], ['employer.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token')
    )
    with op.batch_alter_table('declaration_draft', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_declaration_draft_employer_id'), ['employer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('declaration_draft', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_declaration_draft_employer_id'))
    op.drop_table('declaration_draft')
