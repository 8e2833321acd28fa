"""benefits (reserved; filled by the issue's work)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 13:05:00.000000
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
