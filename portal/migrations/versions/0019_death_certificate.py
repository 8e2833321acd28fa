"""death certificate: the document a family member attaches to a reported death

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 17:40:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import portal.models.types


revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "death_certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("death_report_id", sa.Integer(), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_at", portal.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["death_report_id"], ["death_report.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("death_report_id"),
    )


def downgrade() -> None:
    op.drop_table("death_certificate")
