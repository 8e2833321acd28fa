"""The monthly billing run: set-based, idempotent, and equal to the policy engine to the fen."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import select

from portal.models import BaseDeclaration, Bill, ContributionMonth
from portal.policy.contribution_year import contribution_year
from portal.policy.money import from_fen, to_fen
from portal.policy.rules.contribution import employee_contribution, flexible_contribution
from portal.services import billing
from tests import factories
from tests.records.support import NOW, flexible, spell

MONTH = date(2025, 9, 1)


def _snapshot(db):
    months = db.exec(select(ContributionMonth).order_by(ContributionMonth.id)).all()
    bills = db.exec(select(Bill).order_by(Bill.id)).all()
    return [m.model_dump() for m in months], [b.model_dump() for b in bills]


def test_billing_a_month_twice_changes_nothing(db):
    employer = factories.employer(db)
    for wage in (300000, 700000, 3000000):
        spell(db, employer=employer, wage_fen=wage)
    flexible(db, percents={2025: 100})
    first = billing.run_billing(db, month=MONTH, now=NOW)
    before = _snapshot(db)
    second = billing.run_billing(db, month=MONTH, now=NOW)
    assert (first.employee_months, first.flexible_months, first.bills) == (3, 1, 2)
    assert (second.employee_months, second.flexible_months, second.bills, second.lines) == (0, 0, 0, 0)
    assert _snapshot(db) == before


def test_billing_clamps_each_base_to_the_months_floor_and_cap_as_the_policy_does(db):
    employer = factories.employer(db)
    wages = {"below": Decimal("1000.00"), "within": Decimal("6543.21"), "above": Decimal("50000.00")}
    spells = {label: spell(db, employer=employer, wage_fen=to_fen(wage)) for label, wage in wages.items()}
    billing.run_billing(db, month=MONTH, now=NOW)
    for label, wage in wages.items():
        row = db.exec(select(ContributionMonth).where(ContributionMonth.person_id == spells[label].person_id)).one()
        expected = employee_contribution(wage, MONTH)
        assert from_fen(row.base_fen) == expected.base, label
        assert (from_fen(row.employer_part_fen), from_fen(row.individual_part_fen),
                from_fen(row.personal_account_fen)) == (expected.employer, expected.individual,
                                                        expected.personal_account), label
    assert from_fen(db.exec(select(ContributionMonth.base_fen).where(
        ContributionMonth.person_id == spells["below"].person_id)).one()) == Decimal("4393.20")
    assert from_fen(db.exec(select(ContributionMonth.base_fen).where(
        ContributionMonth.person_id == spells["above"].person_id)).one()) == Decimal("21966.00")


def test_the_sql_parts_equal_the_policy_function_for_random_wages_in_several_years(db):
    rng = random.Random(4)
    employer = factories.employer(db)
    wages = [rng.randint(100000, 3000000) for _ in range(60)] + [439319, 439320, 439321, 2196600, 2196601]
    spells = [spell(db, employer=employer, wage_fen=wage, start=date(2020, 7, 1)) for wage in wages]
    for month in (date(2021, 3, 1), date(2024, 7, 1), date(2026, 8, 1)):
        billing.run_billing(db, month=month, now=NOW)
        rows = {row.person_id: row for row in db.exec(select(ContributionMonth).where(
            ContributionMonth.month == month)).all()}
        for row_spell in spells:
            row, expected = rows[row_spell.person_id], employee_contribution(from_fen(row_spell.wage_fen), month)
            assert (from_fen(row.base_fen), from_fen(row.employer_part_fen), from_fen(row.individual_part_fen),
                    from_fen(row.personal_account_fen)) == (expected.base, expected.employer, expected.individual,
                                                            expected.personal_account)


def test_flexible_billing_equals_the_policy_function_for_every_whole_percent(db):
    enrolments = {percent: flexible(db, start=date(2020, 7, 1), percents={2020: percent})
                  for percent in range(60, 301)}
    for month in (date(2021, 2, 1), date(2025, 12, 1)):
        billing.run_billing(db, month=month, now=NOW)
        rows = {row.person_id: row for row in db.exec(select(ContributionMonth).where(
            ContributionMonth.month == month)).all()}
        for percent, enrolment in enrolments.items():
            row, expected = rows[enrolment.person_id], flexible_contribution(percent, month)
            assert (from_fen(row.base_fen), from_fen(row.individual_part_fen), from_fen(row.personal_account_fen),
                    row.employer_part_fen, row.source) == (expected.base, expected.total, expected.personal_account,
                                                           0, "flexible_payment"), (percent, month)


def test_a_flexible_worker_without_a_choice_for_the_year_keeps_the_last_one_or_the_minimum(db):
    kept = flexible(db, start=date(2024, 7, 1), percents={2024: 150})
    default = flexible(db, start=date(2025, 7, 1))
    billing.run_billing(db, month=MONTH, now=NOW)
    base = {row.person_id: from_fen(row.base_fen) for row in db.exec(select(ContributionMonth)).all()}
    assert base[kept.person_id] == flexible_contribution(150, MONTH).base
    assert base[default.person_id] == flexible_contribution(60, MONTH).base


def test_one_bill_per_employer_carries_a_line_per_employee_and_their_total(db):
    first, second = factories.employer(db), factories.employer(db)
    for wage in (500000, 600000):
        spell(db, employer=first, wage_fen=wage)
    spell(db, employer=second, wage_fen=800000)
    billing.run_billing(db, month=MONTH, now=NOW)
    bill = db.exec(select(Bill).where(Bill.employer_id == first.id)).one()
    lines = billing.months_on_bill(db, bill=bill)
    assert len(lines) == 2 and bill.status == "open" and bill.payer_kind == "employer"
    assert bill.total_fen == sum(line.employer_part_fen + line.individual_part_fen for line in lines)
    expected = sum((employee_contribution(Decimal(w) / 100, MONTH).total for w in (500000, 600000)), Decimal(0))
    assert from_fen(bill.total_fen) == expected
    assert bill.due_date == date(2025, 9, 25)
    assert db.exec(select(func.count()).select_from(Bill)).one() == 2


def test_only_spells_covering_the_month_are_billed(db):
    employer = factories.employer(db)
    ended = spell(db, employer=employer, start=date(2020, 1, 1), end=date(2025, 8, 1))
    future = spell(db, employer=employer, start=date(2025, 10, 1))
    last_month = spell(db, employer=employer, start=date(2020, 1, 1), end=MONTH)
    billing.run_billing(db, month=MONTH, now=NOW)
    billed = set(db.exec(select(ContributionMonth.person_id)).all())
    assert billed == {last_month.person_id}
    assert ended.person_id not in billed and future.person_id not in billed


def test_a_month_is_never_billed_to_both_an_employer_and_the_flexible_worker(db):
    person = factories.person(db)
    spell(db, person=person, start=date(2025, 9, 1))
    flexible(db, person=person, start=date(2025, 1, 1), end=MONTH)
    billing.run_billing(db, month=MONTH, now=NOW)
    assert db.exec(select(ContributionMonth.source).where(ContributionMonth.person_id == person.id)).all() == [
        "employer_filing"]


def test_the_wage_declared_for_the_contribution_year_replaces_the_enrolment_wage(db):
    row = spell(db, wage_fen=500000)
    db.add(BaseDeclaration(employer_id=row.employer_id, contribution_year=2025, person_id=row.person_id,
                           wage_fen=900000, base_fen=900000, created_at=NOW))
    db.add(BaseDeclaration(employer_id=row.employer_id, contribution_year=2024, person_id=row.person_id,
                           wage_fen=100, base_fen=100, created_at=NOW))
    db.flush()
    billing.run_billing(db, month=MONTH, now=NOW)
    assert db.exec(select(ContributionMonth.base_fen)).one() == 900000


def test_employees_added_after_the_bill_was_paid_go_on_a_second_part(db):
    employer = factories.employer(db)
    spell(db, employer=employer)
    billing.run_billing(db, month=MONTH, now=NOW)
    first = db.exec(select(Bill)).one()
    first.status = "paid"
    db.add(first)
    db.flush()
    spell(db, employer=employer, wage_fen=500000)
    billing.run_billing(db, month=MONTH, now=NOW)
    parts = db.exec(select(Bill).order_by(Bill.part)).all()
    assert [(bill.part, bill.status) for bill in parts] == [(1, "paid"), (2, "open")]
    assert from_fen(parts[1].total_fen) == employee_contribution(Decimal("5000.00"), MONTH).total


def test_bills_past_their_due_date_fall_into_arrears_with_their_months(db):
    spell(db)
    flexible(db)
    billing.run_billing(db, month=MONTH, now=NOW)
    assert billing.mark_arrears(db, today=date(2025, 9, 25)) == 0
    assert billing.mark_arrears(db, today=date(2025, 9, 26)) == 2
    db.expire_all()
    assert {bill.status for bill in db.exec(select(Bill)).all()} == {"arrears"}
    assert {row.status for row in db.exec(select(ContributionMonth)).all()} == {"arrears"}
    assert billing.mark_arrears(db, today=date(2025, 10, 30)) == 0


def test_the_month_terms_come_from_the_policy_parameters():
    terms = billing.month_terms(date(2025, 7, 1))
    assert (terms.floor_fen, terms.cap_fen, terms.contribution_year) == (439320, 2196600, 2025)
    assert (terms.employer_rate, terms.individual_rate) == (Decimal("0.16"), Decimal("0.08"))
    assert billing.month_terms(date(2025, 6, 1)).floor_fen == 430710
    assert contribution_year(date(2026, 6, 1)) == 2025


def test_a_payer_whose_months_are_all_there_already_gets_no_empty_bill(db):
    # Overlapping spells (a closed one still covering the month): the person's month is billed once, to the
    # first employer; the second employer has nothing to pay for and gets no bill.
    person = factories.person(db)
    first, second = factories.employer(db), factories.employer(db)
    spell(db, person=person, employer=first, end=date(2026, 12, 1))
    spell(db, person=person, employer=second)
    report = billing.run_billing(db, month=MONTH, now=NOW)
    bills = db.exec(select(Bill)).all()
    assert (report.employee_months, report.bills, report.lines) == (1, 1, 1) == (1, len(bills), 1)
    row = db.exec(select(ContributionMonth)).one()
    assert [(bill.payer_id, bill.total_fen) for bill in bills] == [
        (row.employer_id, row.employer_part_fen + row.individual_part_fen)]
    assert row.bill_id == bills[0].id


def test_the_bills_totals_read_the_month_once_and_find_each_bill_by_its_key(db):
    """Not each bill's months one bill at a time (twice: for the total and to skip an unchanged one), and never the
    month once for every bill (SQLite took 215 s for 100,000 persons that way)."""
    from sqlalchemy import text

    values = {"month": date(2026, 11, 1), "now": NOW}
    if db.get_bind().dialect.name == "sqlite":
        plan = [str(row[-1]) for row in db.execute(text("EXPLAIN QUERY PLAN " + billing._TOTALS), values)]
        assert any("ix_contribution_month_month" in step for step in plan), plan
        assert any(step.startswith("SEARCH bill USING INTEGER PRIMARY KEY") for step in plan), plan
        assert sum("contribution_month" in step for step in plan) == 1, plan
    else:  # PostgreSQL: the partition pruning is checked in tests/records/test_query_plans_pg.py
        assert "c.month = :month" in billing._TOTALS
