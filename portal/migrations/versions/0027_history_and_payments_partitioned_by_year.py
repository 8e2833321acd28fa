"""contribution_month and pension_payment partitioned by year on PostgreSQL (placeholder: filled in next)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05 21:55:00.000000
"""


revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
