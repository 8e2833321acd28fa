"""person: PostgreSQL statistics on the birth month and the prefecture of the identity number

Why: monitoring counts the insured of each month by area, birth month and sex (portal/services/monitoring.py,
``_insured_cells``). PostgreSQL estimates how many groups an expression makes from the columns in it: for the
identity number and the birth date, nearly one a person. Expecting as many groups as rows, it aggregates tens of
millions of rows in one process (53 s for a million persons' months since 2020-07). With statistics on these exact
expressions it knows there are a few hundred birth months and a few dozen prefectures, and aggregates in parallel
workers first. The statements write the expressions with literal constants so that they match these.
SQLite has no such statistics and needs none.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 04:00:00.000000
"""
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

STATISTICS = {
    "person_birth_month_stats": "(CAST(EXTRACT(year FROM birth_date) AS INTEGER) * 12 "
                                "+ CAST(EXTRACT(month FROM birth_date) AS INTEGER)) - 1",
    "person_home_prefecture_stats": "substr(id_number, 1, 4) || '00'",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, expression in STATISTICS.items():
        op.execute(f"CREATE STATISTICS IF NOT EXISTS {name} ON ({expression}) FROM person")
    op.execute("ANALYZE person")  # the new statistics are filled now, not at autovacuum's next pass


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in STATISTICS:
        op.execute(f"DROP STATISTICS IF EXISTS {name}")
