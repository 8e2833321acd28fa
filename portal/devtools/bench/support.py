"""What every benchmark section shares: its figures, its ``Bench``, and scratch databases (never the application's
or the tests' database)."""

from __future__ import annotations

import argparse
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BENCH_DATABASE = "portal_bench"


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    target: float | None = None  # an upper bound from the issue, when there is one

    def line(self) -> str:
        verdict = ""
        if self.target is not None:
            verdict = f"  (target < {self.target:g} {self.unit}: {'met' if self.value < self.target else 'NOT MET'})"
        return f"  {self.name:<58} {self.value:>10.2f} {self.unit}{verdict}"


@dataclass
class Bench:
    url: str
    backend: str  # postgresql | sqlite
    notes: list[str] = field(default_factory=list)
    options: argparse.Namespace | None = None

    def engine(self) -> Engine:
        from portal.db import make_engine

        return make_engine(self.url)


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return math.nan
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


# --- the scratch database ------------------------------------------------------------------------


def prepare_database() -> Bench:
    """An empty, migrated database for the benchmark: PostgreSQL when reachable, SQLite otherwise."""
    url = scratch_pg_url(BENCH_DATABASE)
    try:
        fresh_database(url)
        return Bench(url=url, backend="postgresql")
    except Exception as error:  # unreachable, or no rights: say so and measure SQLite instead
        path = Path(tempfile.gettempdir()) / "portal_bench.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        bench = Bench(url=f"sqlite:///{path}", backend="sqlite")
        bench.notes.append(f"PostgreSQL unreachable ({type(error).__name__}: {str(error).splitlines()[0][:120]}); "
                           "these are SQLite figures, not the PostgreSQL targets")
        fresh_database(bench.url)
        return bench


def scratch_pg_url(database: str, override: str | None = None) -> str:
    """``database`` on the PostgreSQL server the tests use, unless the environment variable ``override`` names a URL."""
    if override and os.environ.get(override):
        return os.environ[override]
    base = os.environ.get("PORTAL_BENCH_PG_URL") or os.environ.get("PORTAL_TEST_PG_URL") or DEFAULT_PG_URL
    return make_url(base).set(database=database).render_as_string(hide_password=False)


def fresh_database(url: str) -> None:
    """An empty, migrated database at ``url``: on PostgreSQL created when missing, its schema rebuilt."""
    from portal.migrate import upgrade

    if url.startswith("postgresql"):
        name = make_url(url).database
        admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                            {"name": name}).first()
                if not exists:
                    connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(url)


def on_both_databases(name: str, measure, *, override: str) -> list[tuple[str, str]]:
    """``measure(url)`` on a fresh SQLite file, then on the PostgreSQL scratch database ``portal_bench_<name>``.

    When PostgreSQL cannot be measured the figure says why, rather than leaving it out.
    """
    figures: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as directory:
        figures += measure(f"sqlite:///{Path(directory) / f'bench_{name}.db'}")
    try:
        figures += measure(scratch_pg_url(f"portal_bench_{name}", override))
    except Exception as error:  # reported, not hidden
        figures.append((f"[postgresql] {name.replace('_', ' ')} benchmark",
                        f"not run: {type(error).__name__}: {error}"[:200]))
    return figures


def same_shape_copy(connection, table: str, copy: str) -> None:
    """``copy``: an empty table with ``table``'s columns, keys and indexes, for a same-run baseline that writes the
    same rows as the code measured (what storing them costs the database, without the project's logic)."""
    import re

    connection.execute(text(f"DROP TABLE IF EXISTS {copy}"))
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"CREATE TABLE {copy} (LIKE {table} INCLUDING ALL)"))
        return
    rows = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE tbl_name = :table AND sql IS NOT NULL "
                                   "ORDER BY type DESC"), {"table": table}).all()
    names = {name for name, _ in rows} | {table}
    for _, sql in rows:
        connection.execute(text(re.sub(r"\b(" + "|".join(map(re.escape, sorted(names, key=len, reverse=True))) + r")\b",
                                       lambda m: copy if m.group(1) == table else f"{copy}_{m.group(1)}", sql)))
