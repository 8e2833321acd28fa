"""bill_line folded into contribution_month: a bill's lines are the months carrying its bill_id

Every bill_line repeated its contribution month (person, base, both parts, their sum) and the bill the month
already names in contribution_month.bill_id; billing wrote each month twice. The table goes; readers use
contribution_month.bill_id (partial index ix_contribution_month_bill). A downgrade rebuilds it from the months.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05 21:45:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bill_line", schema=None) as batch_op:
        batch_op.drop_index("ix_bill_line_bill")
    op.drop_table("bill_line")


def downgrade() -> None:
    op.create_table("bill_line",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("bill_id", sa.Integer(), nullable=False),
    sa.Column("contribution_month_id", sa.Integer(), nullable=False),
    sa.Column("person_id", sa.Integer(), nullable=False),
    sa.Column("base_fen", sa.BigInteger(), nullable=False),
    sa.Column("employer_part_fen", sa.BigInteger(), nullable=False),
    sa.Column("individual_part_fen", sa.BigInteger(), nullable=False),
    sa.Column("amount_fen", sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(["bill_id"], ["bill.id"], ),
    sa.ForeignKeyConstraint(["contribution_month_id"], ["contribution_month.id"], ),
    sa.ForeignKeyConstraint(["person_id"], ["person.id"], ),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("contribution_month_id")
    )
    with op.batch_alter_table("bill_line", schema=None) as batch_op:
        batch_op.create_index("ix_bill_line_bill", ["bill_id"], unique=False)
    op.execute(
        "INSERT INTO bill_line (bill_id, contribution_month_id, person_id, base_fen, employer_part_fen, "
        "individual_part_fen, amount_fen) "
        "SELECT bill_id, id, person_id, base_fen, employer_part_fen, individual_part_fen, "
        "employer_part_fen + individual_part_fen FROM contribution_month WHERE bill_id IS NOT NULL"
    )
