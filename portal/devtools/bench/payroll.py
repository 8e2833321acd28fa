"""Benchmark: the monthly payroll (issue 14: 1,000,000 pensioners in under 10 s on PostgreSQL, within 3x of a bare
``INSERT ... SELECT`` of the same rows measured in the same run) and an award from a 40-year monthly history (under
5 ms).

    from portal.devtools.bench.payroll import run
    for label, value in run(): print(f"{label:<80} {value}")

The pensioners are written set-based (persons, awards paid through the month before, a certification each, across
the nine prefectures and four banks); ``portal.services.payroll.run`` then pays the month in its own transaction, and
the bare statement inserts the same rows (person, award, month, amounts) into two copies of the payment table: one
with its keys and indexes (what storing these rows costs the database), one without (what writing them costs). The award
is ``portal.services.claims.compute_award`` for a man with 480 paid months: his record read from the database, the
average index, the account and the formula. SQLite measures fewer pensioners (``SQLITE_PENSIONERS``). PostgreSQL is
``portal_bench_payroll`` (PORTAL_BENCH_PAYROLL_PG_URL overrides; its schema is dropped and rebuilt).
"""

from __future__ import annotations

import re
import statistics
import time
from datetime import UTC, date, datetime

from sqlalchemy import create_engine, text

from portal.devtools.bench.support import fresh_database, on_both_databases, same_shape_copy

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
MONTH = date(2026, 11, 1)
PENSIONERS = 1_000_000
SQLITE_PENSIONERS = 100_000
AWARD_ROUNDS = 50
PREFECTURES = ("220100", "220200", "220300", "220400", "220500", "220600", "220700", "220800", "222400")
BANKS = ("ICBC", "ABC", "BOC", "CCB")


def _series(dialect: str) -> str:
    if dialect == "postgresql":
        return "SELECT generate_series(1, :count) AS n"
    return "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :count) SELECT n FROM s"


def _text(dialect: str, sql: str) -> str:
    """The one spelling that differs: PAD8(x), a number zero-padded to eight digits."""
    if dialect == "postgresql":
        return re.sub(r"PAD8\(([\w.]+)\)", r"lpad(\1::text, 8, '0')", sql)
    return re.sub(r"PAD8\(([\w.]+)\)", r"printf('%08d', \1)", sql)


def build(engine, count: int) -> None:
    """``count`` pensioners in payment: paid through October (the last run), certified in June, awarded
    3,000.00 to 5,999.99."""
    dialect = engine.dialect.name
    series = _series(dialect)
    regions = " ".join(f"WHEN {i} THEN '{region}'" for i, region in enumerate(PREFECTURES))
    banks = " ".join(f"WHEN {i} THEN '{bank}'" for i, bank in enumerate(BANKS))
    with engine.begin() as connection:
        connection.execute(text(_text(dialect, f"""
            INSERT INTO person (id_number, name, birth_date, sex, created_at, mobile, mobile_source)
            SELECT '2201021960' || PAD8(n), '退休人员', :birth, 'male', :now, '', ''
            FROM ({series}) s""")),  # noqa: S608 (constants)
            {"count": count, "birth": date(1960, 5, 1), "now": NOW})
        connection.execute(text(_text(dialect, f"""
            INSERT INTO pension_award (code, person_id, case_reference, region, retirement_month,
                first_payment_month, claim_date, actual_months, deemed_months, average_index, account_balance_fen, divisor_months,
                basic_fen, extra_fen, transitional_fen, account_fen, monthly_fen, provisional, explanation_json,
                bank_code, card_number, paid_to_last_run, difference_fen, awarded_at)
            SELECT 'B' || PAD8(p.id), p.id, '', CASE p.id % {len(PREFECTURES)} {regions} END, :first, :first, :first,
                   360, 0, '1.0000', 10000000, '139', 150000, 0, 50000, 71942, 300000 + (CAST(p.id AS BIGINT) * 7919) % 300000,
                   false, '{{}}', CASE p.id % {len(BANKS)} {banks} END, '6222020200112233446', true, 0, :now
            FROM person p""")),  # noqa: S608 (constants)
            {"first": date(2020, 6, 1), "now": NOW})
        connection.execute(text("""
            INSERT INTO payroll_total (run_month, region, payments, amount_fen, back_pay_fen, updated_at)
            SELECT :through, region, COUNT(*), SUM(monthly_fen), 0, :now FROM pension_award GROUP BY region"""),
            {"through": date(2026, 10, 1), "now": NOW})
        connection.execute(text("""
            INSERT INTO life_certification (person_id, certified_on, channel, case_reference, created_at)
            SELECT person_id, :on, 'face', '', :now FROM pension_award"""), {"on": date(2026, 6, 15), "now": NOW})
        connection.execute(text("CREATE TABLE bench_bare AS SELECT * FROM pension_payment WHERE 1 = 0"))
        same_shape_copy(connection, "pension_payment", "bench_same")
    if dialect == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))


def _bare(connection, table: str = "bench_bare") -> None:
    connection.execute(text(f"""
        INSERT INTO {table} (person_id, award_id, month, run_month, pension_fen, adjustment_fen, correction_fen,
                                amount_fen, region, bank_code, recoverable, paid_at)
        SELECT a.person_id, a.id, :run, :run, a.monthly_fen, 0, 0, a.monthly_fen, a.region, a.bank_code, false, :now
        FROM pension_award a"""), {"run": MONTH, "now": NOW})  # noqa: S608 (a constant)


def _award_history(engine) -> int:
    """A man retiring in 2026-07 with 480 paid months (1986-07 to 2026-06); returns his person id."""
    from sqlalchemy import insert

    from portal.models import ContributionMonth, Employer, EmploymentSpell, Person

    with engine.begin() as connection:
        employer_id = connection.execute(insert(Employer).values(
            credit_code="91220100MA84BENCH9", name="长春基准测试有限公司", region="220100", status="verified",
            created_at=NOW).returning(Employer.id)).scalar_one()
        person_id = connection.execute(insert(Person).values(
            id_number="220102196603100534", name="基准用户", birth_date=date(1966, 3, 10), sex="male",
            created_at=NOW).returning(Person.id)).scalar_one()
        connection.execute(insert(EmploymentSpell).values(
            person_id=person_id, employer_id=employer_id, start_month=date(1986, 7, 1), end_month=date(2026, 6, 1),
            end_reason="retired", wage_fen=600000, created_at=NOW))
        rows = []
        for index in range(480):
            number = 1986 * 12 + 6 + index
            base = 200000 + 1500 * index
            rows.append({"person_id": person_id, "month": date(number // 12, number % 12 + 1, 1), "base_fen": base,
                         "employer_part_fen": base * 16 // 100, "individual_part_fen": base * 8 // 100,
                         "personal_account_fen": base * 8 // 100, "source": "employer_filing", "status": "paid",
                         "employer_id": employer_id, "created_at": NOW})
        connection.execute(insert(ContributionMonth), rows)
    return person_id


def _formula_ms(sessionmaker, person_id: int) -> list[float]:
    """The policy formula alone (portal.policy.rules.pension) on the counts, index and account the record gives."""
    from decimal import Decimal

    from portal.models import Person
    from portal.policy.dates import month_of, months_between
    from portal.policy.rules.pension import pension_award
    from portal.policy.rules.retirement import Age, retirement
    from portal.services.records import build_record

    month = date(2026, 7, 1)
    with sessionmaker() as session:
        person = session.get(Person, person_id)
        record = build_record(session, person=person, today=date(2026, 6, 15))
    rules = retirement(person.birth_date, "male", month)
    age = Age.from_months(months_between(month_of(person.birth_date), month))
    samples = []
    for _ in range(AWARD_ROUNDS):
        started = time.perf_counter()
        pension_award(region="220100", retirement_month=month, age_at_retirement=age,
                      actual_months=record.cumulative_months, deemed_months=0,
                      average_index=min(record.average_index or Decimal("0"), Decimal("3.00")),
                      account_balance=record.balance_to_date, statutory_month=rules.statutory_month)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def measure(url: str, *, pensioners: int | None = None) -> list[tuple[str, str]]:
    from portal.db import make_sessionmaker
    from portal.models import Person
    from portal.services import claims, payroll

    fresh_database(url)
    engine = create_engine(url)
    dialect = engine.dialect.name
    count = pensioners or (PENSIONERS if dialect == "postgresql" else SQLITE_PENSIONERS)
    figures: list[tuple[str, str]] = []
    try:
        build(engine, count)
        sessionmaker = make_sessionmaker(engine)
        with sessionmaker() as session:
            started = time.perf_counter()
            paid = payroll.run(session, month=MONTH, now=NOW)
            session.commit()
            payroll_s = time.perf_counter() - started
        with engine.begin() as connection:
            started = time.perf_counter()
            _bare(connection)
            bare_s = time.perf_counter() - started
        with engine.begin() as connection:
            started = time.perf_counter()
            _bare(connection, "bench_same")
            same_s = time.perf_counter() - started
        if paid.paid != count:
            raise RuntimeError(f"the payroll paid {paid.paid} of {count} pensioners")
        with sessionmaker() as session:
            again = time.perf_counter()
            rerun = payroll.run(session, month=MONTH, now=NOW)
            session.commit()
            rerun_s = time.perf_counter() - again
        with sessionmaker() as session:
            started = time.perf_counter()
            adjusted = payroll.adjust(session, year=MONTH.year + 1, now=NOW)
            session.commit()
            adjust_s = time.perf_counter() - started
        if adjusted.awards != count:
            raise RuntimeError(f"the adjustment reached {adjusted.awards} of {count} pensioners")
        target = " (target < 10 s)" if count >= PENSIONERS else ""
        figures.append((f"[{dialect}] payroll for {count:,} pensioners", f"{payroll_s:.2f} s{target}"))
        figures.append((f"[{dialect}] bare INSERT ... SELECT of the same rows into a copy with the same keys "
                        "and indexes", f"{same_s:.2f} s"))
        figures.append((f"[{dialect}] payroll / that copy", f"{payroll_s / same_s:.2f}x (target within 3x)"))
        figures.append((f"[{dialect}] bare INSERT ... SELECT of the same rows into a copy without keys or indexes",
                        f"{bare_s:.2f} s"))
        figures.append((f"[{dialect}] payroll / that copy", f"{payroll_s / bare_s:.2f}x (the keys and indexes "
                        "included)"))
        figures.append((f"[{dialect}] the same month run again (pays {rerun.paid})", f"{rerun_s:.2f} s"))
        figures.append((f"[{dialect}] the yearly adjustment for {count:,} pensioners", f"{adjust_s:.2f} s"))

        person_id = _award_history(engine)
        samples = []
        with sessionmaker() as session:
            person = session.get(Person, person_id)
            result, _ = claims.compute_award(session, person=person, retirement_month=date(2026, 7, 1),
                                             today=date(2026, 6, 15))
            if not result.eligible:
                raise RuntimeError("the 40-year history is not eligible")
            for _ in range(AWARD_ROUNDS):
                started = time.perf_counter()
                claims.compute_award(session, person=person, retirement_month=date(2026, 7, 1),
                                     today=date(2026, 6, 15))
                samples.append((time.perf_counter() - started) * 1000)
        figures.append((f"[{dialect}] award from a 40-year monthly history, record read (min / median of "
                        f"{AWARD_ROUNDS})", f"{min(samples):.2f} / {statistics.median(samples):.2f} ms (target < 5 ms)"))
        formula = _formula_ms(sessionmaker, person_id)
        figures.append((f"[{dialect}] the same award from the record already read (min / median of {AWARD_ROUNDS})",
                        f"{min(formula):.2f} / {statistics.median(formula):.2f} ms"))
    finally:
        engine.dispose()
    return figures


def run() -> list[tuple[str, str]]:
    """The payroll section of the benchmark: (label, figure) pairs, ready to print."""
    return on_both_databases("payroll", measure, override="PORTAL_BENCH_PAYROLL_PG_URL")


if __name__ == "__main__":
    for label, value in run():
        print(f"{label:<80} {value}")
