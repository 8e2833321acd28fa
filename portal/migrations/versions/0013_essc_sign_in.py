"""electronic social security card sign-in: provider links, QR sign-in codes, assurance levels

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 09:15:00.000000
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
