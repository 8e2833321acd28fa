"""Benchmark section ``queue``: take next by eight handler processes at once, and the staff workbench's pages.

On the PostgreSQL database ``portal_bench`` (or a scratch SQLite file when PostgreSQL is unreachable; see
support.py): a queue of open cases filled set-based, then each handler process takes cases under two harnesses.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text, update
from sqlalchemy.engine import Engine
from sqlmodel import select

from portal.devtools.bench.support import Bench, Figure, percentile

BENCH_NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # a Monday morning in China

KINDS = ("employer_verification", "enrolment_correction", "deferral", "back_payment", "flexible_exception",
         "transfer", "retirement_claim", "certification_exception", "survivor_claim", "credit_objection")
PREFECTURES = ("220100", "220200", "220300", "220400", "220500", "220600", "220700", "220800", "222400")
HANDLERS = 8


def _sql_choice(values: tuple[str, ...], expr: str) -> str:
    whens = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
    return f"CASE ({expr}) % {len(values)} {whens} END"


# 70% waiting for a handler, 15% held, 5% with the applicant, 10% in review: all open.
_STATE = "CASE WHEN i % 20 < 14 THEN 'checked' WHEN i % 20 < 17 THEN 'in_progress' " \
         "WHEN i % 20 = 17 THEN 'waiting_for_applicant' ELSE 'in_review' END"


def fill_queue(engine: Engine, n: int, staff_ids: list[int]) -> None:
    """``n`` open cases in one set-based statement (generate_series / a recursive CTE)."""
    holder = f"CASE WHEN ({_STATE}) = 'checked' THEN NULL ELSE {staff_ids[0]} + (i % {len(staff_ids)}) END"
    columns = (
        "reference, kind, applicant_kind, applicant_id, prefecture, channel, payload, risk_tier, route, state, "
        "handler_id, checks_passed, check_results, submitted_at, opened_at, due_on, pauses, version, "
        "idempotency_key, updated_at"
    )
    if engine.dialect.name == "postgresql":
        source = "generate_series(1, :n) AS i"
        reference = "'JL20261128' || lpad(i::text, 6, '0')"
        submitted = "timestamptz '2026-11-27 00:00:00+00' - (i || ' seconds')::interval"
        due = "date '2026-11-16' + (i % 45)"
        true = "true"
        prefix = ""
    else:
        source = "seq"
        reference = "'JL20261128' || printf('%06d', i)"
        submitted = "datetime('2026-11-27 00:00:00', '-' || i || ' seconds')"
        due = "date('2026-11-16', '+' || (i % 45) || ' days')"
        true = "1"
        prefix = "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < :n) "
    opened = f"CASE WHEN ({_STATE}) = 'checked' THEN NULL ELSE {submitted} END"
    statement = (
        f"{prefix}INSERT INTO queue_case ({columns}) "  # noqa: S608 - no user input; constants only
        f"SELECT {reference}, {_sql_choice(KINDS, 'i')}, 'person', i, "
        f"{_sql_choice(PREFECTURES, 'i / 10')}, 'web', '{{}}', 'B', 'single', {_STATE}, {holder}, {true}, '[]', "
        f"{submitted}, {opened}, {due}, '[]', 2, 'bench-' || i, {submitted} FROM {source}"
    )
    with engine.begin() as connection:
        connection.execute(text(statement), {"n": n})
    _store_submission_checks(engine)
    # What autovacuum would do shortly after a bulk load: statistics, and the visibility map for index-only scans.
    # And a checkpoint, as after any bulk load: otherwise the one the load's WAL triggers runs during the
    # takes, and its writes stall their commits' WAL flushes (seen: 130 ms commits).
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE queue_case"))
            connection.execute(text("CHECKPOINT"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))


def _store_submission_checks(engine: Engine) -> None:
    """Each case's check results as submission stored them: one applicant per case (nobody has twenty open
    requests of one kind), so a take's re-run of the checks finds what was stored, as it mostly would live."""
    from portal import assembly
    from portal.db import make_sessionmaker
    from portal.models import Case
    from portal.queue.service import checks_json, run_checks

    assembly.assemble()
    with make_sessionmaker(engine)() as session:
        for kind in KINDS:
            case = session.exec(select(Case).where(Case.kind == kind).limit(1)).one()
            results = run_checks(session, case=case)
            session.execute(update(Case).where(Case.kind == kind)
                            .values(check_results=checks_json(results), checks_passed=all(r.passed for r in results)))
        session.commit()


def _make_staff(engine: Engine) -> tuple[list[int], int, str]:
    from portal import audit
    from portal.auth.passwords import hash_password
    from portal.auth.principal import SYSTEM
    from portal.db import make_sessionmaker
    from portal.models import StaffMember

    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    password = "Bench-Password-2026"
    digest = hash_password(password)
    with make_sessionmaker(engine)() as session:
        handlers = [StaffMember(staff_number=f"B{i:03d}", name=f"经办{i}", roles="handler", password_hash=digest,
                                totp_secret=secret, created_at=BENCH_NOW) for i in range(HANDLERS)]
        boss = StaffMember(staff_number="B900", name="主管", roles="supervisor handler", password_hash=digest,
                           totp_secret=secret, created_at=BENCH_NOW)
        session.add_all([*handlers, boss])
        session.flush()
        audit.record(session=session, actor=SYSTEM, action="bench.start", now=BENCH_NOW)
        session.commit()
        return [h.id for h in handlers], boss.id, password


# How handlers really arrive: each request is served by one of several uvicorn worker PROCESSES, so the
# bench runs one process per handler, each with its own engine (threads of one process would queue for
# its GIL, which no deployment does). Two harnesses:
#   closed loop - every handler takes, commits and takes again as fast as it can;
#   rounds      - all handlers press "take next" at the same instant (a barrier before every take).
HARNESSES = {"closed": "closed loop", "rounds": "at the same instant, in rounds"}


@dataclass(frozen=True)
class TakeRun:
    samples: list[float]  # ms, take + commit, every handler's
    rate: float  # takes per second, all handlers together


def _handler_process(url: str, handler_id: int, takes: int, harness: str, barrier, results) -> None:
    """One handler in its own process: warm up, wait for the others, then take ``takes`` cases."""
    try:
        from portal import assembly, audit
        from portal.auth.principal import Actor, Principal
        from portal.db import make_engine, make_sessionmaker
        from portal.queue import take
        from portal.settings import Settings

        assembly.assemble()  # the request kinds, as create_app registers them in each worker
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        # The worker's sealer, as create_app makes it (a thread sealing in batches, off the request path).
        sealer = audit.Sealer(factory, interval_ms=Settings.audit_seal_ms)
        actor = Actor(Principal(kind="staff", account_id=handler_id, display_name="h",
                                roles=frozenset({"handler"}), region="220000"))

        def take_one() -> object:
            with factory() as session:
                case = take.take_next(session, staff=actor, now=BENCH_NOW)
                session.commit()
            # What the request boundary does once the response has gone.
            if audit.pending_seal(session):
                sealer.request()
            return case

        take_one()  # a long-running worker has its connection open and its statements built: warm them, untimed
        samples: list[float] = []
        barrier.wait()
        first = time.monotonic()
        for _ in range(takes):
            if harness == "rounds":
                barrier.wait()  # not timed: the handlers only start together
            started = time.perf_counter()
            case = take_one()
            samples.append((time.perf_counter() - started) * 1000)
            if case is None and harness == "closed":
                break
        results.put((samples, first, time.monotonic(), None))
        sealer.close()
        engine.dispose()
    except BaseException as error:  # noqa: BLE001 - reported by the parent
        barrier.abort()
        results.put(([], 0, 0, f"{type(error).__name__}: {error}"))


def _take_next_latencies(url: str, handler_ids: list[int], per_handler: int, harness: str) -> TakeRun:
    context = multiprocessing.get_context("spawn")  # a fresh interpreter per handler, as a worker would be
    barrier = context.Barrier(len(handler_ids))
    results = context.Queue()
    processes = [context.Process(target=_handler_process, args=(url, h, per_handler, harness, barrier, results))
                 for h in handler_ids]
    for process in processes:
        process.start()
    reports = [results.get() for _ in processes]
    for process in processes:
        process.join()
    errors = [error for *_, error in reports if error]
    if errors:
        raise RuntimeError(f"a handler process failed: {errors[0]}")
    samples = [s for report in reports for s in report[0]]
    wall = max(r[2] for r in reports) - min(r[1] for r in reports)
    return TakeRun(samples, len(samples) / wall)


def _audit_chain_after(engine: Engine) -> str:
    """What the concurrent takes left in the audit log: sealed on the way, the rest by ``portal audit seal``."""
    from portal import audit
    from portal.db import make_sessionmaker

    factory = make_sessionmaker(engine)
    with factory() as session:
        left = audit.verify(session=session).unsealed
    audit.seal_all(factory)
    with factory() as session:
        report = audit.verify(session=session)
    state = "intact" if report.intact else f"BROKEN at event {report.first_broken}"
    return f"{state}, {report.events} events; {left} were still unsealed when the takes ended"


def _workbench_times(bench: Bench, supervisor_id: int, password: str, rounds: int) -> dict[str, list[float]]:
    from starlette.testclient import TestClient

    from portal import clock
    from portal.app import create_app
    from portal.auth.totp import code_at
    from portal.settings import Settings

    settings = Settings(database_url=bench.url, secret_key="bench-secret-key-not-for-production", env="test")
    app = create_app(settings)
    pages = {
        "workbench /staff/queue": "/staff/queue",
        "workbench filtered (kind, prefecture, overdue)": "/staff/queue?kind=deferral&prefecture=220100&overdue=1",
        "workbench page 200 of the open list": "/staff/queue?page=200",
    }
    timings: dict[str, list[float]] = {name: [] for name in pages}
    clock.freeze(BENCH_NOW)
    try:
        with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
            login = client.get("/login?account_type=staff")
            token = login.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            signed = client.post("/login", data={"account_type": "staff", "username": "B900", "password": password,
                                                 "otp": code_at("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", BENCH_NOW),
                                                 "csrf_token": token})
            if signed.status_code != 303:
                raise RuntimeError(f"bench sign-in failed: {signed.status_code}")
            for name, path in pages.items():
                client.get(path)  # warm templates and caches
                for _ in range(rounds):
                    started = time.perf_counter()
                    response = client.get(path)
                    timings[name].append((time.perf_counter() - started) * 1000)
                    if response.status_code != 200:
                        raise RuntimeError(f"{path}: {response.status_code}")
    finally:
        clock.freeze(None)
        app.state.engine.dispose()
    return timings


def section_queue(bench: Bench) -> list[Figure]:
    options = bench.options
    n = options.cases if options else 100_000
    per_handler = options.takes if options else 250
    engine = bench.engine()
    try:
        handler_ids, supervisor_id, password = _make_staff(engine)
        started = time.perf_counter()
        fill_queue(engine, n, handler_ids)
        fill_seconds = time.perf_counter() - started
        load_before = " / ".join(f"{x:.2f}" for x in os.getloadavg())
        runs = {harness: _take_next_latencies(bench.url, handler_ids, per_handler, harness) for harness in HARNESSES}
        chain = _audit_chain_after(engine)
    finally:
        engine.dispose()
    timings = _workbench_times(bench, supervisor_id, password, rounds=options.rounds if options else 30)
    on_pg = bench.backend == "postgresql"
    figures: list = [Figure(f"open cases inserted (set-based), {n:,}", fill_seconds, "s")]
    # The machine may be shared: say how busy it was, so a figure can be read against it.
    figures.append(("load average (1, 5, 15 min) before the takes", load_before))
    for harness, run in runs.items():
        label = f"[{HARNESSES[harness]}]"
        figures += [
            Figure(f"take next p50, {HANDLERS} handler processes ({len(run.samples)} takes) {label}",
                   statistics.median(run.samples), "ms"),
            Figure(f"take next p99, {HANDLERS} handler processes {label}", percentile(run.samples, 99), "ms",
                   target=20 if on_pg else None),
            Figure(f"take next throughput, all handlers together {label}", run.rate, "takes/s"),
        ]
    figures.append(("load average (1, 5, 15 min) after the takes", " / ".join(f"{x:.2f}" for x in os.getloadavg())))
    figures.append(("audit chain after the takes", chain))
    for name, values in timings.items():
        figures.append(Figure(f"{name} p50", statistics.median(values), "ms"))
        figures.append(Figure(f"{name} p99", percentile(values, 99), "ms",
                              target=100 if on_pg and name == "workbench /staff/queue" else None))
    return figures
