"""Running Alembic from code, so ``portal db upgrade`` needs no alembic.ini."""

from __future__ import annotations

import re
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

# On PostgreSQL these tables are partitioned by year (migration 0027): their partitions, ``<table>_y<year>`` and
# ``<table>_default``, are the database's storage of the model's one table, not tables of their own.
PARTITIONED_TABLES = ("contribution_month", "pension_payment")
_PARTITION = re.compile(rf"^({'|'.join(PARTITIONED_TABLES)})_(y\d{{4}}|default)$")


def include_name(name, type_, _parent_names) -> bool:
    """Alembic's filter for comparing the database with the models: the partitions are left out."""
    return not (type_ == "table" and name is not None and _PARTITION.match(name))


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url)
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def revision(database_url: str, message: str, rev_id: str) -> None:
    command.revision(alembic_config(database_url), message=message, autogenerate=True, rev_id=rev_id)


def current_heads() -> tuple[str, ...]:
    from alembic.script import ScriptDirectory

    return tuple(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())
