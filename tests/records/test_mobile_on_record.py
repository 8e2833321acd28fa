"""The mobile number on record, where codes that prove an account go, comes from an employer's enrolment or a
service counter; and a certificate is refused, with the reason, while the record has no insured month."""

from __future__ import annotations

import re
from datetime import date

import pytest

from portal.auth.principal import SYSTEM
from portal.errors import ValidationFailed
from portal.identifiers import make_resident_id
from portal.models import Person
from portal.services import enrolment, identity
from tests import factories
from tests.helpers import new_person, sign_in_person, token_from
from tests.records.support import NOW, TODAY, employer_actor


def add(db, operator, *, number: str, mobile: str):
    return enrolment.add_employee(db, actor=employer_actor(operator), id_number=number, name="周新", mobile=mobile,
                                  start_month=date(2026, 11, 1), wage="6000", now=NOW, today=TODAY)


def test_an_employers_enrolment_records_the_employees_mobile_number(db):
    number = make_resident_id("220102", date(1990, 6, 1), 41)
    spell = add(db, factories.operator(db), number=number, mobile="13911110000")
    person = db.get(Person, spell.person_id)
    assert (person.mobile, person.mobile_source) == ("13911110000", "enrolment")


def test_a_bad_mobile_number_is_refused_at_its_field_and_nothing_is_enrolled(db):
    number = make_resident_id("220102", date(1990, 6, 1), 42)
    with pytest.raises(ValidationFailed) as refused:
        add(db, factories.operator(db), number=number, mobile="1391111")
    assert list(refused.value.errors) == ["mobile"]


def test_an_employer_does_not_replace_a_number_a_counter_recorded(db):
    person = factories.person(db)
    identity.set_record_mobile(db, person=person, mobile="13922220000", source="counter", actor=SYSTEM, now=NOW)
    identity.set_record_mobile(db, person=person, mobile="13933330000", source="enrolment", actor=SYSTEM, now=NOW)
    assert (person.mobile, person.mobile_source) == ("13922220000", "counter")


def test_a_certificate_is_refused_with_the_reason_while_the_record_has_no_insured_month(client, db, frozen_clock):
    assert sign_in_person(client, new_person(db)).status_code == 303
    page = client.get("/me/certificate?lang=en")
    assert "Your record has no insured month yet" in page.text and 'action="/me/certificate"' not in page.text

    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    refused = client.post("/me/certificate?lang=en", data={"csrf_token": token})
    assert refused.status_code == 409 and "Your record has no insured month yet" in refused.text
    assert token_from(client, "/me/certificate")
