"""Scratch databases for the benchmark sections (never the application's or the tests' database)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


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
