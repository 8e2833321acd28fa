"""``portal db backup`` and ``portal db restore``: a whole database to one file and back.

PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore`` in one transaction, run with the same major version as
the server (an older pg_dump cannot read a newer server; a newer one writes settings an older server refuses).
SQLite: the online backup API, which copies a consistent snapshot while the portal keeps running.
A backup is written beside its target and renamed into place, so a failed one never leaves a file that looks
whole. A restore goes only into an empty database unless forced, and forcing replaces everything in it.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupError(RuntimeError):
    """The backup or restore could not be done; the message says why and what to do."""


def backup(database_url: str, target: Path) -> int:
    """Writes the whole database to ``target``; returns its size in bytes."""
    target = Path(target)
    partial = target.with_name(target.name + ".partial")
    try:
        if _is_sqlite(database_url):
            with closing(sqlite3.connect(_sqlite_path(database_url, must_exist=True))) as source, \
                    closing(sqlite3.connect(partial)) as copy:
                source.backup(copy)
        else:
            _check_tool("pg_dump", database_url)
            _run(["pg_dump", "--format=custom", f"--file={partial}", f"--dbname={_conninfo(database_url)}"],
                 database_url)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target.stat().st_size


def restore(database_url: str, source: Path, *, force: bool = False) -> None:
    """Loads ``source`` (made by ``backup``) into the database, which must be empty unless ``force``."""
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"no backup file at {source}")
    with source.open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    sqlite = _is_sqlite(database_url)
    if not head.startswith(SQLITE_MAGIC if sqlite else PG_MAGIC):
        kind = "SQLite" if sqlite else "PostgreSQL (pg_dump --format=custom)"
        raise BackupError(f"{source} is not a {kind} backup, which this database needs")
    tables = _tables(database_url)
    if tables and not force:
        raise BackupError(f"the database is not empty ({len(tables)} tables); restore into an empty database, "
                          "or pass --force to replace everything in it")
    if sqlite:
        with closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)) as backup_file, \
                closing(sqlite3.connect(_sqlite_path(database_url))) as database:
            backup_file.backup(database)  # replaces every page of the database in one step
        return
    _check_tool("pg_restore", database_url)
    if tables:
        engine = create_engine(database_url)
        try:
            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        finally:
            engine.dispose()
    _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
          f"--dbname={_conninfo(database_url)}", str(source)], database_url)


def _is_sqlite(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "sqlite"


def _sqlite_path(database_url: str, *, must_exist: bool = False) -> Path:
    name = make_url(database_url).database
    if not name or name == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    path = Path(name)
    if must_exist and not path.is_file():
        raise BackupError(f"no SQLite database at {path}")
    return path


def _tables(database_url: str) -> list[str]:
    if _is_sqlite(database_url) and not _sqlite_path(database_url).exists():
        return []
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            else:
                query = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            return list(connection.execute(text(query)).scalars())
    finally:
        engine.dispose()


def _conninfo(database_url: str) -> str:
    """The libpq address of the database, without its password (that goes in PGPASSWORD, not on a command line)."""
    url = make_url(database_url).set(drivername="postgresql", password=None)
    return url.render_as_string(hide_password=False)


def _environment(database_url: str) -> dict[str, str]:
    password = make_url(database_url).password
    return os.environ | ({"PGPASSWORD": str(password)} if password else {})


def _major(version_text: str) -> int:
    found = re.search(r"(\d+)(?:\.\d+)?", version_text)
    if not found:
        raise BackupError(f"cannot read a version number from {version_text!r}")
    return int(found.group(1))


def _check_tool(tool: str, database_url: str) -> None:
    if shutil.which(tool) is None:
        raise BackupError(f"{tool} is not installed (Debian: apt-get install postgresql-client)")
    ours = _major(subprocess.run([tool, "--version"], capture_output=True, text=True, check=True).stdout)
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            server = int(connection.execute(text("SHOW server_version_num")).scalar()) // 10000
    finally:
        engine.dispose()
    if ours != server:
        raise BackupError(f"{tool} is version {ours} but the server is version {server}; "
                          f"use the {tool} of PostgreSQL {server}")


def _run(command: list[str], database_url: str) -> None:
    finished = subprocess.run(command, env=_environment(database_url), capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        raise BackupError(f"{command[0]} failed: {finished.stderr.strip()}")
