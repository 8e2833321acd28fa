"""``portal synth`` loads in committed chunks: killed anywhere and run again, it ends as one clean run.

The load runs as the ``portal`` command in a child process that kills itself (SIGKILL) at a named crash point:
``transaction.commit`` (before its first commit), ``synth.chunk.N`` (chunk N written, not committed),
``synth.committed.N`` (chunk N committed) and ``synth.finish`` (every chunk committed, the constraints back,
not committed). The outcome is compared without the timestamps (each command reads the clock), ids included.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from portal import clock
from portal.db import make_sessionmaker, transaction
from portal.devtools import synth
from tests.helpers import snapshot
from tests.records.support import NOW, TODAY
from tests.records.test_batch_crashes import KILLED, clean_run, portal_command

PERSONS, SEED, CHUNK = 250, 4, 100
COMMAND = ["synth", "--persons", str(PERSONS), "--seed", str(SEED), "--chunk", str(CHUNK)]

_COLUMNS = {
    "employer": "id, credit_code, name, region, status, decision_note",
    "person": "id, id_number, name, birth_date, sex",
    "employment_spell": "id, person_id, employer_id, start_month, end_month, end_reason, wage_fen",
    "flexible_enrolment": "id, person_id, start_month, end_month, end_reason",
    "flexible_base_choice": "enrolment_id, contribution_year, base_percent",
    "contribution_month": "id, person_id, month, base_fen, employer_part_fen, individual_part_fen, "
                          "personal_account_fen, source, status, employer_id, bill_id",
    "personal_account_year": "id, person_id, year, opening_balance_fen, contributions_fen, interest_fen, "
                             "closing_balance_fen, interest_rate",
}


def province(connection) -> dict:
    return {table: [tuple(str(value) for value in row) for row in connection.execute(
                text(f"SELECT {columns} FROM {table} ORDER BY 1, 2")).all()]  # noqa: S608
            for table, columns in _COLUMNS.items()}


def schema(engine) -> list[tuple]:
    """Every table, constraint and index definition: a load leaves none dropped and no helper table behind."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            rows = connection.execute(text(
                "SELECT CAST(conrelid AS regclass)::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE connamespace = CAST('public' AS regnamespace) "
                "UNION ALL SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                "UNION ALL SELECT tablename, '', '' FROM pg_tables WHERE schemaname = 'public'")).all()
        else:
            rows = connection.execute(text("SELECT type, name, COALESCE(sql, '') FROM sqlite_master")).all()
    return sorted(map(tuple, rows))


def loaded(engine) -> dict:
    with engine.connect() as connection:
        return province(connection)


def persons_loaded(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT COUNT(*) FROM person")).scalar()


def pending(engine):
    with engine.connect() as connection:
        return synth._pending(connection)


@pytest.fixture
def untouched(db, engine):
    """The empty database's schema; whatever a test leaves pending is discarded afterwards."""
    before = schema(engine)
    yield before
    synth.discard(make_sessionmaker(engine))


@pytest.fixture
def expected(engine):
    """What one uninterrupted load leaves (the same rows as ``generate``), rolled back."""
    return clean_run(engine, province, lambda session: synth.generate(
        session, persons=PERSONS, seed=SEED, today=clock.today(), now=clock.now()))


def test_a_load_killed_after_a_committed_chunk_resumes_there_and_ends_as_one_clean_run(
        engine, database_url, untouched, expected):
    killed = portal_command(database_url, *COMMAND, crash_at="synth.committed.2")
    assert killed.returncode == KILLED, killed.stderr
    assert persons_loaded(engine) == 2 * CHUNK and pending(engine).done == 2 * CHUNK

    rerun = portal_command(database_url, *COMMAND)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{PERSONS} persons" in rerun.stdout and f"resumed after {2 * CHUNK} persons" in rerun.stdout
    assert f"{PERSONS:,}/{PERSONS:,} persons" in rerun.stderr  # the progress line
    assert "disk: database" in rerun.stdout
    assert loaded(engine) == expected
    assert pending(engine) is None and schema(engine) == untouched


def test_a_chunk_killed_before_its_commit_is_loaded_again_whole_and_only_once(
        engine, database_url, untouched, expected):
    killed = portal_command(database_url, *COMMAND, crash_at="synth.chunk.2")
    assert killed.returncode == KILLED, killed.stderr
    assert persons_loaded(engine) == CHUNK and pending(engine).done == CHUNK

    rerun = portal_command(database_url, *COMMAND)
    assert rerun.returncode == 0, rerun.stderr
    assert loaded(engine) == expected
    assert pending(engine) is None and schema(engine) == untouched


def test_a_load_killed_before_its_first_commit_leaves_nothing(engine, database_url, untouched):
    before = snapshot(engine)
    killed = portal_command(database_url, *COMMAND, crash_at="transaction.commit")
    assert killed.returncode == KILLED, killed.stderr
    assert snapshot(engine) == before and schema(engine) == untouched


def test_a_load_killed_while_restoring_its_constraints_finishes_on_the_rerun_without_adding_rows(
        engine, database_url, untouched, expected):
    killed = portal_command(database_url, *COMMAND, crash_at="synth.finish")
    assert killed.returncode == KILLED, killed.stderr
    assert loaded(engine) == expected and pending(engine).done == PERSONS

    rerun = portal_command(database_url, *COMMAND)
    assert rerun.returncode == 0, rerun.stderr
    assert loaded(engine) == expected
    assert pending(engine) is None and schema(engine) == untouched


def test_another_load_is_refused_while_one_is_stopped_and_discarding_it_restores_the_database(
        db, engine, database_url, untouched):
    before = snapshot(engine)
    assert portal_command(database_url, *COMMAND, crash_at="synth.committed.1").returncode == KILLED

    other = portal_command(database_url, "synth", "--persons", "99")
    assert other.returncode == 1 and f"stopped after {CHUNK}" in other.stderr
    with pytest.raises(synth.SynthPending):
        synth.generate(db, persons=10, seed=1, today=TODAY, now=NOW)
    db.rollback()

    discarded = portal_command(database_url, "synth", "--discard")
    assert discarded.returncode == 0 and "discarded" in discarded.stdout, discarded.stderr
    assert snapshot(engine) == before and schema(engine) == untouched
    assert "no synthetic load was pending" in portal_command(database_url, "synth", "--discard").stdout


def test_loading_in_chunks_writes_exactly_what_one_generation_writes(db, engine, untouched):
    whole = clean_run(engine, province, lambda session: synth.generate(
        session, persons=PERSONS, seed=SEED, today=TODAY, now=NOW))
    report = synth.load(make_sessionmaker(engine), persons=PERSONS, seed=SEED, today=TODAY, now=NOW, chunk=70)
    assert loaded(engine) == whole
    assert report.persons == PERSONS and report.months == len(whole["contribution_month"])
    assert report.account_years == len(whole["personal_account_year"]) and report.resumed_after == 0
    assert schema(engine) == untouched


def test_the_disk_use_names_the_database_then_its_largest_tables(db, engine):
    synth.generate(db, persons=60, seed=2, today=TODAY, now=NOW)
    db.commit()
    with engine.connect() as connection:
        use = synth.disk_use(connection)
    assert use[0][0] == "database" and use[0][1] > 0
    if engine.dialect.name == "postgresql":
        assert use[1][0] == "contribution_month" and all(size > 0 for _, size in use)


def test_the_copy_baseline_copies_every_row_of_the_province_slice_by_slice_and_leaves_no_copy(db, engine):
    synth.generate(db, persons=60, seed=2, today=TODAY, now=NOW)
    db.commit()
    baseline = synth.copy_baseline(engine, slice_rows=4000)  # the history in three slices
    if engine.dialect.name == "sqlite":
        assert baseline is None  # COPY is PostgreSQL's
        return
    with transaction(make_sessionmaker(engine)) as session:
        counts = {table: session.connection().execute(text(f"SELECT COUNT(*) FROM {table}")).scalar()  # noqa: S608
                  for table in synth.SYNTH_TABLES}
        copies = session.connection().execute(text(
            "SELECT COUNT(*) FROM pg_namespace WHERE nspname = 'synth_copy'")).scalar()
    assert {table: rows for table, rows, _ in baseline.tables} == counts
    assert baseline.rows == sum(counts.values()) and baseline.seconds > 0
    assert copies == 0
