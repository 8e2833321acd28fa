"""Benchmark figure for the base declaration (wired into ``make bench`` by portal/devtools/bench/).

    from portal.devtools.bench.declarations import run
    for label, value in run(): print(f"{label:<60} {value}")

On a fresh SQLite file and on the PostgreSQL database ``portal_bench_declarations`` (PORTAL_BENCH_DECLARATIONS_PG_URL overrides;
the schema is dropped and rebuilt): one employer with 10,000 employees uploads a clean 10,000-row CSV
declaration; the figure is reading and checking every row and keeping the draft, then saving it on confirmation
(target under 2 s together). The policy parameters are loaded before timing, as in a serving worker.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select

from portal.devtools.bench.support import fresh_database, on_both_databases

TODAY = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
NAMES = ("王建国", "李秀英", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄丽", "周强", "吴敏")


def _employer_with_staff(factory, rows: int):
    """An employer, its administrator and ``rows`` employees; returns (actor, CSV bytes of a clean declaration)."""
    from portal.auth.principal import Actor, Principal
    from portal.db import transaction
    from portal.identifiers import make_credit_code, make_resident_id
    from portal.models import Employer, EmployerOperator, EmploymentSpell, Person

    people = []
    for index in range(rows):
        birth = date(1970, 1, 1) + timedelta(days=index // 500)
        people.append({"id_number": make_resident_id("220102", birth, index % 500), "name": NAMES[index % 10],
                       "birth_date": birth, "sex": "male" if index % 2 else "female", "created_at": NOW})
    with transaction(factory) as session:
        employer = Employer(credit_code=make_credit_code("220100", "MA84BENCH"), name="长春基准测试有限公司",
                            region="220100", status="verified", created_at=NOW)
        session.add(employer)
        session.flush()
        operator = EmployerOperator(employer_id=employer.id, username="admin", name="赵丽", mobile="13900000002",
                                    password_hash="-", is_admin=True, active=True, created_at=NOW)
        session.add(operator)
        session.flush()
        session.execute(insert(Person), people)
        ids = session.execute(select(Person.id, Person.id_number)).all()
        session.execute(insert(EmploymentSpell), [
            {"person_id": pid, "employer_id": employer.id, "start_month": date(2020, 1, 1), "wage_fen": 600000,
             "end_reason": "", "created_at": NOW} for pid, _ in ids])
        actor = Actor(Principal(kind="employer", account_id=operator.id, display_name="赵丽",
                                employer_id=employer.id, employer_status="verified", is_employer_admin=True),
                      address="127.0.0.1")
    lines = ["公民身份号码,姓名,月工资"] + [
        f"{p['id_number']},{p['name']},{3000 + (index * 37) % 40000}" for index, p in enumerate(people)]
    return actor, "\r\n".join(lines).encode("utf-8-sig")


def measure(url: str, *, rows: int) -> list[tuple[str, str]]:
    from portal.db import make_engine, make_sessionmaker, transaction
    from portal.policy.parameters import param
    from portal.services import declarations

    fresh_database(url)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    backend = engine.dialect.name
    actor, data = _employer_with_staff(factory, rows)
    param("base_cap")  # a serving worker has the policy parameters loaded already; do not time reading YAML
    started = time.perf_counter()
    with transaction(factory) as session:
        parsed = declarations.read_file(filename="declaration.csv", data=data)
        draft = declarations.prepare(session, actor=actor, year=2026, rows=parsed, source="csv", now=NOW,
                                     today=TODAY)
        token = draft.token
    checked = time.perf_counter() - started
    with transaction(factory) as session:
        _, saved = declarations.confirm(session, actor=actor, token=token, now=NOW)
    total = time.perf_counter() - started
    engine.dispose()
    return [
        (f"[{backend}] declaration {saved:,} rows: read, check, keep draft", f"{checked:.2f} s"),
        (f"[{backend}] declaration {saved:,} rows: checked and saved (target < 2 s)", f"{total:.2f} s"),
    ]


def run(rows: int | None = None) -> list[tuple[str, str]]:
    """The declaration section of the benchmark: (label, figure) pairs, ready to print."""
    rows = rows or int(os.environ.get("PORTAL_BENCH_DECLARATION_ROWS", "10000"))
    return on_both_databases("declarations", lambda url: measure(url, rows=rows),
                             override="PORTAL_BENCH_DECLARATIONS_PG_URL")


if __name__ == "__main__":
    for label, value in run():
        print(f"{label:<60} {value}")
