"""Benchmark: the portal's pages under concurrent load against the same-run floor of the bare stack (issue 18).

    from portal.devtools.bench.pages import run
    for label, value in run(): print(f"{label:<80} {value}")

A real HTTP load generator (``wrk``, Debian's package) drives ``uvicorn`` with 2 workers at 32 connections for a
few seconds a page: first the floor (``portal.devtools.bench.floor``: a bare "ok" and a bare 50-row Jinja table, no
portal code), then the portal on PostgreSQL (``portal_bench_pages``; PORTAL_BENCH_PAGES_PG_URL overrides): /healthz,
a static page, /me/records for a person with a 40-year history, and /employer/bills for an employer with 5,000
employees and a year of bills. Each portal page is reported as requests a second, p50 and p99, its share of the
floor's table page, timeouts, and its size, with the issue's target beside it. Every page is fetched once first
and must answer 200 with its content, so a redirect to a sign-in page is never measured as a fast page.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import create_engine, insert, text

from portal.devtools.bench.support import fresh_database, scratch_pg_url

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
CONNECTIONS = 32
THREADS = 2
WORKERS = 2
SECONDS = 8
WARM_SECONDS = 2
EMPLOYEES = 5_000
HISTORY_FROM = date(1986, 7, 1)
HISTORY_MONTHS = 480
POLL_MS = 200  # how often a starting server's port is tried
BILLED = [date(2025, 12, 1)] + [date(2026, month, 1) for month in range(1, 12)]


@dataclass(frozen=True)
class Load:
    requests_per_s: Decimal
    p50_ms: Decimal
    p99_ms: Decimal
    timeouts: int
    errors: int  # non-2xx/3xx answers and socket errors other than timeouts


_UNITS = {"us": Decimal("0.001"), "ms": Decimal(1), "s": Decimal(1000)}


def parse_wrk(output: str) -> Load:
    """wrk's report (``--latency``) as figures."""
    def latency(percent: str) -> Decimal:
        found = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if not found:
            raise ValueError(f"no {percent}% latency in wrk's output:\n{output}")
        return Decimal(found.group(1)) * _UNITS[found.group(2)]

    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    connect, read, write, timeouts = (int(n) for n in sockets.groups()) if sockets else (0, 0, 0, 0)
    return Load(Decimal(rate.group(1)) if rate else Decimal(0), latency("50"), latency("99"), timeouts,
                connect + read + write + (int(non_2xx.group(1)) if non_2xx else 0))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """uvicorn with ``WORKERS`` workers, started and stopped around the measurements."""

    def __init__(self, target: str, env: dict[str, str], factory: bool = False):
        self.port = _free_port()
        command = [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(self.port),
                   "--workers", str(WORKERS), "--no-access-log", "--log-level", "warning"]
        if factory:
            command.append("--factory")
        self.process = subprocess.Popen(command, env=os.environ | env, start_new_session=True)
        self.base = f"http://127.0.0.1:{self.port}"

    def wait(self, path: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"uvicorn stopped with {self.process.returncode}")
            try:
                with urllib.request.urlopen(self.base + path, timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                pass
            time.sleep(POLL_MS / 1000)  # a server starting: nothing to wait on but its port
        raise RuntimeError("uvicorn did not answer within 60 s")

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)


def wrk(url: str, cookie: str | None = None, seconds: int = SECONDS) -> Load:
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "--timeout", "2s"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    done = subprocess.run([*command, url], capture_output=True, text=True, check=True)
    return parse_wrk(done.stdout)


def _build(url: str, employees: int = EMPLOYEES) -> dict[str, str]:
    """The person with 40 years and the employer with 5,000 employees; returns the session cookies to use."""
    from portal.auth import sessions
    from portal.auth.passwords import hash_password
    from portal.db import make_sessionmaker
    from portal.identifiers import make_credit_code, make_resident_id
    from portal.models import (
        ContributionMonth,
        Employer,
        EmployerOperator,
        Person,
        PersonAccount,
        PersonalAccountYear,
    )
    from portal.policy.dates import add_months
    from portal.services import billing

    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            employer_id = connection.execute(insert(Employer).values(
                credit_code=make_credit_code("220100", "MA84PAGE1"), name="长春页面基准有限公司", region="220100",
                status="verified", created_at=NOW).returning(Employer.id)).scalar_one()
            number = make_resident_id("220102", date(1966, 3, 10), 11)
            person_id = connection.execute(insert(Person).values(
                id_number=number, name="基准用户", birth_date=date(1966, 3, 10), sex="male", mobile="13900000000",
                mobile_source="counter", created_at=NOW).returning(Person.id)).scalar_one()
            months, balance, accounts = [], 0, []
            for index in range(HISTORY_MONTHS):
                base = 200000 + 1500 * index
                months.append({"person_id": person_id, "month": add_months(HISTORY_FROM, index), "base_fen": base,
                               "employer_part_fen": base * 16 // 100, "individual_part_fen": base * 8 // 100,
                               "personal_account_fen": base * 8 // 100, "source": "employer_filing",
                               "status": "paid", "employer_id": employer_id, "created_at": NOW})
            connection.execute(insert(ContributionMonth), months)
            for year in range(HISTORY_FROM.year, 2026):
                paid = sum(row["personal_account_fen"] for row in months if row["month"].year == year)
                interest = (balance + paid) * 3 // 100  # timing figures, not policy
                accounts.append({"person_id": person_id, "year": year, "opening_balance_fen": balance,
                                 "contributions_fen": paid, "interest_fen": interest,
                                 "closing_balance_fen": balance + paid + interest, "interest_rate": "0.03",
                                 "credited_at": NOW})
                balance += paid + interest
            connection.execute(insert(PersonalAccountYear), accounts)
            account_id = connection.execute(insert(PersonAccount).values(
                person_id=person_id, mobile="13900000000", password_hash=hash_password("Bench-Pages-2026"),
                created_at=NOW, identity_proven_at=NOW, identity_proof="counter").returning(PersonAccount.id)
            ).scalar_one()
            employees = [{"id_number": make_resident_id("220103", date(1980 + n % 20, 1 + n % 12, 1 + n % 28), n % 1000),
                          "name": "职工", "birth_date": date(1980 + n % 20, 1 + n % 12, 1 + n % 28),
                          "sex": "male" if n % 2 else "female", "created_at": NOW} for n in range(employees)]
            connection.execute(insert(Person), employees)
            connection.execute(text("""
                INSERT INTO employment_spell (person_id, employer_id, start_month, end_reason, wage_fen, created_at)
                SELECT id, :employer, :start, '', 650000, :now FROM person WHERE name = '职工'"""),
                {"employer": employer_id, "start": date(2020, 1, 1), "now": NOW})
            operator_id = connection.execute(insert(EmployerOperator).values(
                employer_id=employer_id, username="admin", name="赵丽", mobile="13900000002",
                password_hash=hash_password("Bench-Pages-2026"), is_admin=True, created_at=NOW)
                .returning(EmployerOperator.id)).scalar_one()
        factory = make_sessionmaker(engine)
        for month in BILLED:
            with factory() as session:
                billing.run_billing(session, month=month, now=NOW)
                session.commit()
        with factory() as session:
            now = datetime.now(UTC)
            person = sessions.start(session=session, kind="person", account_id=account_id, address="127.0.0.1",
                                    now=now)
            employer = sessions.start(session=session, kind="employer", account_id=operator_id,
                                      address="127.0.0.1", now=now)
            session.commit()
    finally:
        engine.dispose()
    if os.environ.get("PORTAL_BENCH_PAGES_KEEP"):
        print(f"  kept {url}", file=sys.stderr)
    return {"person": f"{sessions.COOKIE}={person}", "employer": f"{sessions.COOKIE}={employer}"}


def _check(base: str, path: str, cookie: str | None, expect: str) -> int:
    """The page answers 200 with its content (never a redirect to a sign-in or proof step); its size in bytes."""
    request = urllib.request.Request(base + path, headers={"Cookie": cookie} if cookie else {})
    opener = urllib.request.build_opener(_NoRedirect)
    with opener.open(request, timeout=30) as answer:
        body = answer.read()
        if answer.status != 200 or expect not in body.decode("utf-8"):
            raise RuntimeError(f"{path} answered {answer.status} without {expect!r}")
    return len(body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise RuntimeError(f"{req.full_url} redirected ({code}) to {newurl}")


def _load_line(label: str, load: Load, extra: str = "") -> tuple[str, str]:
    return label, (f"{load.requests_per_s:,.0f} req/s, p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms, "
                   f"{load.timeouts} timeouts, {load.errors} errors{extra}")


def measure(url: str, *, seconds: int = SECONDS, employees: int = EMPLOYEES) -> list[tuple[str, str]]:
    if shutil.which("wrk") is None:
        return [("pages", "not run: wrk is not installed (make system-deps installs it)")]
    fresh_database(url)
    cookies = _build(url, employees)
    figures: list[tuple[str, str]] = []

    floor = Server("portal.devtools.bench.floor:app", {})
    try:
        floor.wait("/ok")
        bare = wrk(floor.base + "/ok", seconds=seconds)
        table = wrk(floor.base + "/table", seconds=seconds)
    finally:
        floor.stop()
    figures.append(_load_line("floor: bare Starlette \"ok\"", bare))
    figures.append(_load_line("floor: bare Starlette + Jinja, 50-row table", table))

    env = {"PORTAL_DATABASE_URL": url, "PORTAL_SECRET_KEY": "bench-pages", "PORTAL_ENV": "development"}
    portal = Server("portal.app:create_app", env, factory=True)
    pages = [
        ("/healthz", None, '"status"', "no timeouts, p99 < 20 ms", None, 20),
        ("/accessibility", None, "<main", ">= 25% of the floor's table, p99 < 50 ms", 25, 50),
        ("/me/records", cookies["person"], 'data-value="480"', ">= 3% of the floor's table, p99 < 150 ms, "
         "HTML <= 60 KB", 3, 150),
        ("/employer/bills", cookies["employer"], "<table", "", None, None),
    ]
    try:
        portal.wait("/healthz")
        for path, cookie, expect, target, share_target, p99_target in pages:
            size = _check(portal.base, path, cookie, expect)
            # Unmeasured first: each worker opens its pooled database connections and fills its statement caches
            # once in its life, and that start is not what a page costs (it made the first page's p99 250 ms).
            wrk(portal.base + path, cookie, seconds=WARM_SECONDS)
            load = wrk(portal.base + path, cookie, seconds=seconds)
            share = 100 * load.requests_per_s / table.requests_per_s if table.requests_per_s else Decimal(0)
            verdicts = []
            if share_target is not None:
                verdicts.append(f"share {'met' if share >= share_target else 'NOT MET'}")
            if p99_target is not None:
                verdicts.append(f"p99 {'met' if load.p99_ms < p99_target and not load.timeouts else 'NOT MET'}")
            if path == "/me/records":
                verdicts.append(f"size {'met' if size <= 60 * 1024 else 'NOT MET'}")
            extra = f", {share:.1f}% of the floor's table, {size / 1024:.1f} KB"
            if target:
                extra += f" (target {target}: {', '.join(verdicts)})"
            figures.append(_load_line(f"portal: GET {path}", load, extra))
    finally:
        portal.stop()
    return figures


def run() -> list[tuple[str, str]]:
    """The pages section: PostgreSQL only (the production database; SQLite serves one writer)."""
    return measure(scratch_pg_url("portal_bench_pages", "PORTAL_BENCH_PAGES_PG_URL"))


if __name__ == "__main__":
    for label, value in run():
        print(f"{label:<60} {value}")
