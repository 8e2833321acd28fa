"""The record page and the employer's bills page read only their own rows, whatever else the tables hold.

Each test fills the tables with a few thousand other persons' months (laid out as the monthly billing lays them
out: month after month, everybody's rows of a month together), captures the statement the page's service really
sends, and runs it again under ``EXPLAIN (ANALYZE, BUFFERS)``: every scan of the big tables must go through an
index and hand back exactly the rows asked for, none read and thrown away (no sequential scan, nothing removed
by a filter or an index recheck). PostgreSQL's planner is what the province runs on, so these run in the
PostgreSQL pass only. There ``contribution_month`` is partitioned by year (migration 0027): a scan of the table is
a scan of each year's partition it cannot rule out, and a statement naming the month reads that year's alone.
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event, text

from portal.services import bill_lines, billing, records
from tests import factories
from tests.records.support import employer_actor

pytestmark = pytest.mark.postgres_only

OTHERS = 5000  # other persons
INDEXED = {"Index Scan", "Index Only Scan", "Bitmap Heap Scan"}


@contextmanager
def statements_sent(engine):
    """Every (statement, parameters) the driver is given meanwhile."""
    sent: list[tuple[str, object]] = []

    def capture(_connection, _cursor, statement, parameters, _context, _executemany):
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def first_reading(sent, table: str) -> tuple[str, object]:
    return next((statement, parameters) for statement, parameters in sent
                if f"FROM {table}" in statement and statement.lstrip().upper().startswith("SELECT"))


def explain(engine, statement: str, parameters, *, ours: bool = False) -> dict:
    """The plan of a statement as the driver was given it, or (``ours``) of one of our SQL texts with :names."""
    with engine.connect() as connection:
        if ours:
            plan = connection.execute(text(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {statement}"), parameters).scalar()
        else:
            plan = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {statement}",
                                              parameters).scalar()
        connection.rollback()
    return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]


def scans_of(plan: dict, table: str) -> list[dict]:
    """The plan's scans of ``table`` or of any of its yearly partitions (``<table>_y2025``, ``<table>_default``)."""
    found = [plan] if re.fullmatch(rf"{table}(_y\d{{4}}|_default)?", plan.get("Relation Name", "")) else []
    for child in plan.get("Plans", []):
        found += scans_of(child, table)
    return found


def assert_reads_only(plan: dict, table: str, rows: int) -> None:
    """Every scan of ``table`` uses an index and reads ``rows`` rows in all, none of them thrown away. (A year's
    partition without rows, the years ahead, may be scanned whole: it has not a row to read.)"""
    scans = scans_of(plan, table)
    shown = json.dumps(plan, indent=1)
    assert scans, shown
    for scan in scans:
        empty = scan["Actual Rows"] == 0 and scan.get("Rows Removed by Filter", 0) == 0
        assert scan["Node Type"] in INDEXED or empty, shown
        assert scan.get("Rows Removed by Filter", 0) == 0, shown
        assert scan.get("Rows Removed by Index Recheck", 0) == 0, shown
    assert sum(scan["Actual Rows"] * scan["Actual Loops"] for scan in scans) == rows, shown


def other_persons(db) -> None:
    db.execute(text("""
        INSERT INTO person (id_number, name, birth_date, sex, created_at)
        SELECT 'X' || lpad(CAST(g AS text), 17, '0'), '他人', DATE '1980-01-01', 'male', now()
        FROM generate_series(1, :n) g"""), {"n": OTHERS})


def analyze(db) -> None:
    db.commit()
    for table in ("person", "employer", "bill", "contribution_month"):
        db.execute(text(f"ANALYZE {table}"))
    db.commit()


def test_the_record_page_reads_only_the_persons_own_months(db, engine):
    person = factories.person(db)
    other_persons(db)
    # The person's 40 years, and 24 months of each of the others spread over the same 40 years, month by month.
    db.execute(text("""
        INSERT INTO contribution_month (person_id, month, base_fen, employer_part_fen, individual_part_fen,
                                        personal_account_fen, source, status, employer_id, bill_id, created_at)
        SELECT x.person_id, x.month, 500000, 80000, 40000, 40000, 'employer_filing', 'paid', NULL, NULL, now()
        FROM (SELECT CAST(:me AS integer) AS person_id,
                     CAST(DATE '1986-01-01' + make_interval(months => m) AS date) AS month
              FROM generate_series(0, 479) m
              UNION ALL
              SELECT p.id, CAST(DATE '1986-01-01' + make_interval(months => p.id % 20 + 20 * j) AS date)
              FROM person p CROSS JOIN generate_series(0, 23) j WHERE p.name = '他人') x
        ORDER BY x.month, x.person_id"""), {"me": person.id})
    analyze(db)

    with statements_sent(engine) as sent:
        record = records.build_record(db, person=person, today=date(2026, 1, 15))
    assert record.cumulative_months == 480

    plan = explain(engine, *first_reading(sent, "contribution_month"))
    assert_reads_only(plan, "contribution_month", 480)


def test_the_bills_page_reads_only_the_employers_bills_and_their_lines(db, engine):
    employer = factories.employer(db)
    other_persons(db)
    db.execute(text("""
        INSERT INTO employer (credit_code, name, region, status, created_at, decision_note)
        SELECT 'Y' || lpad(CAST(g AS text), 17, '0'), '他司', '220100', 'verified', now(), ''
        FROM generate_series(1, 200) g"""))
    # 24 monthly bills for each employer; 50 of the persons work for ours, the rest for the 200 others.
    db.execute(text("""
        INSERT INTO bill (payer_kind, payer_id, employer_id, person_id, month, part, due_date, total_fen, status,
                          created_at)
        SELECT 'employer', e.id, e.id, NULL, m.month, 1, m.month + 24, 0, 'paid', now()
        FROM employer e
        CROSS JOIN (SELECT CAST(DATE '2024-01-01' + make_interval(months => g) AS date) AS month
                    FROM generate_series(0, 23) g) m
        ORDER BY m.month, e.id"""))
    db.execute(text("""
        WITH staff AS (SELECT id, row_number() OVER (ORDER BY id) AS r FROM person WHERE name = '他人'),
             others AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM employer WHERE name = '他司'),
             working AS (SELECT s.id AS person_id,
                                CASE WHEN s.r <= 50 THEN CAST(:ours AS integer)
                                     ELSE (SELECT o.id FROM others o WHERE o.k = s.r % 200) END AS employer_id
                         FROM staff s)
        INSERT INTO contribution_month (person_id, month, base_fen, employer_part_fen, individual_part_fen,
                                        personal_account_fen, source, status, employer_id, bill_id, created_at)
        SELECT w.person_id, b.month, 500000, 80000, 40000, 40000, 'employer_filing', 'paid', w.employer_id, b.id,
               now()
        FROM working w JOIN bill b ON b.payer_kind = 'employer' AND b.payer_id = w.employer_id
        ORDER BY b.month, w.person_id"""), {"ours": employer.id})
    analyze(db)
    actor = employer_actor(factories.operator(db, employer_row=employer))

    with statements_sent(engine) as sent:
        bills = billing.bills_for(db, actor=actor)
        counts = bill_lines.line_counts(db, bills=bills)
    assert len(bills) == 24 and set(counts.values()) == {50}

    assert_reads_only(explain(engine, *first_reading(sent, "bill")), "bill", 24)
    lines = explain(engine, *first_reading(sent, "contribution_month"))
    assert_reads_only(lines, "contribution_month", 24 * 50)
    # Only the bills' two years are read (or even planned): not the forty years' partitions without their months.
    assert {scan["Relation Name"] for scan in scans_of(lines, "contribution_month")} == {
        "contribution_month_y2024", "contribution_month_y2025"}


def test_billings_work_on_the_current_month_reads_only_that_years_partition(db, engine):
    person, employer = factories.person(db), factories.employer(db)
    other_persons(db)
    # 24 months of everybody's over 40 years, paid, and the current month's, billed.
    db.execute(text("""
        INSERT INTO contribution_month (person_id, month, base_fen, employer_part_fen, individual_part_fen,
                                        personal_account_fen, source, status, employer_id, bill_id, created_at)
        SELECT p.id, CAST(DATE '1986-01-01' + make_interval(months => p.id % 20 + 20 * j) AS date), 500000, 80000,
               40000, 40000, 'employer_filing', 'paid', CAST(NULL AS integer), CAST(NULL AS integer), now()
        FROM person p CROSS JOIN generate_series(0, 23) j
        UNION ALL
        SELECT p.id, DATE '2026-11-01', 500000, 80000, 40000, 40000, 'employer_filing', 'billed', :employer, NULL,
               now()
        FROM person p"""), {"employer": employer.id})
    month = {"month": date(2026, 11, 1), "now": datetime(2026, 11, 30, tzinfo=UTC)}
    # The employer's bill of the month, opened by this run, its lines the month's rows.
    db.execute(text("""
        INSERT INTO bill (payer_kind, payer_id, employer_id, month, part, due_date, total_fen, status, created_at)
        VALUES ('employer', :employer, :employer, :month, 1, DATE '2026-12-15', 0, 'open', :now)"""),
        {"employer": employer.id, **month})
    db.execute(text("UPDATE contribution_month SET bill_id = (SELECT MAX(id) FROM bill) WHERE month = :month"), month)
    analyze(db)

    same_month = billing._SAME_MONTH["postgresql"]
    for statement in (billing._INSERT_BILLS, billing._ATTACH_EMPLOYER_ROWS, billing._ATTACH_PERSON_ROWS,
                      billing._TOTALS,
                      billing._DROP_EMPTY_BILLS.format(same_month=same_month)):
        plan = explain(engine, statement, {**month, "due": date(2026, 12, 15)}, ours=True)
        # (Partitions left out when the plan was made are not in it; those left out as it ran, never entered;
        # a statement finding nothing to join, e.g. no person's bill here, enters none.)
        read = {scan["Relation Name"] for scan in scans_of(plan, "contribution_month")
                if "Scan" in scan["Node Type"] and scan["Actual Loops"] > 0}
        assert read <= {"contribution_month_y2026"}, json.dumps(plan, indent=1)
        assert read or statement is billing._ATTACH_PERSON_ROWS, json.dumps(plan, indent=1)

    # A person's own months (24 paid and the billed one), no month named: each year's person index, the rows
    # of the person alone.
    plan = explain(engine, "SELECT * FROM contribution_month WHERE person_id = :p ORDER BY month", {"p": person.id},
                   ours=True)
    assert_reads_only(plan, "contribution_month", 25)
