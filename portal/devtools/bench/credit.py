"""Benchmark: ``portal credit recompute`` (issue 13: 200,000 employers rated set-based in under 10 s on PostgreSQL).

    from portal.devtools.bench.credit import run
    for label, value in run(): print(f"{label:<80} {value}")

The employers are written set-based across the nine prefectures, each with twelve monthly bills (most paid; one in
twenty with the last three months still unpaid, so arrears count), and stored events for a few (a false commitment
for one in a hundred, a correction for one in fifty). ``portal.services.credit.recompute`` then rates everyone in
one transaction, and again (it replaces the table, so the second run gives the same rows). SQLite measures fewer
employers (``SQLITE_EMPLOYERS``). PostgreSQL is ``portal_bench_credit`` (PORTAL_BENCH_CREDIT_PG_URL overrides; its
schema is dropped and rebuilt).
"""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime

from sqlalchemy import create_engine, text

from portal.devtools.bench.support import fresh_database, on_both_databases

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
TODAY = date(2026, 11, 28)
EMPLOYERS = 200_000
SQLITE_EMPLOYERS = 20_000
MONTHS = 12  # December 2025 to November 2026
PREFECTURES = ("220100", "220200", "220300", "220400", "220500", "220600", "220700", "220800", "222400")


def _series(dialect: str, name: str = "n") -> str:
    if dialect == "postgresql":
        return f"SELECT generate_series(1, :count) AS {name}"
    recursive = "WITH RECURSIVE s(@) AS (SELECT 1 UNION ALL SELECT @ + 1 FROM s WHERE @ < :count) SELECT @ FROM s"
    return recursive.replace("@", name)


def _text(dialect: str, sql: str) -> str:
    """The spellings that differ: PAD10(x) zero-pads to ten digits; MONTH(k) is the first of the k-th month after
    November 2025; DUE(k) the 15th of the month after it."""
    if dialect == "postgresql":
        sql = re.sub(r"PAD10\(([\w.]+)\)", r"lpad(\1::text, 10, '0')", sql)
        sql = re.sub(r"MONTH\(([\w.]+)\)", r"(date '2025-11-01' + (\1 || ' months')::interval)::date", sql)
        return re.sub(r"DUE\(([\w.]+)\)", r"(date '2025-12-15' + (\1 || ' months')::interval)::date", sql)
    sql = re.sub(r"PAD10\(([\w.]+)\)", r"printf('%010d', \1)", sql)
    sql = re.sub(r"MONTH\(([\w.]+)\)", r"date('2025-11-01', '+' || \1 || ' months')", sql)
    return re.sub(r"DUE\(([\w.]+)\)", r"date('2025-12-15', '+' || \1 || ' months')", sql)


def build(engine, count: int) -> None:
    """``count`` employers with twelve bills each and a few stored events."""
    dialect = engine.dialect.name
    regions = " ".join(f"WHEN {i} THEN '{region}'" for i, region in enumerate(PREFECTURES))
    with engine.begin() as connection:
        connection.execute(text(_text(dialect, f"""
            INSERT INTO employer (credit_code, name, region, status, created_at, decision_note)
            SELECT '91220100' || PAD10(n), '基准单位' || n, CASE n % 9 {regions} END, 'verified', :now, ''
            FROM ({_series(dialect)}) s""")), {"count": count, "now": NOW})  # noqa: S608 (constants)
        connection.execute(text(_text(dialect, f"""
            INSERT INTO bill (payer_kind, payer_id, employer_id, month, part, due_date, total_fen, status,
                              created_at, paid_at)
            SELECT 'employer', e.id, e.id, MONTH(k.k), 1, DUE(k.k), 100000 + e.id % 900000,
                   CASE WHEN e.id % 20 = 0 AND k.k > {MONTHS - 3} THEN 'open' ELSE 'paid' END, :now,
                   CASE WHEN e.id % 20 = 0 AND k.k > {MONTHS - 3} THEN NULL ELSE :now END
            FROM employer e CROSS JOIN ({_series(dialect, 'k')}) k""")),  # noqa: S608 (constants)
            {"count": MONTHS, "now": NOW})
        connection.execute(text("""
            INSERT INTO credit_event (subject_kind, subject_id, kind, occurred_on, recorded_at, note)
            SELECT 'employer', id, CASE WHEN id % 100 = 0 THEN 'false_commitment' ELSE 'correction_made' END,
                   :day, :now, 'bench'
            FROM employer WHERE id % 100 = 0 OR id % 50 = 25"""), {"day": date(2026, 6, 1), "now": NOW})
    if dialect == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))


def measure(url: str, *, employers: int | None = None) -> list[tuple[str, str]]:
    from portal.db import make_sessionmaker
    from portal.services import credit

    fresh_database(url)
    engine = create_engine(url)
    dialect = engine.dialect.name
    count = employers or (EMPLOYERS if dialect == "postgresql" else SQLITE_EMPLOYERS)
    figures: list[tuple[str, str]] = []
    try:
        build(engine, count)
        sessionmaker = make_sessionmaker(engine)
        timings = []
        for _ in range(2):  # the second run replaces the first's rows: the same table
            with sessionmaker() as session:
                started = time.perf_counter()
                rated = credit.recompute(session, on=TODAY, now=NOW)
                session.commit()
                timings.append(time.perf_counter() - started)
            if rated != count:
                raise RuntimeError(f"recompute rated {rated} of {count} employers")
        with engine.connect() as connection:
            grades = dict(connection.execute(text(
                "SELECT grade, count(*) FROM credit_rating GROUP BY grade ORDER BY grade")).all())
        target = " (target < 10 s)" if count >= EMPLOYERS else ""
        figures.append((f"[{dialect}] credit recompute, {count:,} employers ({count * MONTHS:,} bills)",
                        f"{timings[0]:.2f} s{target}"))
        figures.append((f"[{dialect}] the same recompute run again", f"{timings[1]:.2f} s"))
        figures.append((f"[{dialect}] grades", ", ".join(f"{g} {n:,}" for g, n in sorted(grades.items()))))
    finally:
        engine.dispose()
    return figures


def run() -> list[tuple[str, str]]:
    """The credit section of the benchmark: (label, figure) pairs, ready to print."""
    return on_both_databases("credit", measure, override="PORTAL_BENCH_CREDIT_PG_URL")
