"""Approving against a failed automatic check: a written reason always, and a reviewer on a kind about who someone
is (money kinds take a reviewer anyway). Through the state machine's service and through the case page."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from portal import clock
from portal.models import Case, CaseEvent, Employer
from portal.queue import service, take
from portal.queue.errors import ActionRefused
from portal.queue.states import Refusal, State
from tests import factories
from tests.helpers import sign_in_staff, token_from
from tests.queue.helpers import NOW, operator_actor, people, submit

VERSION = re.compile(r'name="version" value="(\d+)"')
REASON = "营业执照原件已核对：注册地在长春，信用代码为迁址前所发。"


def _misplaced_employer(db, p):
    """An employer registered in Changchun with a Jilin City credit code: the region check fails."""
    employer = factories.employer(db, status="pending", region="220200")
    case = submit(db, operator_actor(factories.operator(db, employer_row=employer)), kind="employer_verification",
                  prefecture="220100")
    assert case.checks_passed is False
    taken = take.take_next(db, staff=p["handler"], now=NOW)
    assert taken.id == case.id
    return employer, taken


def _act(db, case, who, decision, **kwargs):
    return service.act(db, reference=case.reference, action=decision, actor=who, expected_version=case.version,
                       now=NOW, **kwargs)


def test_one_handler_cannot_approve_an_employer_whose_check_failed_even_with_a_reason(db):
    p = people(db)
    employer, case = _misplaced_employer(db, p)
    for note in ("", REASON):
        with pytest.raises(ActionRefused) as refused:
            _act(db, case, p["handler"], "approve", reason_code="conditions_met", note=note)
        assert refused.value.code is Refusal.FAILED_CHECK_NEEDS_REVIEW
    assert db.get(Employer, employer.id).status == "pending"
    assert db.get(Case, case.id).state == State.IN_PROGRESS


def test_recommending_approval_needs_the_reason_in_writing_and_a_reviewer_decides(db):
    p = people(db)
    employer, case = _misplaced_employer(db, p)
    with pytest.raises(ActionRefused) as refused:
        _act(db, case, p["handler"], "submit_for_review", recommendation="approve", reason_code="conditions_met")
    assert (refused.value.code, refused.value.field) == (Refusal.WRITTEN_REASON_REQUIRED, "note")

    sent = _act(db, case, p["handler"], "submit_for_review", recommendation="approve",
                reason_code="conditions_met", note=REASON)
    assert sent.state == State.IN_REVIEW and db.get(Employer, employer.id).status == "pending"
    decided = _act(db, sent, p["reviewer"], "review_approve")
    assert decided.state == State.APPROVED and db.get(Employer, employer.id).status == "verified"
    history = [(e.action, e.note) for e in db.exec(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                                    .order_by(CaseEvent.id))]
    assert ("submit_for_review", REASON) in history


def test_on_other_kinds_one_handler_may_approve_a_failed_check_but_only_with_a_written_reason(db):
    p = people(db)
    submit(db, p["applicant"], kind="credit_objection")
    second = submit(db, p["applicant"], kind="credit_objection")  # fails the duplicate check
    assert second.checks_passed is False
    taken = take.take_next(db, staff=p["handler"], now=NOW)
    taken = taken if taken.id == second.id else take.take_next(db, staff=p["handler2"], now=NOW)
    holder = p["handler"] if taken.handler_id == p["handler"].principal.account_id else p["handler2"]
    with pytest.raises(ActionRefused) as refused:
        _act(db, taken, holder, "approve", reason_code="conditions_met", note="   ")
    assert refused.value.code is Refusal.WRITTEN_REASON_REQUIRED
    approved = _act(db, taken, holder, "approve", reason_code="conditions_met",
                    note="两件异议针对不同年度的评价，并非重复。")
    assert approved.state == State.APPROVED
    last = db.exec(select(CaseEvent).where(CaseEvent.case_id == taken.id).order_by(CaseEvent.id.desc())).first()
    assert (last.action, last.note) == ("approve", "两件异议针对不同年度的评价，并非重复。")


def test_a_case_whose_checks_passed_is_approved_without_a_written_reason(db):
    p = people(db)
    case = submit(db, p["applicant"], kind="credit_objection")
    taken = take.take_next(db, staff=p["handler"], now=NOW)
    assert taken.id == case.id and case.checks_passed is True
    assert _act(db, taken, p["handler"], "approve", reason_code="conditions_met").state == State.APPROVED


def test_the_case_page_asks_for_the_reason_offers_only_a_recommendation_and_shows_the_reason_in_the_history(
        client, db, frozen_clock):
    handler = factories.staff(db, roles="handler")
    employer = factories.employer(db, status="pending", region="220200")
    case = service.submit(db, kind="employer_verification",
                          applicant=operator_actor(factories.operator(db, employer_row=employer)),
                          payload={}, prefecture="220100", idempotency_key="web-failed", now=clock.now())
    db.commit()
    sign_in_staff(client, handler)
    client.post("/staff/queue/take", data={"csrf_token": token_from(client, "/staff/queue")})
    page = client.get(f"/staff/cases/{case.reference}?lang=en")
    assert 'id="field-note-failed"' in page.text and 'id="identity-review"' in page.text
    assert "Handler and a different reviewer" in page.text
    assert 'value="recommend_approve"' in page.text and 'value="approve"' not in page.text
    form = {"csrf_token": token_from(client, f"/staff/cases/{case.reference}"),
            "version": VERSION.search(page.text).group(1), "decision": "recommend_approve",
            "reason_code": "conditions_met"}

    missing = client.post(f"/staff/cases/{case.reference}/action?lang=en", data=form)
    assert missing.status_code == 422 and 'href="#field-note"' in missing.text
    assert "write in the note why the failed check does not stand in the way" in missing.text
    assert 'value="conditions_met" selected' in missing.text  # what was chosen is kept

    sent = client.post(f"/staff/cases/{case.reference}/action", data={**form, "note": REASON})
    assert sent.status_code == 303
    assert db.exec(select(Case.state).where(Case.id == case.id)).one() == State.IN_REVIEW
    db.commit()
    assert REASON in client.get(f"/staff/cases/{case.reference}").text
