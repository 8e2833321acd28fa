"""People's own requests: a correction of the record, and an exception to flexible enrolment, through the queue."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from portal.errors import Conflict, ValidationFailed
from portal.models import (
    Case,
    CommitmentEvidence,
    EmploymentSpell,
    FlexibleBaseChoice,
    FlexibleEnrolment,
    Person,
)
from portal.queue import cases, take
from portal.queue import service as queue
from portal.services import person_requests as service
from tests import factories
from tests.factories import PASSWORD
from tests.helpers import id_number_of, sign_in_person, token_from
from tests.queue.helpers import person_actor as account_actor
from tests.queue.helpers import staff_actor
from tests.records.support import NOW, TODAY, spell
from tests.trust_support import face, face_checked, offer, person_commit_fields

# Online the item is committed to through the catalogue's notice, confirmed with the card's face check (never the
# password); at a counter it is signed on paper.
OK = {"details": "The employer paid me in cash for those months.", "commitment": True,
      "offer": offer("employment_history"), "now": NOW, "today": TODAY}
EXCEPTION_OK = OK | {"offer": offer("flexible_no_employer")}


def applicant(db, **who):
    """A person's account, acting from a session that passed the card's face check."""
    account = factories.person_account(db, **who)
    return account, face(account_actor(account))


def approve(db, case: Case) -> Case:
    handler = staff_actor(factories.staff(db, roles="handler", name="刘经办"))
    taken = take.take_next(db, staff=handler, now=NOW)
    assert taken.id == case.id
    return queue.act(db, reference=case.reference, action="approve", actor=handler, expected_version=taken.version,
                     reason_code="conditions_met", now=NOW)


# --- a correction of the record ------------------------------------------------------------------------------


def test_months_are_read_as_a_list_or_a_range_in_either_language_and_nonsense_is_refused():
    assert service.parse_months("2019-03, 2019-04，2019-03") == [date(2019, 3, 1), date(2019, 4, 1)]
    assert service.parse_months("2019-11 to 2020-02") == [date(2019, 11, 1), date(2019, 12, 1), date(2020, 1, 1),
                                                          date(2020, 2, 1)]
    assert service.parse_months("2019-11 至 2020-01") == [date(2019, 11, 1), date(2019, 12, 1), date(2020, 1, 1)]
    assert service.parse_months("March 2019") is None
    assert service.parse_months("2020-02 to 2019-11") is None


def test_a_correction_becomes_a_case_for_a_handler_with_the_months_checked_against_the_record(db):
    account, actor = applicant(db)
    case = service.submit_correction(db, filing=service.online(db, actor=actor), what="missing", months="2019-03 to 2019-05", token="t1", **OK)
    assert (case.kind, case.applicant_kind, case.applicant_id, case.state) == (
        "enrolment_correction", "person", account.person_id, "checked")
    payload = cases.payload_of(case)
    assert payload["months"] == ["2019-03", "2019-04", "2019-05"] and payload["what"] == "missing"
    assert payload["commitment"]["accepted"] is True
    [check] = [c for c in cases.check_results_of(case) if c["code"] == "correction_months"]
    assert check["passed"] and check["params"] == {"recorded": 0, "count": 3}


@pytest.mark.parametrize(("field", "changes"), [
    ("what", {"what": "everything"}),
    ("months", {"months": "soon"}),
    ("months", {"months": "2027-01"}),
    ("details", {"details": "   "}),
    ("mode", {"offer": None}),
    ("mode", {"offer": offer("employment_history", mode="maybe")}),
    ("attachment", {"offer": offer("employment_history", mode="proof")}),
])
def test_a_correction_with_a_bad_field_is_refused_at_that_field_and_makes_no_case(db, field, changes):
    _account, actor = applicant(db)
    fields = {"what": "missing", "months": "2019-03", **OK, **changes}
    with pytest.raises(ValidationFailed) as refused:
        service.submit_correction(db, filing=service.online(db, actor=actor), token="t2", **fields)
    assert field in refused.value.errors
    assert db.exec(select(Case)).all() == []


# --- an exception to flexible enrolment ------------------------------------------------------------------------


def test_an_employment_left_open_is_ended_and_the_person_enrolled_when_the_office_approves(db):
    account, actor = applicant(db)
    person = db.get(Person, account.person_id)
    open_spell = spell(db, person=person, start=date(2015, 1, 1))
    assert service.exception_grounds(db, person=person, month=date(2026, 12, 1)) == "open_spell"

    case = service.submit_exception(db, filing=service.online(db, actor=actor), start_month="2026-12", base_percent=100, token="t3", **EXCEPTION_OK)
    assert cases.payload_of(case)["open_spell_since"] == "2015-01"
    approve(db, case)

    assert db.get(EmploymentSpell, open_spell.id).end_month == date(2026, 11, 1)
    enrolled = db.exec(select(FlexibleEnrolment).where(FlexibleEnrolment.person_id == account.person_id)).one()
    assert enrolled.start_month == date(2026, 12, 1)
    choice = db.exec(select(FlexibleBaseChoice).where(FlexibleBaseChoice.enrolment_id == enrolled.id)).one()
    assert (choice.contribution_year, choice.base_percent) == (2026, 100)


def test_a_person_past_the_statutory_age_without_the_minimum_months_may_be_enrolled_to_keep_paying(db):
    account, actor = applicant(db, birth=date(1960, 5, 10))
    case = service.submit_exception(db, filing=service.online(db, actor=actor), start_month="2026-11", base_percent=60, token="t4", **EXCEPTION_OK)
    assert cases.payload_of(case)["reason"] == "over_age"
    approve(db, case)
    assert db.exec(select(FlexibleEnrolment).where(FlexibleEnrolment.person_id == account.person_id)).one()


def test_a_rejected_exception_changes_nothing(db):
    account, actor = applicant(db)
    person = db.get(Person, account.person_id)
    open_spell = spell(db, person=person, start=date(2015, 1, 1))
    case = service.submit_exception(db, filing=service.online(db, actor=actor), start_month="2026-12", base_percent=100, token="t5", **EXCEPTION_OK)
    handler = staff_actor(factories.staff(db, roles="handler", name="王经办"))
    taken = take.take_next(db, staff=handler, now=NOW)
    queue.act(db, reference=case.reference, action="reject", actor=handler, expected_version=taken.version,
              reason_code="not_eligible", now=NOW)
    assert db.get(EmploymentSpell, open_spell.id).end_month is None
    assert db.exec(select(FlexibleEnrolment)).all() == []


def test_someone_the_online_enrolment_accepts_has_nothing_to_ask_the_office_for(db):
    _account, actor = applicant(db)
    with pytest.raises(Conflict):
        service.submit_exception(db, filing=service.online(db, actor=actor), start_month="2026-12", base_percent=60, token="t6", **EXCEPTION_OK)
    assert db.exec(select(Case)).all() == []


# --- the pages ------------------------------------------------------------------------------------------------


def test_the_record_page_offers_a_correction_and_the_form_keeps_what_was_typed_on_an_error(client, db, frozen_clock):
    account, _actor = applicant(db)
    number = id_number_of(db, account)
    db.commit()
    sign_in_person(client, number)
    assert "/me/records/correction" in client.get("/me/records?lang=en").text

    token = token_from(client, "/me/records/correction")
    bad = client.post("/me/records/correction?lang=en", data={
        "csrf_token": token, "token": "form-1", "what": "missing", "months": "sometime", "details": "Cash <b>wages</b>"})
    assert bad.status_code == 422
    assert "Enter the months concerned as YYYY-MM" in bad.text
    assert "Cash &lt;b&gt;wages&lt;/b&gt;" in bad.text  # kept, and escaped
    assert db.exec(select(Case)).all() == []
    db.commit()

    fields = {"csrf_token": token, "token": "form-1", "what": "missing", "months": "2019-03, 2019-04",
              "details": "Cash wages", **person_commit_fields("employment_history")}
    face_checked(db, account_id=account.id)  # the commitment is signed after the card's face check
    sent = client.post("/me/records/correction", data=fields)
    again = client.post("/me/records/correction", data=fields)  # a resent form
    reference = sent.headers["location"].rsplit("/", 1)[-1]
    assert sent.status_code == 303 and again.headers["location"] == sent.headers["location"]
    assert reference in client.get("/me/requests?lang=en").text
    assert len(db.exec(select(Case)).all()) == 1


def test_the_flexible_page_offers_the_exception_only_when_the_office_could_lift_the_refusal(client, db, frozen_clock):
    account, _actor = applicant(db)
    spell(db, person=db.get(Person, account.person_id), start=date(2015, 1, 1))
    number = id_number_of(db, account)
    db.commit()
    sign_in_person(client, number)
    assert "/me/flexible/exception" in client.get("/me/flexible?lang=en").text

    token = token_from(client, "/me/flexible/exception")
    fields = {"csrf_token": token, "token": "form-2", "start_month": "2026-12", "base_percent": "100",
              "details": "The company closed in 2025.", **person_commit_fields("flexible_no_employer")}
    form = client.get("/me/flexible/exception?lang=en")
    assert 'name="password"' not in form.text and 'id="commitment-step-up"' in form.text
    asked = client.post("/me/flexible/exception?lang=en", data=fields | {"password": PASSWORD})
    assert asked.status_code == 303  # the password signs nothing: the card's face check is asked for now
    assert asked.headers["location"] == "/auth/essc/login?face=1&next=%2Fme%2Fflexible%2Fexception"
    assert db.exec(select(Case)).all() == []
    face_checked(db, account_id=account.id)  # back from the card's face check, to the form as it was sent
    again = client.get("/me/flexible/exception?lang=en")
    assert "The company closed in 2025." in again.text and 'id="commitment-face"' in again.text
    sent = client.post("/me/flexible/exception", data=fields)
    assert sent.status_code == 303 and sent.headers["location"].startswith("/me/requests/JL")
    db.expire_all()
    evidence = db.exec(select(CommitmentEvidence)).one()  # the notice confirmed with the card's face check, kept
    assert (evidence.item, evidence.confirmed_by, evidence.account_kind) == ("flexible_no_employer", "essc_face",
                                                                              "person")


def test_the_exception_form_says_plainly_when_there_is_nothing_to_lift(client, db, frozen_clock):
    account, _actor = applicant(db)
    number = id_number_of(db, account)
    db.commit()
    sign_in_person(client, number)
    assert "/me/flexible/exception" not in client.get("/me/flexible?lang=en").text
    page = client.get("/me/flexible/exception?lang=en")
    assert page.status_code == 200 and "did not refuse you for a reason the office can lift" in page.text


# --- at the service counter ------------------------------------------------------------------------------------


def test_staff_file_for_a_person_at_the_counter_and_may_then_neither_handle_nor_review_it(db):
    account, _actor = applicant(db)
    person = db.get(Person, account.person_id)
    clerk = staff_actor(factories.staff(db, roles="handler", name="窗口经办"))
    filing = service.at_counter(db, staff=clerk, id_number=person.id_number, today=TODAY)
    case = service.submit_correction(db, filing=filing, what="wrong_base", months="2020-01", token="c1", **OK)

    assert (case.channel, case.counter_staff_id, case.applicant_kind, case.applicant_id) == (
        "counter", clerk.principal.account_id, "person", person.id)
    assert cases.payload_of(case)["commitment"]["signed_on_paper"] is True
    assert take.take_next(db, staff=clerk, now=NOW) is None  # the filer is passed over
    colleague = staff_actor(factories.staff(db, roles="handler", name="另一经办"))
    assert take.take_next(db, staff=colleague, now=NOW).id == case.id


@pytest.mark.parametrize(("number", "expected"), [
    ("22010219900101005", "An identity number has 18 characters."),
    ("220102199001010051", "This identity number is not valid: its last character does not match. Check each digit."),
])
def test_a_bad_or_unknown_identity_number_at_the_counter_is_refused_at_its_field(db, number, expected):
    clerk = staff_actor(factories.staff(db, roles="handler"))
    with pytest.raises(ValidationFailed) as refused:
        service.at_counter(db, staff=clerk, id_number=number, today=TODAY)
    assert refused.value.errors["id_number"].text == expected


def test_a_well_formed_number_of_nobody_on_record_is_refused_plainly(db):
    clerk = staff_actor(factories.staff(db, roles="handler"))
    with pytest.raises(ValidationFailed) as refused:
        service.at_counter(db, staff=clerk, id_number="22010219900101005X", today=TODAY)
    assert "No insured person has this identity number" in refused.value.errors["id_number"].text


def test_the_counter_pages_file_a_request_and_keep_the_typed_values_on_an_error(client, db, frozen_clock):
    from tests.helpers import sign_in_staff

    account, _actor = applicant(db)
    person = db.get(Person, account.person_id)
    spell(db, person=person, start=date(2015, 1, 1))
    clerk = factories.staff(db, roles="handler", name="窗口经办")
    number = person.id_number
    db.commit()
    assert sign_in_staff(client, clerk).status_code == 303
    assert "/staff/counter/correction" in client.get("/staff?lang=en").text

    token = token_from(client, "/staff/counter/exception")
    fields = {"csrf_token": token, "token": "desk-1", "id_number": number, "start_month": "2026-12",
              "base_percent": "100", "details": "Company closed in 2025; the applicant showed the notice."}
    missing = client.post("/staff/counter/exception?lang=en", data=fields)
    assert missing.status_code == 422 and "Confirm the commitment" in missing.text and number in missing.text
    filed = client.post("/staff/counter/exception", data=fields | {"commitment": "yes"})
    assert filed.status_code == 303 and filed.headers["location"].startswith("/staff/cases/JL")
    case = db.exec(select(Case)).one()
    db.commit()  # ends the read, so the app can write (SQLite)
    assert (case.kind, case.channel) == ("flexible_exception", "counter")
    page = client.get(filed.headers["location"] + "?lang=en")
    assert page.status_code == 200 and 'value="approve"' not in page.text  # the filer cannot decide it
