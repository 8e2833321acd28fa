"""Registering does not open anyone's record: only the code sent to the number on record (or a counter's letter)
proves the account, and a proven registration sees the record."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from e2e.pages import Portal
from portal.services import demo as demo_data

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
