"""one rule at every door: bills kept whole under deferral or payment

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 09:15:00.000000
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
