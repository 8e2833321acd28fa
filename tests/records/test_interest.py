"""Crediting interest to the personal accounts: the SQL equals the policy function, and reruns change nothing."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from sqlmodel import select

from portal.models import ContributionMonth, PersonalAccountYear
from portal.policy.money import from_fen, to_fen
from portal.policy.rules.interest import account_interest
from portal.services.personal_accounts import account_years, credit_interest
from tests import factories
from tests.records.support import NOW


def _credit(db, person, month, fen, status="paid", source="employer_filing"):
    db.add(ContributionMonth(person_id=person.id, month=month, base_fen=fen * 12, personal_account_fen=fen,
                             source=source, status=status, created_at=NOW))


def test_the_sql_interest_equals_account_interest_for_random_histories(db):
    rng = random.Random(2024)
    year = 2016
    people = []
    for _ in range(40):
        person = factories.person(db)
        opening = rng.choice([0, rng.randint(1, 50_000_000)])
        months = sorted(rng.sample(range(1, 13), rng.randint(0, 12)))
        credits = [(date(year, m, 1), rng.randint(1, 200_000)) for m in months]
        if opening:
            db.add(PersonalAccountYear(person_id=person.id, year=year - 1, opening_balance_fen=0, contributions_fen=0,
                                       interest_fen=0, closing_balance_fen=opening, interest_rate="0",
                                       credited_at=NOW))
        for month, fen in credits:
            _credit(db, person, month, fen)
        people.append((person, opening, credits))
    db.flush()
    for current in range(year, 2026):
        run = credit_interest(db, year=current, now=NOW)
        assert run.accounts > 0
        rows = {row.person_id: row for row in db.exec(select(PersonalAccountYear).where(
            PersonalAccountYear.year == current)).all()}
        for person, opening, credits in people:
            if not opening and not credits:
                assert person.id not in rows
                continue
            expected = account_interest(current, from_fen(opening),
                                        [(m, from_fen(fen)) for m, fen in credits if m.year == current])
            row = rows[person.id]
            assert (from_fen(row.opening_balance_fen), from_fen(row.contributions_fen), from_fen(row.interest_fen),
                    from_fen(row.closing_balance_fen)) == (expected.opening_balance, expected.contributions_total,
                                                           expected.interest, expected.closing_balance)
            assert Decimal(row.interest_rate) == expected.rate
        # The next year opens with this year's closing and (in this history) no new credits.
        people = [(person, to_fen(from_fen(rows[person.id].closing_balance_fen)) if person.id in rows else 0, [])
                  for person, _, _ in people]


def test_crediting_a_year_twice_rewrites_nothing(db):
    person = factories.person(db)
    _credit(db, person, date(2024, 3, 1), 40000)
    _credit(db, person, date(2024, 11, 1), 40000)
    db.flush()
    assert credit_interest(db, year=2024, now=NOW).accounts == 1
    before = [row.model_dump() for row in db.exec(select(PersonalAccountYear)).all()]
    later = NOW.replace(year=2027)
    assert credit_interest(db, year=2024, now=later).accounts == 0
    db.expire_all()
    assert [row.model_dump() for row in db.exec(select(PersonalAccountYear)).all()] == before


def test_a_late_credit_changes_the_year_on_the_next_run(db):
    person = factories.person(db)
    _credit(db, person, date(2024, 3, 1), 40000)
    db.flush()
    credit_interest(db, year=2024, now=NOW)
    _credit(db, person, date(2024, 5, 1), 40000)
    db.flush()
    assert credit_interest(db, year=2024, now=NOW).accounts == 1
    db.expire_all()
    assert db.exec(select(PersonalAccountYear.contributions_fen)).one() == 80000


def test_only_paid_months_are_credited_to_the_account(db):
    person = factories.person(db)
    _credit(db, person, date(2024, 1, 1), 10000)
    _credit(db, person, date(2024, 2, 1), 99999, status="billed")
    _credit(db, person, date(2024, 3, 1), 99999, status="arrears", source="flexible_payment")
    db.flush()
    credit_interest(db, year=2024, now=NOW)
    (year,) = account_years(db, person_id=person.id)
    assert year.contributions == Decimal("100.00")
    assert year.interest == account_interest(2024, Decimal(0), [(date(2024, 1, 1), Decimal("100.00"))]).interest


def test_a_balance_without_new_contributions_still_earns_interest_next_year(db):
    person = factories.person(db)
    _credit(db, person, date(2023, 6, 1), 500000)
    db.flush()
    credit_interest(db, year=2023, now=NOW)
    credit_interest(db, year=2024, now=NOW)
    first, second = account_years(db, person_id=person.id)
    assert second.opening_balance == first.closing_balance
    assert second.interest == account_interest(2024, first.closing_balance, []).interest > 0
