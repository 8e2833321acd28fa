"""family link: a family member linked to a pensioner by an approved request, who may then certify for them

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 17:40:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import portal.models.types


revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "family_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pensioner_id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("relationship", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("case_reference", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("linked_at", portal.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["family_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["pensioner_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pensioner_id", "family_id", name="uq_family_link"),
    )
    with op.batch_alter_table("family_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_family_link_family_id"), ["family_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("family_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_family_link_family_id"))
    op.drop_table("family_link")
