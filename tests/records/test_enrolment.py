"""增员 / 减员 and flexible enrolment: one open spell per person, ownership, working age."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from portal.errors import Conflict, Forbidden, NotFound, ValidationFailed
from portal.identifiers import make_resident_id
from portal.models import EmploymentSpell, FlexibleBaseChoice, FlexibleEnrolment, Person
from portal.services import enrolment
from tests import factories
from tests.records.support import NOW, TODAY, employer_actor, person_actor, spell

NUMBER = make_resident_id("220102", date(1990, 5, 17), 135)


def _add(db, operator, *, number=NUMBER, name="周明", start=date(2026, 9, 1), wage="6200"):
    return enrolment.add_employee(db, actor=employer_actor(operator), id_number=number, name=name,
                                  start_month=start, wage=wage, now=NOW, today=TODAY)


def test_adding_an_unknown_employee_creates_the_person_from_the_identity_number(db):
    operator = factories.operator(db)
    row = _add(db, operator)
    person = db.get(Person, row.person_id)
    assert (person.name, person.birth_date, person.sex) == ("周明", date(1990, 5, 17), "male")
    assert (row.employer_id, row.start_month, row.wage_fen, row.end_month) == (
        operator.employer_id, date(2026, 9, 1), 620000, None)


def test_a_second_open_spell_is_refused_naming_the_start_month_but_not_the_other_employer(db):
    first = factories.operator(db, employer_row=factories.employer(db, name="长春甲有限公司"))
    second = factories.operator(db, employer_row=factories.employer(db, name="吉林乙有限公司"))
    _add(db, first, start=date(2026, 3, 1))
    with pytest.raises(Conflict) as refused:
        _add(db, second)
    text = refused.value.message.text % refused.value.message.params
    assert "2026-03" in text and "长春甲" not in text
    assert len(db.exec(select(EmploymentSpell)).all()) == 1


def test_the_database_itself_allows_only_one_open_spell_per_person(db):
    from sqlalchemy.exc import IntegrityError

    person = factories.person(db)
    spell(db, person=person)
    with pytest.raises(IntegrityError):
        spell(db, person=person)


def test_after_the_spell_ends_another_employer_can_add_the_person_from_the_next_month(db):
    first, second = factories.operator(db), factories.operator(db, username="second")
    row = _add(db, first, start=date(2025, 1, 1))
    enrolment.end_spell(db, actor=employer_actor(first), spell_id=row.id, end_month=date(2026, 6, 1),
                        reason="resigned", now=NOW, today=TODAY)
    with pytest.raises(Conflict):  # overlapping the ended spell
        _add(db, second, start=date(2026, 6, 1))
    later = _add(db, second, start=date(2026, 7, 1))
    assert later.person_id == row.person_id


def test_an_employment_cannot_end_before_months_already_billed_for_it_and_the_message_says_from_when(db):
    from portal.services import billing

    operator = factories.operator(db)
    row = _add(db, operator, start=date(2026, 7, 1))
    billing.run_billing(db, month=date(2026, 10, 1), now=NOW)
    with pytest.raises(ValidationFailed) as refused:
        enrolment.end_spell(db, actor=employer_actor(operator), spell_id=row.id, end_month=date(2026, 8, 1),
                            reason="resigned", now=NOW, today=TODAY)
    message = refused.value.errors["end_month"]
    assert message.params == {"month": "2026-10"}
    assert db.get(EmploymentSpell, row.id).end_month is None

    ended = enrolment.end_spell(db, actor=employer_actor(operator), spell_id=row.id, end_month=date(2026, 10, 1),
                                reason="resigned", now=NOW, today=TODAY)
    assert ended.end_month == date(2026, 10, 1)


@pytest.mark.parametrize(("field", "kwargs"), [
    ("id_number", {"number": NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1")}),
    ("name", {"name": ""}),
    ("wage", {"wage": "-5"}),
    ("wage", {"wage": "0"}),
    ("wage", {"wage": "9999999"}),
    ("wage", {"wage": "abc"}),
    ("start_month", {"start": date(2027, 3, 1)}),
    ("start_month", {"start": date(1990, 1, 1)}),
])
def test_bad_input_is_refused_field_by_field(db, field, kwargs):
    operator = factories.operator(db)
    with pytest.raises(ValidationFailed) as refused:
        _add(db, operator, **kwargs)
    assert field in refused.value.errors


def test_a_name_that_does_not_match_the_known_person_is_refused(db):
    factories.person(db, name="周明", id_number=NUMBER)
    with pytest.raises(ValidationFailed) as refused:
        _add(db, factories.operator(db), name="周敏")
    assert "name" in refused.value.errors


def test_an_operator_cannot_end_another_employers_spell(db):
    owner, stranger = factories.operator(db), factories.operator(db, username="stranger")
    row = _add(db, owner)
    with pytest.raises(NotFound):
        enrolment.end_spell(db, actor=employer_actor(stranger), spell_id=row.id, end_month=date(2026, 10, 1),
                            reason="resigned", now=NOW, today=TODAY)
    assert [r.spell.id for r in enrolment.employees(db, actor=employer_actor(stranger))] == []
    assert [r.spell.id for r in enrolment.employees(db, actor=employer_actor(owner), search="周")] == [row.id]


def test_an_unverified_employer_cannot_add_employees(db):
    operator = factories.operator(db, employer_row=factories.employer(db, status="pending"))
    with pytest.raises(Forbidden):
        _add(db, operator)


def test_a_person_of_working_age_without_an_employer_enrols_as_a_flexible_worker(db):
    person = factories.person(db, birth=date(1980, 1, 1))
    row = enrolment.enrol_flexible(db, actor=person_actor(person), start_month=date(2026, 11, 1), base_percent=80,
                                   now=NOW, today=TODAY)
    choice = db.exec(select(FlexibleBaseChoice).where(FlexibleBaseChoice.enrolment_id == row.id)).one()
    assert (choice.contribution_year, choice.base_percent) == (2026, 80)
    enrolment.set_flexible_base_percent(db, actor=person_actor(person), contribution_year_start=2026,
                                        base_percent=300, now=NOW, today=TODAY)
    assert db.exec(select(FlexibleBaseChoice.base_percent)).one() == 300


@pytest.mark.parametrize("percent", [59, 301, "100"])
def test_a_base_percent_outside_the_policy_range_is_refused(db, percent):
    person = factories.person(db, birth=date(1980, 1, 1))
    with pytest.raises(ValidationFailed):
        enrolment.enrol_flexible(db, actor=person_actor(person), start_month=date(2026, 11, 1),
                                 base_percent=percent, now=NOW, today=TODAY)


def test_an_employee_or_a_person_past_retirement_age_cannot_enrol_as_flexible(db):
    employed = factories.person(db, birth=date(1980, 1, 1))
    spell(db, person=employed)
    retired = factories.person(db, birth=date(1960, 1, 1))
    for person in (employed, retired):
        with pytest.raises(Conflict):
            enrolment.enrol_flexible(db, actor=person_actor(person), start_month=date(2026, 11, 1),
                                     base_percent=60, now=NOW, today=TODAY)
    assert db.exec(select(FlexibleEnrolment)).all() == []


def test_being_added_as_an_employee_ends_the_open_flexible_enrolment(db):
    person = factories.person(db, name="周明", id_number=NUMBER)
    flexible = enrolment.enrol_flexible(db, actor=person_actor(person), start_month=date(2026, 11, 1),
                                        base_percent=60, now=NOW, today=TODAY)
    _add(db, factories.operator(db), start=date(2026, 12, 1))
    assert (flexible.end_month, flexible.end_reason) == (date(2026, 11, 1), "employed")
