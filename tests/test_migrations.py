"""The Alembic migrations build exactly the tables the SQLModel models describe."""

import re

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import portal.models  # noqa: F401 - registers every table on the metadata
from portal.migrate import MIGRATIONS, alembic_config, current_heads, include_name


def test_the_migrated_database_matches_the_models(engine):
    """A freshly upgraded database (the suite's own) differs from the models in nothing (on PostgreSQL, the
    yearly partitions of the partitioned tables are not tables of their own)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                              "compare_server_default": False,
                                                              "include_name": include_name})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == [], "models and migrations drift apart; run: portal db revision -m ... --rev-id NNNN"


def test_the_database_is_at_the_single_head(engine):
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_heads() == current_heads()
    assert len(current_heads()) == 1


def test_the_migrations_form_one_line_numbered_0001_0002_and_so_on():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    revisions = list(reversed(list(script.walk_revisions())))
    assert len(script.get_heads()) == 1
    assert [revision.revision for revision in revisions] == [f"{n:04d}" for n in range(1, len(revisions) + 1)]
    for previous, revision in zip([None, *revisions], revisions, strict=False):
        assert revision.down_revision == (previous.revision if previous else None), revision.revision


def test_every_migration_file_is_named_after_its_number():
    files = sorted(path.name for path in (MIGRATIONS / "versions").glob("*.py") if path.name != "__init__.py")
    assert files
    numbers = [re.match(r"^(\d{4})_[a-z0-9_]+\.py$", name) for name in files]
    assert all(numbers), files
    assert [match.group(1) for match in numbers] == [f"{n:04d}" for n in range(1, len(files) + 1)]
