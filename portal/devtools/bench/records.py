"""Benchmark figures for the records and billing batch work (wired into ``make bench`` by portal/devtools/bench/).

    from portal.devtools.bench.records import run
    for label, value in run(): print(f"{label:<50} {value}")

Builds a synthetic province of 100,000 persons on a fresh SQLite file and on the PostgreSQL database
``portal_bench_records`` (PORTAL_BENCH_RECORDS_PG_URL overrides; the schema is dropped and rebuilt), then
times one billing run for the current month and one year's interest crediting for every account, each beside its
same-run baseline (``baselines``: the same number of rows written by one plain statement into a copy of the table).
"""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime

from sqlalchemy import text

from portal.devtools.bench import baselines
from portal.devtools.bench.support import fresh_database, on_both_databases

TODAY = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


def _timed(factory, work):
    from portal.db import transaction

    started = time.perf_counter()
    with transaction(factory) as session:
        result = work(session)
    return time.perf_counter() - started, result


def measure(url: str, *, persons: int) -> list[tuple[str, str]]:
    from portal.db import make_engine, make_sessionmaker
    from portal.devtools import synth
    from portal.services import billing
    from portal.services.personal_accounts import credit_interest

    fresh_database(url)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    backend = engine.dialect.name
    figures: list[tuple[str, str]] = []
    seconds, report = _timed(factory, lambda s: synth.generate(s, persons=persons, seed=1, today=TODAY, now=NOW))
    figures.append((f"[{backend}] synth {persons:,} persons ({report.months:,} insured months)", f"{seconds:.1f} s"))
    figures += [(f"[{backend}]   {phase}", f"{value} s") for phase, value in report.phases]
    copied = synth.copy_baseline(engine)  # right after the synth, before billing adds rows; None on SQLite
    if copied is not None:
        figures.append((f"[{backend}]   COPY of the same {copied.rows:,} rows into copies of the tables, keys and "
                        "indexes built", f"{copied.seconds:.1f} s; synth / COPY {seconds / copied.seconds:.2f}x "
                        "(target within 2x)"))
    month = TODAY.replace(day=1)
    bare_s, bare_rows = baselines.billing(engine, month=month, now=NOW)
    seconds, run = _timed(factory, lambda s: billing.run_billing(s, month=month, now=NOW))
    figures.append((f"[{backend}] billing run {month:%Y-%m} ({run.employee_months + run.flexible_months:,} months, "
                    f"{run.bills:,} bills)", f"{seconds:.2f} s"))
    figures.append((f"[{backend}]   bare INSERT ... SELECT of {bare_rows:,} months into a copy of the table",
                    f"{bare_s:.2f} s; billing / bare {seconds / bare_s:.2f}x (target within 3x)"))
    seconds, _ = _timed(factory, lambda s: billing.run_billing(s, month=month, now=NOW))
    figures.append((f"[{backend}] billing rerun (changes nothing)", f"{seconds:.2f} s"))
    year = TODAY.year - 1
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM personal_account_year WHERE year = :y"), {"y": year})
    bare_s, bare_rows = baselines.interest(engine, year=year, now=NOW)
    seconds, credited = _timed(factory, lambda s: credit_interest(s, year=year, now=NOW))
    figures.append((f"[{backend}] credit interest {year} ({credited.accounts:,} accounts)", f"{seconds:.2f} s"))
    figures.append((f"[{backend}]   bare INSERT ... SELECT ... GROUP BY of {bare_rows:,} accounts into a copy",
                    f"{bare_s:.2f} s; interest / bare {seconds / bare_s:.2f}x (target within 3x)"))
    seconds, _ = _timed(factory, lambda s: credit_interest(s, year=year, now=NOW))
    figures.append((f"[{backend}] credit interest rerun (changes nothing)", f"{seconds:.2f} s"))
    engine.dispose()
    return figures


def run(persons: int | None = None) -> list[tuple[str, str]]:
    """The records section of the benchmark: (label, figure) pairs, ready to print."""
    persons = persons or int(os.environ.get("PORTAL_BENCH_RECORDS_PERSONS", "100000"))
    return on_both_databases("records", lambda url: measure(url, persons=persons),
                             override="PORTAL_BENCH_RECORDS_PG_URL")


if __name__ == "__main__":
    for label, value in run():
        print(f"{label:<60} {value}")
