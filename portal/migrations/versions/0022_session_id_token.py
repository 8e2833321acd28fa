"""web session: the card provider's ID token of a card sign-in, sent back as id_token_hint at sign-out

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 21:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('id_token', sa.Text(), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.drop_column('id_token')
