"""The batch baselines write as many rows as the batch they stand beside: the billing run's months and the interest
run's accounts (the figures themselves come from ``make bench``)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from portal.db import make_engine, make_sessionmaker, transaction
from portal.devtools import synth
from portal.devtools.bench import baselines
from portal.devtools.bench.support import fresh_database
from portal.services import billing
from portal.services.personal_accounts import credit_interest

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


def test_each_baseline_writes_the_rows_its_batch_writes_into_an_empty_copy(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    fresh_database(url)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    try:
        with transaction(factory) as session:
            synth.generate(session, persons=300, seed=1, today=date(2026, 11, 28), now=NOW)
        _, months = baselines.billing(engine, month=date(2026, 11, 1), now=NOW)
        with transaction(factory) as session:
            run = billing.run_billing(session, month=date(2026, 11, 1), now=NOW)
        assert months == run.employee_months + run.flexible_months > 0
        with engine.begin() as connection:
            connection.exec_driver_sql("DELETE FROM personal_account_year WHERE year = 2025")
        _, accounts = baselines.interest(engine, year=2025, now=NOW)
        with transaction(factory) as session:
            credited = credit_interest(session, year=2025, now=NOW)
        assert accounts == credited.accounts > 0
        with engine.connect() as connection:  # the copies are gone again
            tables = {row[0] for row in connection.exec_driver_sql("SELECT name FROM sqlite_master")}
        assert not {name for name in tables if name.startswith("bench_")}
    finally:
        engine.dispose()
