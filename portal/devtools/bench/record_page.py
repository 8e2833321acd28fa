"""Benchmark: ``/me/records`` for a 30-year history (target under 50 ms), on SQLite and PostgreSQL.

    from portal.devtools.bench.record_page import run
    for label, value in run(): print(f"{label:<60} {value}")

One person with 360 paid months (1996-12 to 2026-11, employer and flexible spans) and 30 credited account
years, among other persons with the same history so the indexes work as in production; a signed-in browser
(Starlette's TestClient, the full request boundary: session, access check, service, template) asks for the page.
PostgreSQL is ``portal_bench_record_page`` (PORTAL_BENCH_RECORD_PAGE_PG_URL overrides; its schema is dropped and
rebuilt).
"""

from __future__ import annotations

import re
import statistics
import time
from datetime import UTC, date, datetime

from sqlalchemy import create_engine, insert, text

from portal.devtools.bench.support import fresh_database, on_both_databases

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
FIRST = date(1996, 12, 1)
MONTHS = 360
OTHERS = 300  # neighbours with the same history: 108,000 more month rows
REQUESTS = 30
PASSWORD = "Bench-Record-Page-2026"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _month(index: int) -> date:
    number = FIRST.year * 12 + FIRST.month - 1 + index
    return date(number // 12, number % 12 + 1, 1)


def _history(person_id: int, employer_id: int) -> list[dict]:
    """30 years: employed, a flexible stretch in the middle, employed again; bases rising with the years (fen)."""
    rows = []
    for index in range(MONTHS):
        month = _month(index)
        base = 300000 + 2000 * index  # 3,000.00 yuan rising to about 10,200.00
        flexible = 120 <= index < 180
        rows.append({"person_id": person_id, "month": month, "base_fen": base,
                     "employer_part_fen": base * 16 // 100, "individual_part_fen": base * 8 // 100,
                     "personal_account_fen": base * 8 // 100,
                     "source": "flexible_payment" if flexible else "employer_filing", "status": "paid",
                     "employer_id": None if flexible else employer_id, "created_at": NOW})
    return rows


def _account_years(person_id: int, history: list[dict]) -> list[dict]:
    rows, balance = [], 0
    for year in range(FIRST.year, NOW.year):
        paid = sum(row["personal_account_fen"] for row in history if row["month"].year == year)
        interest = (balance + paid) * 3 // 100  # a flat 3 %: figures for timing, not for policy
        rows.append({"person_id": person_id, "year": year, "opening_balance_fen": balance, "contributions_fen": paid,
                     "interest_fen": interest, "closing_balance_fen": balance + paid + interest,
                     "interest_rate": "0.03", "credited_at": NOW})
        balance += paid + interest
    return rows


def _build(engine) -> str:
    """The persons, their months and accounts; returns the signed-in person's identity number."""
    from portal.auth.passwords import hash_password
    from portal.identifiers import make_credit_code, make_resident_id
    from portal.models import ContributionMonth, Employer, Person, PersonAccount, PersonalAccountYear

    number = make_resident_id("220102", date(1976, 5, 4), 11)
    with engine.begin() as connection:
        employer_id = connection.execute(insert(Employer).values(
            credit_code=make_credit_code("220100", "MA84BENCH"), name="长春基准测试有限公司", region="220100",
            status="verified", created_at=NOW).returning(Employer.id)).scalar_one()
        people = [{"id_number": number, "name": "基准用户", "birth_date": date(1976, 5, 4), "sex": "male",
                   "created_at": NOW}]
        people += [{"id_number": make_resident_id("220103", date(1970, 1, 1 + n % 28), n), "name": "邻居",
                    "birth_date": date(1970, 1, 1 + n % 28), "sex": "male" if n % 2 else "female", "created_at": NOW}
                   for n in range(1, OTHERS + 1)]
        connection.execute(insert(Person), people)
        ids = dict(connection.execute(text("SELECT id_number, id FROM person")).all())
        for person_id in ids.values():
            history = _history(person_id, employer_id)
            connection.execute(insert(ContributionMonth), history)
            connection.execute(insert(PersonalAccountYear), _account_years(person_id, history))
        connection.execute(insert(PersonAccount).values(person_id=ids[number], mobile="13900000000",
                                                        password_hash=hash_password(PASSWORD), created_at=NOW))
    return number


def measure(url: str) -> list[tuple[str, str]]:
    from starlette.testclient import TestClient

    from portal import clock
    from portal.app import create_app
    from portal.settings import Settings

    fresh_database(url)
    engine = create_engine(url)
    try:
        number = _build(engine)
    finally:
        engine.dispose()
    clock.freeze(NOW)
    app = create_app(Settings(database_url=url, secret_key="bench-record-page", env="test", payment_secret="bench"))
    backend = app.state.engine.dialect.name
    try:
        with TestClient(app, base_url="http://testserver", follow_redirects=False) as browser:
            token = CSRF.search(browser.get("/login?account_type=person").text).group(1)
            signed = browser.post("/login", data={"account_type": "person", "username": number,
                                                  "password": PASSWORD, "csrf_token": token})
            if signed.status_code != 303:
                raise RuntimeError(f"sign-in failed: {signed.status_code}")
            timings = {}
            for path in ("/me/records", "/me/records.csv"):
                first = browser.get(path)
                if first.status_code != 200 or (path == "/me/records" and f'data-value="{MONTHS}"' not in first.text):
                    raise RuntimeError(f"{path} did not show the history: {first.status_code}")
                samples = []
                for _ in range(REQUESTS):
                    started = time.perf_counter()
                    browser.get(path)
                    samples.append((time.perf_counter() - started) * 1000)
                timings[path] = samples
    finally:
        clock.freeze(None)
        app.state.engine.dispose()
    figures = []
    for path, samples in timings.items():
        ordered = sorted(samples)
        p95 = ordered[int(len(ordered) * 95 / 100) - 1]
        # The minimum is the figure on an idle machine; the median and p95 show what load on the machine adds.
        figures.append((f"[{backend}] GET {path} (30 years, {MONTHS} months; min / median / p95 of {REQUESTS})",
                        f"{ordered[0]:.1f} / {statistics.median(samples):.1f} / {p95:.1f} ms (target < 50 ms)"))
    return figures


def run() -> list[tuple[str, str]]:
    """The record page section of the benchmark: (label, figure) pairs, ready to print."""
    return on_both_databases("record_page", measure, override="PORTAL_BENCH_RECORD_PAGE_PG_URL")


if __name__ == "__main__":
    for label, value in run():
        print(f"{label:<80} {value}")
