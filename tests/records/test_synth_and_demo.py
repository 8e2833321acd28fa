"""The synthetic province and the demo records: deterministic, valid identifiers, idempotent demo."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func
from sqlmodel import select

from portal.devtools import demo, synth
from portal.identifiers import parse_credit_code, parse_resident_id
from portal.models import Bill, ContributionMonth, Employer, EmploymentSpell, Person, PersonalAccountYear
from portal.policy.money import to_fen
from portal.policy.parameters import param
from portal.services.personal_accounts import credit_interest
from portal.services.records import build_record
from tests.records.support import NOW, TODAY

PREFECTURES = {"220100", "220200", "220300", "220400", "220500", "220600", "220700", "220800", "222400"}


def _fingerprint(db):
    persons = db.exec(select(Person.id_number, Person.name).order_by(Person.id)).all()
    employers = db.exec(select(Employer.credit_code, Employer.name).order_by(Employer.id)).all()
    months = db.exec(select(func.count(), func.sum(ContributionMonth.base_fen),
                            func.sum(ContributionMonth.personal_account_fen))).one()
    balances = db.exec(select(func.sum(PersonalAccountYear.closing_balance_fen))).one()
    return persons, employers, tuple(months), balances


def test_the_synthetic_province_is_the_same_for_the_same_seed(db):
    synth.generate(db, persons=300, seed=11, today=TODAY, now=NOW)
    first = _fingerprint(db)
    db.rollback()
    synth.generate(db, persons=300, seed=11, today=TODAY, now=NOW)
    assert _fingerprint(db) == first
    db.rollback()
    synth.generate(db, persons=300, seed=12, today=TODAY, now=NOW)
    assert _fingerprint(db) != first


def test_synthetic_persons_and_employers_carry_valid_identifiers_in_the_nine_prefectures(db):
    report = synth.generate(db, persons=400, seed=3, today=TODAY, now=NOW)
    persons = db.exec(select(Person)).all()
    assert len(persons) == report.persons == 400
    for person in persons:
        parsed = parse_resident_id(person.id_number, today=TODAY)
        assert (parsed.birth_date, parsed.sex) == (person.birth_date, person.sex)
    employers = db.exec(select(Employer)).all()
    assert all(parse_credit_code(e.credit_code) == e.credit_code for e in employers)
    assert {e.region for e in employers} <= PREFECTURES and len({e.region for e in employers}) >= 5
    assert len({p.id_number for p in persons}) == 400


def test_synthetic_histories_start_with_the_accounts_and_keep_one_open_spell_per_person(db):
    synth.generate(db, persons=400, seed=5, today=TODAY, now=NOW)
    first = db.exec(select(func.min(ContributionMonth.month))).one()
    assert first == date(1995, 7, 1)
    assert db.exec(select(func.max(ContributionMonth.month))).one() == date(2026, 10, 1)
    open_spells = db.exec(select(EmploymentSpell.person_id).where(EmploymentSpell.end_month.is_(None))).all()
    assert len(open_spells) == len(set(open_spells)) > 100
    sources = set(db.exec(select(ContributionMonth.source)).all())
    assert sources == {"employer_filing", "flexible_payment"}
    assert db.exec(select(func.count()).select_from(PersonalAccountYear)).one() > 400


def test_the_demo_records_have_a_gap_missed_months_and_an_employer_month_in_arrears(db):
    demo.seed(session=db, now=NOW, today=TODAY)
    first = _fingerprint(db)
    demo.seed(session=db, now=NOW, today=TODAY)
    assert _fingerprint(db) == first
    people = {p.name: p for p in db.exec(select(Person)).all()}
    employee = build_record(db, person=people["王建国"], today=TODAY)
    assert employee.first_month == date(2020, 7, 1)
    assert [(g.start, g.months, g.reason) for g in employee.gaps][:1] == [(date(2023, 1, 1), 5, "not_insured")]
    assert [(g.start, g.reason) for g in employee.gaps][1:] == [(date(2026, 10, 1), "arrears"),
                                                                 (date(2026, 11, 1), "unpaid")]
    assert employee.account_years and employee.average_index is not None
    flexible = build_record(db, person=people["李秀英"], today=TODAY)
    assert [(g.start, g.months, g.reason) for g in flexible.gaps] == [
        (date(2022, 4, 1), 3, "not_billed"), (date(2025, 2, 1), 1, "not_billed"), (date(2026, 11, 1), 1, "unpaid")]
    arrears = db.exec(select(Bill).where(Bill.status == "arrears")).all()
    assert [(bill.payer_kind, bill.month) for bill in arrears] == [("employer", date(2026, 10, 1))]


def _account_rows(db):
    return db.exec(select(PersonalAccountYear.person_id, PersonalAccountYear.year,
                          PersonalAccountYear.opening_balance_fen, PersonalAccountYear.contributions_fen,
                          PersonalAccountYear.interest_fen, PersonalAccountYear.closing_balance_fen,
                          PersonalAccountYear.interest_rate)
                   .order_by(PersonalAccountYear.person_id, PersonalAccountYear.year)).all()


def test_the_synthetic_accounts_are_what_crediting_every_year_in_turn_writes(db):
    synth.generate(db, persons=300, seed=7, today=TODAY, now=NOW, credit_years=False)
    for year in range(1995, TODAY.year):
        credit_interest(db, year=year, now=NOW)
    credited = _account_rows(db)
    db.rollback()
    report = synth.generate(db, persons=300, seed=7, today=TODAY, now=NOW)
    assert report.account_years == len(credited) > 300
    assert _account_rows(db) == credited
    assert all(credit_interest(db, year=year, now=NOW).accounts == 0 for year in range(1995, TODAY.year))


def test_synthetic_flexible_bases_lie_between_the_months_floor_and_cap(db):
    synth.generate(db, persons=400, seed=5, today=TODAY, now=NOW)
    for month in (date(2021, 1, 1), date(2025, 1, 1)):
        bases = db.exec(select(ContributionMonth.base_fen).where(
            ContributionMonth.month == month, ContributionMonth.source == "flexible_payment")).all()
        floor, cap = to_fen(param("base_floor").at(month).value), to_fen(param("base_cap").at(month).value)
        assert bases and all(floor <= base <= cap for base in bases)
