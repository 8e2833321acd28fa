"""contribution_month and pension_payment partitioned by year on PostgreSQL (declarative range partitioning)

Why: the two tables grow by a row per insured person and month (6 million a month in the province) and per
pensioner and benefit month (4 million); every other table stays small beside them. Partitioned by the calendar
year of their ``month``:

- the queries that name the month (billing's current month, the arrears and monitoring months, the payroll's
  benefit months, a death's later months) read only that year's partition and its indexes (partition pruning,
  checked in tests/records/test_query_plans_pg.py; a bill's total names the bill's month for that reason); the
  record page's person query probes each year's small person index (the unique key's) instead of one large one,
  and a look-up by id alone (``session.get``) one primary-key probe per year;
- a year's maintenance is the year's alone: a closed year can be detached (``ALTER TABLE … DETACH PARTITION``),
  archived and dropped without a DELETE of millions of rows, vacuumed, analysed or reindexed on its own, and the
  current year's partition (where all the writes go) stays small enough to stay in memory.

The key is the benefit month for ``pension_payment`` too, not ``run_month``: a partitioned table's unique keys
must include its partition key, and the payroll's ``ON CONFLICT (person_id, month)`` (one payment per person and
benefit month, whatever run paid it) needs ``uq_pension_payment (person_id, month)`` exactly; partitioned by
``run_month`` the key would become (person_id, month, run_month) and no longer stop a month being paid twice by
two runs. The two differ only for back pay (a few months), so a run's rows lie in its year's partition (and the
year before's, for a January run's back pay); the payroll's and monitoring's ``run_month`` reads find them through
``ix_pension_payment_run``, one index probe in each year's partition.

Each table becomes a partitioned parent with the same columns, defaults (the id keeps its sequence, so ids stay
unique across the years and ``session.get`` by id works), unique constraints (they include the month already),
indexes (partial ones too) and foreign keys, all declared on the parent and so created on every partition; the
primary key becomes (id, month), as PostgreSQL requires (the models keep ``id``: Alembic does not compare primary
keys, SQLite keeps its plain tables, and an id is still unique through the sequence). The partitions are the
database's storage of one model table: ``portal.migrate.include_name`` keeps them out of Alembic's comparison.
Yearly partitions ``<table>_y<year>`` from 1990 (or the earliest year present) to 2040 (or the latest), and a
DEFAULT partition ``<table>_default`` so that no insert can fail for want of a partition (add next years'
partitions before 2041; one for a year already in the default partition needs its rows moved out first). Nothing
has a foreign key to either table. SQLite: nothing changes. The downgrade puts plain tables back, rows, keys and
indexes included.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05 21:55:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

# (table, partition key)
PARTITIONED = (("contribution_month", "month"), ("pension_payment", "month"))
FIRST_YEAR = 1990
LAST_YEAR = 2040


def _definitions(table: str) -> dict:
    """The table's sequence, unique constraints, foreign keys and other indexes, as SQL (read before renaming:
    the index definitions name the table)."""
    bind = op.get_bind()
    sequence = bind.execute(sa.text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}).scalar()
    constraints = bind.execute(sa.text(
        "SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
        "WHERE conrelid = CAST(:t AS regclass) AND contype IN ('u', 'f') ORDER BY contype DESC, conname"),
        {"t": table}).all()
    indexes = bind.execute(sa.text(
        "SELECT pg_get_indexdef(x.indexrelid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE x.indrelid = CAST(:t AS regclass) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid) ORDER BY i.relname"), {"t": table}).scalars()
    # A partitioned table's index reads "ON ONLY <table>" (the parent alone); re-created, it is for every partition.
    return {"sequence": sequence, "constraints": constraints,
            "indexes": [definition.replace(" ON ONLY ", " ON ") for definition in indexes]}


def _rebuild(table: str, key: str, *, partitioned: bool) -> None:
    """Re-creates ``table`` (partitioned by ``key``'s year, or plain), moves its rows and restores its keys."""
    definitions = _definitions(table)
    old = f"{table}_before_0027"
    op.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    op.execute(f"ALTER TABLE {table} RENAME TO {old}")
    if partitioned:
        op.execute(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS) PARTITION BY RANGE ({key})")
        low, high = op.get_bind().execute(sa.text(
            f"SELECT CAST(EXTRACT(YEAR FROM MIN({key})) AS integer), "  # noqa: S608 - our names
            f"CAST(EXTRACT(YEAR FROM MAX({key})) AS integer) FROM {old}")).one()
        for year in range(min(FIRST_YEAR, low or FIRST_YEAR), max(LAST_YEAR, high or LAST_YEAR) + 1):
            op.execute(f"CREATE TABLE {table}_y{year} PARTITION OF {table} "
                       f"FOR VALUES FROM ('{year}-01-01') TO ('{year + 1}-01-01')")
        op.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
    else:
        op.execute(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS)")
    op.execute(f"INSERT INTO {table} SELECT * FROM {old}")  # noqa: S608 - the same columns in the same order
    op.execute(f"ALTER SEQUENCE {definitions['sequence']} OWNED BY {table}.id")
    op.execute(f"DROP TABLE {old}")  # its keys and indexes go with it, freeing their names
    columns = f"id, {key}" if partitioned else "id"
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY ({columns})")
    for name, definition, kind in definitions["constraints"]:
        if kind == "u":
            op.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for definition in definitions["indexes"]:
        op.execute(definition)
    for name, definition, kind in definitions["constraints"]:
        if kind == "f":
            op.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    op.execute(f"ANALYZE {table}")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, key in PARTITIONED:
        _rebuild(table, key, partitioned=True)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, key in PARTITIONED:
        _rebuild(table, key, partitioned=False)
