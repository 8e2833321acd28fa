"""transfers: the personal account received is credited to the person's account; an outgoing transfer's payment order

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 17:40:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('transfer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account_credit_fen', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('credited_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('payment_order_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_transfer_payment_order_id', 'payment_order', ['payment_order_id'], ['id'])
    with op.batch_alter_table('transfer', schema=None) as batch_op:
        batch_op.alter_column('account_credit_fen', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('transfer', schema=None) as batch_op:
        batch_op.drop_constraint('fk_transfer_payment_order_id', type_='foreignkey')
        batch_op.drop_column('payment_order_id')
        batch_op.drop_column('credited_on')
        batch_op.drop_column('account_credit_fen')
