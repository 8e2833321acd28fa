"""Registering does not open anyone's record: only the code sent to the number on record (or a counter's letter)
proves the account, and a proven registration sees the record."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from e2e.pages import Portal
from portal.devtools import demo as demo_data

EMPLOYEE, EMPLOYEE_NAME = demo_data.PERSONS[0][1], demo_data.PERSONS[0][2]


def test_registering_for_someone_elses_identity_number_fails_without_the_code(page, live_server):
    portal = Portal(page)
    response = portal.register_person(id_number=EMPLOYEE, name=EMPLOYEE_NAME, password="Someone-Elses-Number-1")
    assert response is not None and response.ok
    expect(page).to_have_url(re.compile(r"/register/code$"))

    response = portal.enter_code("123456")  # a guess: the code went to the number on record
    assert response.status == 422
    expect(portal.field_error("code")).to_be_visible()
    portal.open("/me/records")
    expect(page).to_have_url(re.compile(r"/login\?next="))  # no account, no record
    response = portal.sign_in("person", username=EMPLOYEE, password="Someone-Elses-Number-1")
    assert response.status == 400  # the registrant's password was never set


def test_a_registration_proven_by_the_code_on_record_sees_the_record(page, person_on_record):
    portal = Portal(page)
    portal.register_person(id_number=person_on_record.id_number, name=person_on_record.name,
                           password=person_on_record.password)
    expect(page).to_have_url(re.compile(r"/register/code$"))
    code = portal.sent_code(person_on_record.mobile)
    portal.open("/register/code")
    response = portal.enter_code(code)
    assert response is not None and response.ok
    expect(page).to_have_url(re.compile(r"/me$"))
    expect(portal.heading).to_contain_text(person_on_record.name)
    expect(portal.flash()).to_be_visible()

    response = portal.open("/me/records")
    assert response.ok
    expect(page).to_have_url(re.compile(r"/me/records$"))


def test_a_forgotten_password_is_set_again_with_the_code_on_record(page, person):
    portal = Portal(page)
    portal.open("/login?account_type=person")
    portal.follow(portal.main.locator("a[href='/password/forgotten']"))
    portal.fill(id_number=person.id_number, name=person.name, password="Changbai-Mountain-Snow-7",
                password_confirm="Changbai-Mountain-Snow-7")
    portal.submit(portal.main.locator("form[action='/password/forgotten']"))
    expect(page).to_have_url(re.compile(r"/register/code$"))
    code = portal.sent_code(person.mobile)
    portal.open("/register/code")
    portal.enter_code(code)
    expect(page).to_have_url(re.compile(r"/me$"))
    portal.sign_out()
    assert portal.sign_in("person", username=person.id_number, password=person.password).status == 400
    portal.sign_in("person", username=person.id_number, password="Changbai-Mountain-Snow-7")
    expect(page).to_have_url(re.compile(r"/me$"))


def test_an_account_opened_before_proof_was_required_proves_itself_first(page, person, sessionmaker):
    from sqlmodel import select

    from portal.db import transaction
    from portal.models import Person, PersonAccount

    with transaction(sessionmaker) as session:
        account = session.exec(select(PersonAccount).join(Person, Person.id == PersonAccount.person_id)
                               .where(Person.id_number == person.id_number)).one()
        account.identity_proven_at, account.identity_proof = None, ""
    portal = Portal(page)
    portal.sign_in("person", username=person.id_number, password=person.password)
    expect(page).to_have_url(re.compile(r"/me/prove$"))  # /me itself shows the record: not yet
    expect(portal.flash()).to_be_visible()
    portal.submit(portal.main.locator("form[action='/me/prove/send']"))
    code = portal.sent_code(person.mobile)
    portal.open("/me/prove")
    portal.enter_code(code, action="/me/prove")
    expect(page).to_have_url(re.compile(r"/me$"))
    expect(portal.heading).to_contain_text(person.name)
