"""The examples that were seen: deferrals for one month from two tabs, a check gone stale before the decision, and a
second payment order for one bill after going back and submitting again."""

from __future__ import annotations

import json
import re
import threading
from datetime import date

import pytest
from sqlmodel import func, select

from portal.db import make_sessionmaker
from portal.errors import ValidationFailed
from portal.models import Bill, Case, Employer, Payment, PaymentOrder
from portal.policy.money import from_fen
from portal.queue import cases, take
from portal.queue import service as queue
from portal.queue.errors import ChecksChanged
from portal.queue.states import State
from portal.services import applications, billing, person_requests
from portal.services.payments import callback_body, sign
from tests import factories
from tests.conftest import csrf_token
from tests.helpers import sign_in_operator, sign_in_staff
from tests.queue.helpers import person_actor, staff_actor
from tests.records.support import NOW, TODAY, employer_actor, spell
from tests.trust_support import COMMIT, COMMIT_FIELDS, face, offer

OCTOBER, NOVEMBER = date(2026, 10, 1), date(2026, 11, 1)
SECRET = "test-payment-secret"  # the settings fixture's


def employer_in_arrears(db):
    """An employer with one employee, billed for October and November; committed."""
    operator = factories.operator(db)
    employer = db.get(Employer, operator.employer_id)
    spell(db, employer=employer, start=date(2026, 1, 1), wage_fen=600000)
    for month in (OCTOBER, NOVEMBER):
        billing.run_billing(db, month=month, now=NOW)
    billing.mark_arrears(db, today=TODAY)
    db.commit()
    return operator, employer


def defer(db, actor, months, token):
    return applications.submit_deferral(db, actor=actor, months=months, reason="疫情停产", **COMMIT, token=token,
                                        now=NOW, today=TODAY)


def committed(db, query):
    found = db.exec(query).all()
    db.commit()
    return found


# --- deferrals from two tabs -------------------------------------------------------------------------------------


def test_a_second_deferral_for_a_month_already_asked_for_is_refused_with_the_open_requests_reference(db):
    operator, _ = employer_in_arrears(db)
    actor = employer_actor(operator)
    first = defer(db, actor, ["2026-10"], "tab-1")
    with pytest.raises(ValidationFailed) as refused:
        defer(db, actor, ["2026-10", "2026-11"], "tab-2")  # another tab: another form, another key
    message = refused.value.errors["months"]
    assert message.params == {"reference": first.reference}
    assert "still open" in message.text
    assert defer(db, actor, ["2026-11"], "tab-3").reference != first.reference  # another month is another matter
    assert len(db.exec(select(Case)).all()) == 2


def test_once_the_open_request_is_decided_the_month_may_be_asked_for_again(db):
    operator, _ = employer_in_arrears(db)
    actor = employer_actor(operator)
    first = defer(db, actor, ["2026-10"], "tab-1")
    queue.withdraw(db, reference=first.reference, actor=actor, expected_version=None, now=NOW)
    assert defer(db, actor, ["2026-10"], "tab-2").state == State.CHECKED


def test_two_tabs_submitting_the_deferral_form_see_one_request_and_one_refusal_naming_it(client, db, frozen_clock):
    operator, employer = employer_in_arrears(db)
    assert sign_in_operator(client, operator, employer.credit_code).status_code == 303
    tabs = [client.get("/employer/applications/deferral?lang=en").text for _ in range(2)]
    answers = []
    for page in tabs:
        data = {"csrf_token": csrf_token(page), "months": "2026-10", "reason": "停产", **COMMIT_FIELDS,
                "token": re.search(r'name="token" value="([^"]+)"', page).group(1),
                "idempotency_key": re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)}
        answers.append(client.post("/employer/applications/deferral?lang=en", data=data))
    cases = committed(db, select(Case))
    assert len(cases) == 1
    assert answers[0].status_code == 303 and answers[0].headers["location"] == f"/employer/requests/{cases[0].reference}"
    assert answers[1].status_code == 422
    assert f"Request {cases[0].reference} for the same months is still open" in answers[1].text


def test_deferrals_for_the_same_month_submitted_at_the_same_moment_make_one_request(db, engine):
    """Two operators of one employer (or two tabs) at once, each in its own transaction: one request, one refusal."""
    operator, _ = employer_in_arrears(db)
    clerk = factories.operator(db, employer_row=db.get(Employer, operator.employer_id), username="clerk",
                               is_admin=False)
    db.commit()
    actors = [employer_actor(operator), employer_actor(clerk)]
    factory = make_sessionmaker(engine)
    start = threading.Barrier(2)
    outcomes: list = [None, None]

    def submit(index: int) -> None:
        with factory() as session:
            start.wait()
            try:
                outcomes[index] = defer(session, actors[index], ["2026-10"], f"operator-{index}").reference
                session.commit()
            except ValidationFailed as refused:
                session.rollback()
                outcomes[index] = refused.errors["months"].params["reference"]

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cases = committed(db, select(Case))
    assert len(cases) == 1
    assert outcomes == [cases[0].reference] * 2


def test_the_same_months_are_refused_for_a_persons_correction_too_whoever_files_it(db):
    account = factories.person_account(db)
    staff = staff_actor(factories.staff(db, roles="handler"))
    db.commit()
    online = person_requests.online(db, actor=face(person_actor(account)))
    first = person_requests.submit_correction(db, filing=online, what="missing", months="2019-03 to 2019-05",
                                              details="缺月", offer=offer("employment_history"), token="p-1",
                                              now=NOW, today=TODAY)
    number = db.exec(select(func.min(Case.id))).one() and online.person.id_number
    counter = person_requests.at_counter(db, staff=staff, id_number=number, today=TODAY)
    with pytest.raises(ValidationFailed) as refused:
        person_requests.submit_correction(db, filing=counter, what="wrong_base", months="2019-05", details="基数",
                                          commitment=True, token="c-1", now=NOW, today=TODAY)
    assert refused.value.errors["months"].params == {"reference": first.reference}


# --- automatic checks run again when staff open or decide ------------------------------------------------------


def test_a_check_that_went_stale_never_approves_and_the_staff_page_shows_it_fresh(app, client, db, frozen_clock):
    operator, _ = employer_in_arrears(db)
    actor = employer_actor(operator)
    october = defer(db, actor, ["2026-10"], "tab-1")
    handler = factories.staff(db, name="刘经办", roles="handler")
    db.commit()
    staff = staff_actor(handler)
    taken = take.take_next(db, staff=staff, now=NOW)
    assert taken.reference == october.reference and taken.checks_passed  # nothing else open when it was opened
    seen = taken.version
    db.commit()
    november = defer(db, actor, ["2026-11"], "tab-2")  # arrives after: "no other open request" fails now
    assert not november.checks_passed
    db.commit()
    with pytest.raises(ChecksChanged):
        queue.act(db, reference=october.reference, action="submit_for_review", actor=staff, expected_version=seen,
                  recommendation="approve", reason_code="conditions_met", now=NOW)
    references = october.reference, november.reference, october.id
    db.rollback()  # as the request boundary does: the refusal changes nothing...
    db.refresh(handler)
    db.commit()
    october_reference, november_reference, october_id = references

    assert sign_in_staff(client, handler).status_code == 303
    page = client.get(f"/staff/cases/{october_reference}?lang=en")  # ...and opening the case runs them again
    assert page.status_code == 200
    assert f"Another open request of the same kind exists: {november_reference}" in page.text
    stored = committed(db, select(Case).where(Case.id == october_id))[0]
    assert stored.checks_passed is False and stored.version == seen + 1
    assert {"code": "no_duplicate", "passed": False}.items() <= json.loads(stored.check_results)[0].items()


def test_taking_a_case_runs_its_checks_again(db):
    operator, _ = employer_in_arrears(db)
    actor = employer_actor(operator)
    october = defer(db, actor, ["2026-10"], "tab-1")
    november = defer(db, actor, ["2026-11"], "tab-2")
    assert october.checks_passed and not november.checks_passed  # October's was computed before November came
    taken = take.take_next(db, staff=staff_actor(factories.staff(db, roles="handler")), now=NOW)
    assert taken.reference == october.reference and taken.checks_passed is False
    assert [event.action for event in cases.events_of(db, case=taken)][-1] == "auto_check"


def test_a_decision_on_checks_that_still_hold_goes_through(db):
    operator, _ = employer_in_arrears(db)
    october = defer(db, employer_actor(operator), ["2026-10"], "tab-1")
    staff = staff_actor(factories.staff(db, name="刘经办", roles="handler"))
    seen = take.take_next(db, staff=staff, now=NOW).version
    case = queue.act(db, reference=october.reference, action="submit_for_review", actor=staff,
                     expected_version=seen, recommendation="approve", reason_code="conditions_met", now=NOW)
    assert case.state == State.IN_REVIEW and case.version == seen + 1


# --- payment orders: back and submit again ------------------------------------------------------------------------


def pay_form(client) -> dict:
    page = client.get("/employer/bills?lang=en").text
    return {"csrf_token": csrf_token(page), "bill": re.findall(r'name="bill" value="(\d+)"', page),
            "pay_on": TODAY.isoformat(),
            "idempotency_key": re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)}


def test_back_and_submit_again_shows_the_same_payment_order_and_makes_no_second(client, db, frozen_clock):
    operator, employer = employer_in_arrears(db)
    sign_in_operator(client, operator, employer.credit_code)
    form = pay_form(client)
    first = client.post("/employer/bills/pay", data=form)
    again = client.post("/employer/bills/pay", data=form)  # the browser's back button, then submit
    assert first.status_code == again.status_code == 303
    assert again.headers["location"] == first.headers["location"]
    orders = committed(db, select(PaymentOrder))
    assert len(orders) == 1 and first.headers["location"] == f"/employer/bills/orders/{orders[0].reference}"


def test_a_new_order_for_the_same_bills_voids_the_older_which_leaves_the_bills_page(client, db, frozen_clock):
    operator, employer = employer_in_arrears(db)
    sign_in_operator(client, operator, employer.credit_code)
    older = client.post("/employer/bills/pay", data=pay_form(client)).headers["location"].rsplit("/", 1)[1]
    newer = client.post("/employer/bills/pay", data=pay_form(client)).headers["location"].rsplit("/", 1)[1]
    assert newer != older
    statuses = dict(committed(db, select(PaymentOrder.reference, PaymentOrder.status)))
    assert statuses == {older: "voided", newer: "pending"}
    page = client.get("/employer/bills?lang=en").text
    assert newer in page and older not in page
    voided = client.get(f"/employer/bills/orders/{older}?lang=en").text
    assert "Replaced by a newer order" in voided and "Do not pay this order" in voided
    assert "How to pay" not in voided


def callback(client, order: PaymentOrder, external_id: str):
    body = callback_body(reference=order.reference, amount=from_fen(order.amount_fen), external_id=external_id,
                         paid_at="2026-11-28T10:00:00+08:00")
    return client.post("/payments/callback", content=body,
                       headers={"Content-Type": "application/json", "X-Signature": sign(SECRET, body)})


def two_orders(db):
    """An older order voided by a newer one for the same bills; committed."""
    operator, _ = employer_in_arrears(db)
    actor = employer_actor(operator)
    bill_ids = [bill.id for bill in billing.bills_for(db, actor=actor)]
    older = billing.create_payment_order(db, actor=actor, bill_ids=bill_ids, pay_on=TODAY, now=NOW)
    newer = billing.create_payment_order(db, actor=actor, bill_ids=bill_ids, pay_on=TODAY, now=NOW)
    db.commit()
    assert (older.status, newer.status) == ("voided", "pending")
    return older, newer


def test_the_collector_paying_a_voided_order_is_credited_once_and_the_newer_order_is_voided(client, db, frozen_clock):
    older, newer = two_orders(db)
    assert callback(client, older, "TAX-OLD").json() == {"status": "paid"}  # the payer kept the old reference
    refused = callback(client, newer, "TAX-NEW")
    assert refused.status_code == 409  # never credited twice
    assert dict(committed(db, select(PaymentOrder.reference, PaymentOrder.status))) == {
        older.reference: "paid", newer.reference: "voided"}
    assert {bill.status for bill in committed(db, select(Bill))} == {"paid"}
    assert [p.external_id for p in committed(db, select(Payment))] == ["TAX-OLD"]


def test_paying_the_newer_order_leaves_the_voided_one_refused(client, db, frozen_clock):
    older, newer = two_orders(db)
    assert callback(client, newer, "TAX-NEW").json() == {"status": "paid"}
    assert callback(client, older, "TAX-OLD").status_code == 409
    assert [p.external_id for p in committed(db, select(Payment))] == ["TAX-NEW"]


def test_the_old_and_the_new_order_confirmed_at_the_same_moment_are_credited_once(db, engine):
    older, newer = two_orders(db)
    factory = make_sessionmaker(engine)
    start = threading.Barrier(2)
    results: list = [None, None]

    def confirm(index: int, order: PaymentOrder) -> None:
        with factory() as session:
            start.wait()
            try:
                billing.apply_payment(session, reference=order.reference, amount=from_fen(order.amount_fen),
                                      external_id=f"TAX-{index}", paid_at=NOW)
                session.commit()
                results[index] = "paid"
            except Exception as refused:  # noqa: BLE001 - the loser's refusal is what is checked
                session.rollback()
                results[index] = type(refused).__name__

    threads = [threading.Thread(target=confirm, args=(i, o)) for i, o in enumerate((older, newer))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["Conflict", "paid"]
    assert len(committed(db, select(Payment))) == 1


def test_two_orders_for_one_bill_made_at_the_same_moment_leave_one_to_pay(db, engine):
    operator, _ = employer_in_arrears(db)
    actor = employer_actor(operator)
    bill_ids = [bill.id for bill in billing.bills_for(db, actor=actor)]
    db.commit()
    factory = make_sessionmaker(engine)
    start = threading.Barrier(2)

    def order() -> None:
        with factory() as session:
            start.wait()
            billing.create_payment_order(session, actor=actor, bill_ids=bill_ids, pay_on=TODAY, now=NOW)
            session.commit()

    threads = [threading.Thread(target=order) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(committed(db, select(PaymentOrder.status))) == ["pending", "voided"]
