"""Benchmark: monitoring and the fund budget (issue 17). The targets, on a synthetic province of 1,000,000 persons on
PostgreSQL: ``portal monitoring refresh`` from empty in under 60 s and for one changed month in under 10 s; the
monitoring page in under 300 ms; the projection to 2050 in under 5 s.

    python -m portal.devtools.bench --only monitoring                              # the figures of the issue
    python -m portal.devtools.bench --only monitoring --monitoring-persons 500     # a quick look that it works

A synthetic province (portal/devtools/synth.py: employers, spells, flexible workers and their contribution months
since the accounts began) is written to a fresh SQLite file and to the PostgreSQL database
``portal_bench_monitoring`` (PORTAL_BENCH_MONITORING_PG_URL overrides; its schema is dropped and rebuilt). Then:
the refresh from empty (every month's figures and the anomaly flags, as the command does it, in one transaction);
one month's records changed (a base in one row of fifty of October) and the refresh again, which recomputes that
month only; a rerun, which recomputes nothing; ``GET /staff/monitoring`` for a signed-in provincial supervisor
(Starlette's TestClient, the full request boundary); and the long-horizon projection from the record's cohorts.
SQLite measures fewer persons (``SQLITE_PERSONS``). Each figure is printed with the issue's target beside it; the
targets are for the full size on PostgreSQL, so a smaller run only shows that the section works.
"""

from __future__ import annotations

import re
import statistics
import time
from datetime import UTC, date, datetime

from portal.devtools.bench.support import fresh_database, on_both_databases

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
TODAY = date(2026, 11, 28)
PERSONS = 1_000_000
SQLITE_PERSONS = 100_000
CHANGED_MONTH = date(2026, 10, 1)
REQUESTS = 20
PASSWORD = "Bench-Monitoring-2026"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
# The targets (seconds, or milliseconds for the page), for 1,000,000 persons on PostgreSQL.
TARGETS = {"refresh": 60, "changed": 10, "page": 300, "projection": 5}


def _timed(factory, work):
    from portal.db import transaction

    started = time.perf_counter()
    with transaction(factory) as session:
        result = work(session)
    return time.perf_counter() - started, result


def _refresh(session):
    """What ``portal monitoring refresh`` does."""
    from portal.services import anomalies, monitoring

    report = monitoring.refresh(session, now=NOW, today=TODAY)
    anomalies.refresh_flags(session, now=NOW, today=TODAY)
    return report


def _change_one_month(session) -> int:
    """A base corrected in one row of fifty of the month: the month's records changed, no other month's."""
    from sqlalchemy import update

    from portal.models import ContributionMonth

    changed = session.execute(update(ContributionMonth)
                              .where(ContributionMonth.month == CHANGED_MONTH, ContributionMonth.id % 50 == 0)
                              .values(base_fen=ContributionMonth.base_fen + 100)
                              .execution_options(synchronize_session=False))
    return changed.rowcount or 0


def _supervisor(factory) -> str:
    from portal.auth.passwords import hash_password
    from portal.db import transaction
    from portal.models import StaffMember

    with transaction(factory) as session:
        session.add(StaffMember(staff_number="B1703", name="基准主管", roles="supervisor",
                                password_hash=hash_password(PASSWORD), totp_secret=SECRET, created_at=NOW))
    return "B1703"


def _page_timings(url: str, staff_number: str) -> list[float]:
    from starlette.testclient import TestClient

    from portal import clock
    from portal.app import create_app
    from portal.auth.totp import code_at
    from portal.settings import Settings

    clock.freeze(NOW)
    app = create_app(Settings(database_url=url, secret_key="bench-monitoring", env="test", payment_secret="bench"))
    try:
        with TestClient(app, base_url="http://testserver", follow_redirects=False) as browser:
            token = CSRF.search(browser.get("/login?account_type=staff").text).group(1)
            signed = browser.post("/login", data={"account_type": "staff", "username": staff_number,
                                                  "password": PASSWORD, "otp": code_at(SECRET, NOW),
                                                  "csrf_token": token})
            if signed.status_code != 303:
                raise RuntimeError(f"sign-in failed: {signed.status_code}")
            first = browser.get("/staff/monitoring")
            if first.status_code != 200 or 'id="table-areas"' not in first.text:
                raise RuntimeError(f"/staff/monitoring did not show the areas' table: {first.status_code}")
            samples = []
            for _ in range(REQUESTS):
                started = time.perf_counter()
                browser.get("/staff/monitoring")
                samples.append((time.perf_counter() - started) * 1000)
            return samples
    finally:
        clock.freeze(None)
        app.state.engine.dispose()


def _target(which: str, unit: str, full: bool) -> str:
    size = "" if full else f" at {PERSONS:,} persons on PostgreSQL"
    return f"(target < {TARGETS[which]} {unit}{size})"


def measure(url: str, *, persons: int | None = None) -> list[tuple[str, str]]:
    from portal.db import make_engine, make_sessionmaker
    from portal.devtools import synth
    from portal.services import budget

    fresh_database(url)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    backend = engine.dialect.name
    count = persons or (PERSONS if backend == "postgresql" else SQLITE_PERSONS)
    full = backend == "postgresql" and count >= PERSONS
    figures: list[tuple[str, str]] = []
    try:
        seconds, made = _timed(factory, lambda s: synth.generate(s, persons=count, seed=1, today=TODAY, now=NOW))
        figures.append((f"[{backend}] synth {count:,} persons ({made.months:,} insured months)", f"{seconds:.1f} s"))
        seconds, report = _timed(factory, _refresh)
        figures.append((f"[{backend}] monitoring refresh from empty ({len(report.recomputed)} months)",
                        f"{seconds:.2f} s {_target('refresh', 's', full)}"))
        _seconds, rows = _timed(factory, _change_one_month)
        seconds, report = _timed(factory, _refresh)
        if [month for month in report.recomputed] != [CHANGED_MONTH]:
            raise RuntimeError(f"one changed month recomputed {report.recomputed}")
        figures.append((f"[{backend}] monitoring refresh, one changed month ({rows:,} rows of {CHANGED_MONTH:%Y-%m})",
                        f"{seconds:.2f} s {_target('changed', 's', full)}"))
        seconds, report = _timed(factory, _refresh)
        figures.append((f"[{backend}] monitoring refresh rerun ({len(report.recomputed)} months recomputed)",
                        f"{seconds:.2f} s"))
        seconds, projected = _timed(factory, lambda s: budget.long_horizon(s, today=TODAY))
        if projected is None:
            raise RuntimeError("no month on record to project from")
        figures.append((f"[{backend}] projection {projected.start_year + 1}-{projected.years[-1].year} from the "
                        f"record's cohorts", f"{seconds:.2f} s {_target('projection', 's', full)}"))
        samples = sorted(_page_timings(url, _supervisor(factory)))
        p95 = samples[max(0, int(len(samples) * 95 / 100) - 1)]
        # The minimum is the figure on an idle machine; the median and p95 show what load on the machine adds.
        figures.append((f"[{backend}] GET /staff/monitoring (min / median / p95 of {REQUESTS})",
                        f"{samples[0]:.1f} / {statistics.median(samples):.1f} / {p95:.1f} ms "
                        f"{_target('page', 'ms', full)}"))
    finally:
        engine.dispose()
    return figures


def run(persons: int | None = None) -> list[tuple[str, str]]:
    """The monitoring section of the benchmark: (label, figure) pairs, ready to print."""
    return on_both_databases("monitoring", lambda url: measure(url, persons=persons),
                             override="PORTAL_BENCH_MONITORING_PG_URL")


if __name__ == "__main__":
    for label, value in run():
        print(f"{label:<80} {value}")
