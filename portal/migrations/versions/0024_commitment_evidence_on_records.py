"""commitment evidence on a record without a case: a death report or a linked family member's certification
(record_kind + record_id; case_id may be empty)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 21:30:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("commitment_evidence") as batch:
        batch.alter_column("case_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("record_kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("record_id", sa.Integer(), nullable=True))
        batch.create_index("ix_commitment_evidence_record", ["record_kind", "record_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("commitment_evidence") as batch:
        batch.drop_index("ix_commitment_evidence_record")
        batch.drop_column("record_id")
        batch.drop_column("record_kind")
        batch.alter_column("case_id", existing_type=sa.Integer(), nullable=False)
