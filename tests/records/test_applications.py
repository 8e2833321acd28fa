"""Deferral (缓缴) and back payment (补缴): submitted into the handling queue, and what the decisions do."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from portal.errors import ValidationFailed
from portal.models import Bill, Case, ContributionMonth, Employer
from portal.policy.money import from_fen, to_fen
from portal.policy.rules.contribution import employee_contribution
from portal.policy.rules.late_fee import late_fee
from portal.queue import cases, take
from portal.queue.states import State
from portal.services import applications, billing
from tests import factories
from tests.helpers import error_links, sign_in_operator, snapshot, token_from
from tests.queue.helpers import staff_actor
from tests.records.support import NOW, employer_actor, spell
from tests.trust_support import COMMIT, COMMIT_FIELDS

OCTOBER, NOVEMBER = date(2026, 10, 1), date(2026, 11, 1)
TODAY = date(2026, 11, 28)


def employer_in_arrears(db):
    operator = factories.operator(db)
    employer = db.get(Employer, operator.employer_id)
    person = factories.person(db)
    row = spell(db, person=person, employer=employer, start=date(2026, 1, 1), wage_fen=600000)
    for month in (OCTOBER, NOVEMBER):
        billing.run_billing(db, month=month, now=NOW)
    billing.mark_arrears(db, today=TODAY)
    return employer_actor(operator), employer, row


def decide(db, case, *, approve=True):
    """A handler recommends, a different reviewer agrees (the deferral and back-payment route)."""
    handler = staff_actor(factories.staff(db, name="刘经办", roles="handler"))
    reviewer = staff_actor(factories.staff(db, name="陈复核", roles="reviewer"))
    from portal.queue import service

    taken = take.take_next(db, staff=handler, now=NOW)
    assert taken.reference == case.reference
    case = service.act(db, reference=case.reference, action="submit_for_review", actor=handler,
                       expected_version=taken.version, recommendation="approve" if approve else "reject",
                       reason_code="conditions_met" if approve else "not_eligible", now=NOW)
    return service.act(db, reference=case.reference, action="review_approve", actor=reviewer,
                       expected_version=case.version, now=NOW)


def statuses(db, month: date) -> set[str]:
    return set(db.exec(select(ContributionMonth.status).where(ContributionMonth.month == month)).all())


# --- deferral -----------------------------------------------------------------------------------------------


def test_unpaid_months_can_be_deferred_and_the_window_would_run_a_year_from_an_approval_today(db):
    # Jilin's standing rule (2017): up to one year, counted from the approval for the months it names.
    actor, _, _ = employer_in_arrears(db)
    months = applications.deferrable_months(db, actor=actor, today=TODAY)
    assert [m.month for m in months] == [OCTOBER, NOVEMBER]
    assert months[0].window == billing.deferral_window(TODAY) == (date(2026, 11, 28), date(2027, 11, 27))
    assert applications.max_deferral_months(TODAY) == 12
    # The 2020 relief (人社部发〔2020〕11号) stays a dated value: six months then.
    assert applications.max_deferral_months(date(2020, 6, 1)) == 6


def test_a_deferral_needs_months_a_reason_and_a_commitment_or_proof_and_creates_nothing_otherwise(db):
    actor, _, _ = employer_in_arrears(db)
    with pytest.raises(ValidationFailed) as refused:
        applications.submit_deferral(db, actor=actor, months=[], reason=" ", mode="", token="t1",
                                     now=NOW, today=TODAY)
    assert set(refused.value.errors) == {"months", "reason", "mode"}
    with pytest.raises(ValidationFailed) as refused:
        applications.submit_deferral(db, actor=actor, months=["2026-10", "2025-01"], reason="疫情停产",
                                     **COMMIT, token="t1", now=NOW, today=TODAY)
    assert set(refused.value.errors) == {"months"}
    assert db.exec(select(Case)).all() == []


def test_a_deferral_is_submitted_once_per_form_and_stores_the_commitment(db):
    actor, _, _ = employer_in_arrears(db)
    first = applications.submit_deferral(db, actor=actor, months=["2026-10"], reason="疫情停产", **COMMIT,
                                         token="form-1", now=NOW, today=TODAY)
    again = applications.submit_deferral(db, actor=actor, months=["2026-10"], reason="疫情停产", **COMMIT,
                                         token="form-1", now=NOW, today=TODAY)
    assert again.id == first.id and len(db.exec(select(Case)).all()) == 1
    payload = json.loads(first.payload)
    assert payload["months"] == ["2026-10"] and payload["commitment"]["accepted"] is True
    assert payload["commitment"]["text"]
    assert first.kind == "deferral" and first.state == State.CHECKED and first.checks_passed


def test_an_approved_deferral_defers_the_months_and_no_late_fee_accrues_in_its_window(db):
    actor, _, _ = employer_in_arrears(db)
    case = applications.submit_deferral(db, actor=actor, months=["2026-10"], reason="疫情停产", **COMMIT,
                                        token="form-2", now=NOW, today=TODAY)
    assert decide(db, case).state == State.APPROVED
    assert statuses(db, OCTOBER) == {"deferred"} and statuses(db, NOVEMBER) == {"arrears"}

    october = db.exec(select(Bill).where(Bill.month == OCTOBER)).one()
    amount = from_fen(october.total_fen)
    approved_on = billing.deferral_approvals(db, bills=[october])[october.id]
    assert approved_on == TODAY  # the case was decided at NOW
    # The days from the due date to the approval are charged; from the approval on, for a year, nothing more.
    before_approval = late_fee(amount, october.due_date, date(2026, 11, 27)).fee
    inside = billing.bill_due(october, pay_on=date(2027, 11, 27), approved_on=approved_on)
    assert inside.late_fee == before_approval > 0
    after = date(2027, 12, 7)
    expected = late_fee(amount, october.due_date, after, deferrals=[(date(2026, 11, 28), date(2027, 11, 27))]).fee
    assert expected == before_approval + late_fee(amount, date(2027, 11, 27), after).fee  # ten days after
    # Made out on the day it is for: an order is valid only until the end of the next month.
    order = billing.create_payment_order(db, actor=actor, bill_ids=[october.id], pay_on=after, now=NOW + (after - TODAY))
    assert from_fen(order.late_fee_fen) == expected
    assert applications.deferrable_months(db, actor=actor, today=TODAY)[0].month == NOVEMBER


def test_a_rejected_deferral_changes_no_month(db):
    actor, _, _ = employer_in_arrears(db)
    case = applications.submit_deferral(db, actor=actor, months=["2026-10"], reason="疫情停产", **COMMIT,
                                        token="form-3", now=NOW, today=TODAY)
    assert decide(db, case, approve=False).state == State.REJECTED
    assert statuses(db, OCTOBER) == {"arrears"}


def test_the_deferral_form_refuses_neither_commitment_nor_proof_and_a_double_click_makes_one_case(client, db, engine,
                                                                                          frozen_clock):
    operator = factories.operator(db)
    employer = db.get(Employer, operator.employer_id)
    spell(db, employer=employer, start=date(2026, 1, 1))
    billing.run_billing(db, month=OCTOBER, now=NOW)
    billing.mark_arrears(db, today=TODAY)
    code = employer.credit_code
    db.commit()
    sign_in_operator(client, operator, code)
    form = client.get("/employer/applications/deferral?lang=en")
    assert form.status_code == 200 and "Notice of the commitment" in form.text
    token = re.search(r'name="token" value="([^"]+)"', form.text).group(1)
    csrf = token_from(client, "/employer/applications/deferral")

    before = snapshot(engine)
    refused = client.post("/employer/applications/deferral?lang=en",
                          data={"csrf_token": csrf, "token": token, "months": ["2026-10"], "reason": "停产"})
    assert refused.status_code == 422 and error_links(refused.text) == ["mode"]
    assert "停产" in refused.text and f'value="{token}"' in refused.text  # kept, so a retry is the same request
    assert snapshot(engine) == before

    data = {"csrf_token": csrf, "token": token, "months": ["2026-10"], "reason": "停产", **COMMIT_FIELDS}
    first, second = (client.post("/employer/applications/deferral", data=data) for _ in range(2))
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    reference = first.headers["location"].rsplit("/", 1)[1]
    assert reference in client.get("/employer/requests").text


# --- back payment -------------------------------------------------------------------------------------------


def employer_with_a_missed_month(db):
    """An employee employed since January whose March was never billed."""
    actor, employer, row = employer_in_arrears(db)
    db.add(ContributionMonth(person_id=row.person_id, month=date(2026, 2, 1), base_fen=600000, source="employer_filing",
                             status="paid", employer_id=employer.id, created_at=NOW))
    db.flush()
    return actor, employer, row


def test_the_back_payment_quote_lists_the_missed_months_with_the_policys_figures(db):
    actor, _, row = employer_with_a_missed_month(db)
    quote = applications.quote_back_payment(db, actor=actor, spell_id=str(row.id), first_month="2026-02",
                                            last_month="2026-03", today=TODAY)
    assert [m.month for m in quote.months] == [date(2026, 3, 1)]
    assert quote.already_recorded == [date(2026, 2, 1)]
    policy = employee_contribution(Decimal("6000.00"), date(2026, 3, 1))
    due = billing.month_terms(date(2026, 3, 1)).due_date
    assert quote.contributions == policy.total
    assert quote.late_fees == late_fee(policy.total, due, TODAY).fee > 0
    assert quote.total == policy.total + quote.late_fees


@pytest.mark.parametrize(("fields", "wrong"), [
    ({"spell_id": "999999"}, "spell_id"),
    ({"first_month": "2026-13"}, "first_month"),
    ({"first_month": "2026-05", "last_month": "2026-04"}, "last_month"),
    ({"last_month": "2026-11"}, "last_month"),  # this month is billed as usual
    ({"first_month": "2025-12"}, "first_month"),  # before the employment
    ({"first_month": "2026-10", "last_month": "2026-10"}, "first_month"),  # already on the record
])
def test_a_back_payment_outside_the_employment_or_with_nothing_missing_is_refused(db, fields, wrong):
    actor, _, row = employer_with_a_missed_month(db)
    values = {"spell_id": str(row.id), "first_month": "2026-03", "last_month": "2026-03"} | fields
    with pytest.raises(ValidationFailed) as refused:
        applications.submit_back_payment(db, actor=actor, token="bp", now=NOW, today=TODAY, **values)
    assert wrong in refused.value.errors
    assert db.exec(select(Case)).all() == []


def test_nobody_can_pay_back_months_of_another_employers_employee(db):
    _, _, row = employer_with_a_missed_month(db)
    stranger = employer_actor(factories.operator(db, username="other"))
    with pytest.raises(ValidationFailed) as refused:
        applications.quote_back_payment(db, actor=stranger, spell_id=str(row.id), first_month="2026-03",
                                        last_month="2026-03", today=TODAY)
    assert "spell_id" in refused.value.errors


def test_an_approved_back_payment_puts_the_months_on_a_bill_and_takes_two_people(db):
    actor, employer, row = employer_with_a_missed_month(db)
    case = applications.submit_back_payment(db, actor=actor, spell_id=str(row.id), first_month="2026-03",
                                            last_month="2026-03", token="bp-1", now=NOW, today=TODAY)
    again = applications.submit_back_payment(db, actor=actor, spell_id=str(row.id), first_month="2026-03",
                                             last_month="2026-03", token="bp-1", now=NOW, today=TODAY)
    assert again.id == case.id and case.kind == "back_payment" and case.route == "dual" and case.checks_passed
    assert decide(db, case).state == State.APPROVED

    added = db.exec(select(ContributionMonth).where(ContributionMonth.month == date(2026, 3, 1))).one()
    policy = employee_contribution(Decimal("6000.00"), date(2026, 3, 1))
    assert (added.source, added.status) == ("back_payment", "billed")
    assert added.employer_part_fen == to_fen(policy.employer) and added.individual_part_fen == to_fen(policy.individual)
    bill = db.get(Bill, added.bill_id)
    assert (bill.payer_id, bill.month, bill.status) == (employer.id, date(2026, 3, 1), "open")
    assert bill.total_fen == to_fen(policy.total) and bill.due_date == billing.month_terms(bill.month).due_date
    assert [line.id for line in billing.months_on_bill(db, bill=bill)] == [added.id]
    fee = billing.bill_due(bill, pay_on=TODAY).late_fee
    assert fee == late_fee(policy.total, bill.due_date, TODAY).fee


def test_a_back_payment_the_record_caught_up_with_is_not_approved_on_the_old_check_and_adds_nothing_twice(db):
    from portal.queue import service
    from portal.queue.errors import ChecksChanged

    actor, employer, row = employer_with_a_missed_month(db)
    case = applications.submit_back_payment(db, actor=actor, spell_id=str(row.id), first_month="2026-03",
                                            last_month="2026-03", token="bp-2", now=NOW, today=TODAY)
    assert case.checks_passed is True
    handler = staff_actor(factories.staff(db, name="刘经办", roles="handler"))
    reviewer = staff_actor(factories.staff(db, name="陈复核", roles="reviewer"))
    taken = take.take_next(db, staff=handler, now=NOW)
    assert taken.checks_passed is True
    db.add(ContributionMonth(person_id=row.person_id, month=date(2026, 3, 1), base_fen=600000,
                             source="employer_filing", status="paid", employer_id=employer.id,
                             created_at=NOW + timedelta(hours=1)))
    db.flush()
    with pytest.raises(ChecksChanged):  # the page said the month was missing; it is not any more
        service.act(db, reference=case.reference, action="submit_for_review", actor=handler,
                    expected_version=taken.version, recommendation="approve", reason_code="conditions_met", now=NOW)
    case = db.get(Case, case.id)
    assert case.checks_passed is False
    assert "back_payment_months" in json.dumps(cases.check_results_of(case))
    # Approved anyway, having read the new results: the month already on the record is not added again.
    case = service.act(db, reference=case.reference, action="submit_for_review", actor=handler,
                       expected_version=case.version, recommendation="approve", reason_code="conditions_met",
                       note="The month was filed meanwhile; approve the rest.", now=NOW)
    case = service.act(db, reference=case.reference, action="review_approve", actor=reviewer,
                       expected_version=case.version, now=NOW)
    assert case.state == State.APPROVED
    assert [r.source for r in db.exec(select(ContributionMonth).where(ContributionMonth.month == date(2026, 3, 1)))] \
        == ["employer_filing"]


def test_the_back_payment_page_shows_the_cost_before_submitting(client, db, frozen_clock):
    operator = factories.operator(db)
    employer = db.get(Employer, operator.employer_id)
    row = spell(db, employer=employer, start=date(2026, 9, 1))
    billing.run_billing(db, month=OCTOBER, now=NOW)
    code = employer.credit_code
    db.commit()
    sign_in_operator(client, operator, code)
    page = client.get(f"/employer/applications/back-payment?lang=en&spell_id={row.id}&first_month=2026-09"
                      "&last_month=2026-09")
    assert page.status_code == 200
    policy = employee_contribution(Decimal("6000.00"), date(2026, 9, 1))
    fee = late_fee(policy.total, billing.month_terms(date(2026, 9, 1)).due_date, TODAY).fee
    from portal import i18n

    assert f'data-figure="contributions">{i18n.format_money(policy.total, "en")}<' in page.text
    assert f'data-figure="late-fee">{i18n.format_money(fee, "en")}<' in page.text
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
    bad = client.get(f"/employer/applications/back-payment?lang=en&spell_id={row.id}&first_month=x&last_month=2026-09")
    assert bad.status_code == 422 and error_links(bad.text) == ["first_month"] and 'value="x"' in bad.text
    submitted = client.post("/employer/applications/back-payment", data={
        "csrf_token": token_from(client, "/employer/applications/back-payment"), "token": token,
        "spell_id": str(row.id), "first_month": "2026-09", "last_month": "2026-09"})
    assert submitted.status_code == 303 and "/employer/requests/JL" in submitted.headers["location"]
