"""Same-run baselines for the batch figures: what the database itself takes to write the same rows.

Each baseline writes, into an empty copy of the real table with the same keys and indexes
(``support.same_shape_copy``), as many rows as the batch wrote, with one plain statement and none of the project's
rules: the billing run against an ``INSERT … SELECT`` of one month per covered spell and enrolment; the interest run
against an ``INSERT … SELECT … GROUP BY`` of one row per account from last year's balance and this year's paid months
(the least any crediting must read and write). A batch figure is then printed as a ratio to its baseline, which says how much the
project adds whatever else the machine is doing at that moment.
"""

from __future__ import annotations

import time
from datetime import date, datetime

from sqlalchemy import text

from portal.devtools.bench.support import same_shape_copy

_BILLING = """
INSERT INTO bench_month (person_id, month, base_fen, employer_part_fen, individual_part_fen, personal_account_fen,
                         source, status, employer_id, created_at)
SELECT s.person_id, :month, s.wage_fen, s.wage_fen * 16 / 100, s.wage_fen * 8 / 100, s.wage_fen * 8 / 100,
       'employer_filing', 'billed', s.employer_id, :now
FROM employment_spell s WHERE s.start_month <= :month AND (s.end_month IS NULL OR s.end_month >= :month)
UNION ALL
SELECT f.person_id, :month, 400000, 0, 80000, 32000, 'flexible_payment', 'billed', NULL, :now
FROM flexible_enrolment f WHERE f.start_month <= :month AND (f.end_month IS NULL OR f.end_month >= :month)
"""
_INTEREST = """
INSERT INTO bench_account (person_id, year, opening_balance_fen, contributions_fen, interest_fen,
                           closing_balance_fen, interest_rate, credited_at)
SELECT u.person_id, :year, SUM(u.opening), SUM(u.paid), (SUM(u.opening) + SUM(u.paid)) / 40,
       SUM(u.opening) + SUM(u.paid) + (SUM(u.opening) + SUM(u.paid)) / 40, '0.025', :now
FROM (SELECT p.person_id, p.closing_balance_fen AS opening, 0 AS paid FROM personal_account_year p
      WHERE p.year = :previous
      UNION ALL
      SELECT c.person_id, 0, c.personal_account_fen FROM contribution_month c
      WHERE c.month >= :start AND c.month < :next AND c.status = 'paid' AND c.personal_account_fen > 0) u
GROUP BY u.person_id
"""


def _timed(engine, table: str, copy: str, sql: str, values: dict) -> tuple[float, int]:
    with engine.begin() as connection:
        same_shape_copy(connection, table, copy)
    with engine.begin() as connection:
        started = time.perf_counter()
        written = connection.execute(text(sql), values).rowcount
        seconds = time.perf_counter() - started
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE {copy}"))
    return seconds, written


def billing(engine, *, month: date, now: datetime) -> tuple[float, int]:
    """Seconds to write one billed month per covered spell and enrolment, and how many rows that was."""
    return _timed(engine, "contribution_month", "bench_month", _BILLING, {"month": month, "now": now})


def interest(engine, *, year: int, now: datetime) -> tuple[float, int]:
    """Seconds to write one account row per person with an account or paid months in ``year``, and how many."""
    return _timed(engine, "personal_account_year", "bench_account", _INTEREST,
                  {"year": year, "previous": year - 1, "start": date(year, 1, 1), "next": date(year + 1, 1, 1),
                   "now": now})
