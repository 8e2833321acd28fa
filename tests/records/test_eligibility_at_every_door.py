"""Who may be insured is one rule (enrolment.insurable_problem) that every door asks: an employer's 增员 (service
and page), a person's own flexible enrolment (service and page), the exception a person or the counter files."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from portal.errors import Conflict, ValidationFailed
from portal.identifiers import InvalidIdentifier, make_resident_id, parse_resident_id
from portal.models import EmploymentSpell, FlexibleEnrolment, Person
from portal.services import declarations, enrolment, person_requests
from tests import factories
from tests.conftest import csrf_token
from tests.helpers import field_error, sign_in_person, snapshot
from tests.queue.helpers import person_actor as account_actor
from tests.records.support import NOW, TODAY, employer_actor, person_actor, spell
from tests.records.test_employer_pages import Firm
from tests.trust_support import offer

DECEMBER = date(2026, 12, 1)
AREA_99 = make_resident_id("990102", date(1990, 5, 17), 135)
BORN_1940 = make_resident_id("220102", date(1940, 3, 1), 11)


def _employer_adds(db, number: str, name: str = "周明") -> dict:
    """增员 through the service: the messages by field, or {} when the person was added."""
    operator = factories.operator(db, employer_row=factories.employer(db))
    try:
        enrolment.add_employee(db, actor=employer_actor(operator), id_number=number, name=name, start_month=DECEMBER,
                               wage="6200", now=NOW, today=TODAY)
    except ValidationFailed as refused:
        return refused.errors
    return {}


def _enrols_as_flexible(db, person: Person):
    try:
        enrolment.enrol_flexible(db, actor=person_actor(person), start_month=DECEMBER, base_percent=60, now=NOW,
                                 today=TODAY)
    except Conflict as refused:
        return refused.message
    return None


def _retired(db, *, birth=date(1970, 4, 1)) -> Person:
    """Someone below the statutory age whose employment ended on retirement (special early retirement)."""
    person = factories.person(db, name="赵退休", birth=birth)
    spell(db, person=person, start=date(2000, 1, 1), end=date(2025, 3, 1)).end_reason = "retired"
    db.flush()
    return person


# --- the identity number's area code ---------------------------------------------------------------------------


def test_an_identity_number_whose_first_two_digits_name_no_province_is_not_valid_even_with_a_right_check_character():
    with pytest.raises(InvalidIdentifier) as refused:
        parse_resident_id(AREA_99, today=TODAY)
    assert refused.value.code == "id_region"
    assert parse_resident_id(make_resident_id("110101", date(1990, 5, 17), 135), today=TODAY).region == "110101"


def test_an_employer_cannot_add_a_person_with_area_code_99_and_no_person_is_created(db):
    errors = _employer_adds(db, AREA_99)
    assert errors["id_number"].text.startswith("This identity number is not valid: its first two digits")
    assert db.exec(select(Person).where(Person.id_number == AREA_99)).first() is None


def test_a_declaration_row_with_area_code_99_is_refused_at_its_cell(db):
    operator = factories.operator(db)
    rows = [declarations.InputRow(row=2, id_number=AREA_99, name="周明", wage="6200")]
    with pytest.raises(declarations.DeclarationRefused) as refused:
        declarations.check_rows(db, actor=employer_actor(operator), year=2026, rows=rows, today=TODAY)
    assert [(p.row, p.column, p.message.text) for p in refused.value.problems] == [
        (2, "id_number", "This identity number is not valid: its first two digits name no province. Check each digit.")]


def test_the_employer_page_refuses_area_code_99_keeping_what_was_typed(client, app, db, frozen_clock):
    firm = Firm(db)
    firm.sign_in(client)
    token = csrf_token(client.get("/employer/employees?lang=en").text)
    before = snapshot(app.state.engine)
    response = client.post("/employer/employees", data={"csrf_token": token, "id_number": AREA_99, "name": "周明",
                                                        "start_month": "2026-12", "wage": "6200"})
    assert response.status_code == 422
    assert "name no province" in field_error(response.text, "id_number")
    assert f'value="{AREA_99}"' in response.text
    assert snapshot(app.state.engine) == before


# --- the statutory retirement age, from the policy engine -----------------------------------------------------


@pytest.mark.parametrize("birth, statutory", [
    (date(1940, 3, 1), "2000-03"),  # the example
    (date(1964, 6, 1), "2024-06"),  # a man past 60 before the reform's first cohort
    (date(1966, 1, 1), "2026-05"),  # a man of the reform: 60 years and 4 months
])
def test_a_man_past_the_statutory_age_is_refused_by_the_employer_and_by_himself_with_the_same_month(
        db, birth, statutory):
    number = make_resident_id("220102", birth, 11)
    errors = _employer_adds(db, number)
    assert (errors["start_month"].text, errors["start_month"].params) == (
        enrolment.EMPLOYER_WORDS["over_age"], {"month": statutory})
    assert db.exec(select(EmploymentSpell)).all() == []

    person = factories.person(db, id_number=make_resident_id("220102", birth, 13), birth=birth)
    message = _enrols_as_flexible(db, person)
    assert (message.text, message.params) == (enrolment.OWN_WORDS["over_age"], {"month": statutory})


def test_a_woman_is_refused_past_the_later_womens_age_and_accepted_before_it(db):
    # Born 1972-02: a woman cadre's original 55 plus the reform's delay falls after 2026-12, so she is insurable.
    assert _employer_adds(db, make_resident_id("220102", date(1972, 2, 1), 12), name="李芳") == {}
    errors = _employer_adds(db, make_resident_id("220102", date(1968, 2, 1), 12), name="王芳")
    assert errors["start_month"].text == enrolment.EMPLOYER_WORDS["over_age"]


def test_the_employer_page_refuses_a_person_born_in_1940_at_the_month_field(client, app, db, frozen_clock):
    firm = Firm(db)
    firm.sign_in(client)
    token = csrf_token(client.get("/employer/employees?lang=en").text)
    before = snapshot(app.state.engine)
    response = client.post("/employer/employees", data={"csrf_token": token, "id_number": BORN_1940, "name": "周明",
                                                        "start_month": "2026-12", "wage": "6200"})
    assert response.status_code == 422
    message = field_error(response.text, "start_month")
    assert "reaches the statutory retirement age in" in message and "2000" in message
    assert snapshot(app.state.engine) == before


# --- drawing a pension ------------------------------------------------------------------------------------------


def test_a_person_who_draws_a_pension_is_refused_by_the_employer_by_themselves_and_by_the_office(db):
    person = _retired(db)
    errors = _employer_adds(db, person.id_number, name=person.name)
    assert (errors["id_number"].text, errors["id_number"].params) == (
        enrolment.EMPLOYER_WORDS["pensioner"], {"month": "2025-03"})
    assert _enrols_as_flexible(db, person).text == enrolment.OWN_WORDS["pensioner"]
    # No exception can be asked for either: the office has nothing it may lift.
    assert person_requests.exception_grounds(db, person=person, month=DECEMBER) is None
    assert db.exec(select(FlexibleEnrolment)).all() == []
    assert len(db.exec(select(EmploymentSpell)).all()) == 1


def test_a_person_recorded_as_deceased_cannot_be_enrolled(db):
    person = factories.person(db, name="钱已故", birth=date(1980, 1, 1))
    spell(db, person=person, start=date(2010, 1, 1), end=date(2026, 2, 1)).end_reason = "died"
    db.flush()
    errors = _employer_adds(db, person.id_number, name=person.name)
    assert errors["id_number"].text == enrolment.EMPLOYER_WORDS["deceased"]


def test_the_flexible_page_tells_a_pensioner_why_and_offers_no_exception(client, db, frozen_clock):
    account = factories.person_account(db, name="赵退休", birth=date(1970, 4, 1))
    spell(db, person=db.get(Person, account.person_id), start=date(2000, 1, 1),
          end=date(2025, 3, 1)).end_reason = "retired"
    number = db.get(Person, account.person_id).id_number
    db.commit()
    assert sign_in_person(client, number).status_code == 303
    page = client.get("/me/flexible?lang=en")
    assert 'id="not-eligible"' in page.text and "draw a pension" in page.text
    assert 'action="/me/flexible/enrol"' not in page.text
    with pytest.raises(Conflict):
        person_requests.submit_exception(db, filing=person_requests.online(db, actor=account_actor(account)),
                                         start_month="2026-12", base_percent=60, token="t1",
                                         details="I want to keep paying.", offer=offer("flexible_no_employer"),
                                         now=NOW, today=TODAY)


def test_a_working_age_person_is_still_enrolled_by_either_door(db):
    assert _employer_adds(db, make_resident_id("220102", date(1990, 5, 17), 135)) == {}
    person = factories.person(db, birth=date(1988, 1, 1))
    assert _enrols_as_flexible(db, person) is None
