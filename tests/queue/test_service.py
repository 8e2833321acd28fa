"""The queue's service layer on a real database: submit, checks, take, decide, review, clock, refusals."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import func, select

from portal import audit
from portal.auth.principal import SYSTEM, Actor
from portal.errors import NotFound, ValidationFailed
from portal.models import AuditEvent, Case, CaseEvent, Employer, Notice
from portal.queue import calendar, cases, parties, service, take
from portal.queue.errors import ActionRefused, StaleCase
from portal.queue.routing import service_days_for
from portal.queue.states import Refusal, State
from portal.services import accounts
from tests import factories
from tests.queue.helpers import NOW, operator_actor, people, person_actor, staff_actor, submit


def _events(db, case):
    return [e.action for e in db.exec(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))]


def _notices(db, case):
    return [n.title for n in db.exec(select(Notice).where(Notice.case_id == case.id).order_by(Notice.id))]


def test_a_dual_case_goes_from_submission_to_approval_with_history_notices_and_audit(db):
    p = people(db)
    case = submit(db, p["applicant"], kind="back_payment", payload={"months": ["2024-01", "2024-02"]})
    assert case.reference.startswith("JL20261130") and len(case.reference) == 16
    assert case.state == State.CHECKED and case.checks_passed is True
    assert case.route == "dual" and case.risk_tier == "B"
    assert case.due_on == calendar.due_date(date(2026, 11, 30), service_days_for("back_payment"))

    taken = take.take_next(db, staff=p["handler"], now=NOW)
    assert taken.id == case.id and taken.state == State.IN_PROGRESS and taken.handler_id == p["handler"].principal.account_id
    assert taken.opened_at == NOW

    with pytest.raises(ActionRefused) as refused:
        service.act(db, reference=case.reference, action="approve", actor=p["handler"],
                    expected_version=taken.version, now=NOW)
    assert refused.value.code is Refusal.NEEDS_REVIEW

    case = service.act(db, reference=case.reference, action="submit_for_review", actor=p["handler"],
                       expected_version=taken.version, recommendation="approve", reason_code="conditions_met",
                       note="records match", now=NOW)
    assert case.state == State.IN_REVIEW

    # The reviewer's "take next" hands them the review; the other handler has nothing to take.
    assert take.take_next(db, staff=p["handler2"], now=NOW) is None
    review = take.take_next(db, staff=p["reviewer"], now=NOW)
    assert review.id == case.id and review.reviewer_id == p["reviewer"].principal.account_id

    case = service.act(db, reference=case.reference, action="review_approve", actor=p["reviewer"],
                       expected_version=review.version, now=NOW + timedelta(hours=1))
    assert case.state == State.APPROVED and case.decided_at == NOW + timedelta(hours=1)

    assert _events(db, case) == ["submit", "auto_check", "take", "submit_for_review", "take_review",
                                 "review_approve"]
    titles = _notices(db, case)
    assert titles[0].startswith("We received your request")
    assert titles[-1] == "Your request %(reference)s was approved."
    assert len(titles) == 4  # received, being handled, in review, approved
    actions = db.exec(select(AuditEvent.action).where(AuditEvent.object_id == case.reference)).all()
    assert "case.review_approve" in actions and "case.take" in actions
    assert audit.verify(session=db).intact


def test_a_single_route_case_is_decided_by_one_handler(db):
    p = people(db)
    case = submit(db, p["applicant"], kind="credit_objection", tier="A")
    assert case.route == "single"
    taken = take.take_next(db, staff=p["handler"], now=NOW)
    case = service.act(db, reference=case.reference, action="reject", actor=p["handler"],
                       expected_version=taken.version, reason_code="not_eligible", now=NOW)
    assert case.state == State.REJECTED


def test_returning_pauses_the_clock_and_the_due_date_moves(db):
    p = people(db)
    case = submit(db, p["applicant"], kind="deferral")
    original_due = case.due_on
    taken = take.take_next(db, staff=p["handler"], now=NOW)

    with pytest.raises(ActionRefused) as refused:
        service.act(db, reference=case.reference, action="return_to_applicant", actor=p["handler"],
                    expected_version=taken.version, now=NOW)
    assert refused.value.code is Refusal.REASON_REQUIRED and refused.value.field == "reason_code"

    returned = service.act(db, reference=case.reference, action="return_to_applicant", actor=p["handler"],
                           expected_version=taken.version, reason_code="missing_document",
                           note="Attach the hardship certificate.", now=NOW)
    assert returned.state == State.WAITING_FOR_APPLICANT
    assert returned.paused_since == date(2026, 11, 30)
    assert returned.due_on == original_due

    three_days_later = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # Thursday
    with pytest.raises(ValidationFailed):
        service.resubmit(db, reference=case.reference, actor=p["applicant"], expected_version=returned.version,
                         note="  ", now=three_days_later)
    back = service.resubmit(db, reference=case.reference, actor=p["applicant"], expected_version=returned.version,
                            note="Certificate attached.", payload={"certificate": "yes"}, now=three_days_later)
    assert back.state == State.IN_PROGRESS and back.handler_id == p["handler"].principal.account_id
    assert back.paused_since is None
    assert json.loads(back.pauses) == [["2026-11-30", "2026-12-03"]]
    # Tuesday, Wednesday and Thursday were paused: the deadline moves by three working days.
    assert calendar.working_days_between(original_due, back.due_on) == 3
    assert cases.payload_of(back)["certificate"] == "yes"
    assert _events(db, back)[-2:] == ["return_to_applicant", "resubmit"]
    asked = cases.last_return(cases.events_of(db, case=back))
    assert asked.reason_code == "missing_document" and "hardship" in asked.note


def test_a_stale_version_is_refused_and_nothing_changes(db):
    p = people(db)
    case = submit(db, p["applicant"])
    taken = take.take_next(db, staff=p["handler"], now=NOW)
    seen = taken.version
    service.act(db, reference=case.reference, action="approve", actor=p["handler"], expected_version=seen, now=NOW)
    with pytest.raises(StaleCase) as stale:
        service.act(db, reference=case.reference, action="reject", actor=p["handler"], expected_version=seen,
                    reason_code="not_eligible", now=NOW)
    assert stale.value.status_code == 409
    assert stale.value.case.state == State.APPROVED
    assert "someone else has just changed this case" in stale.value.message.text.lower()


def test_submission_is_idempotent_per_applicant_and_key(db):
    p = people(db)
    first = submit(db, p["applicant"], key="form-123")
    again = submit(db, p["applicant"], key="form-123")
    assert again.id == first.id
    other = submit(db, factories_person(db), key="form-123")  # another applicant's identical key is theirs
    assert other.id != first.id
    assert other.reference == first.reference[:-6] + "000002"
    assert db.exec(select(func.count()).select_from(Case)).one() == 2


def factories_person(db):
    return person_actor(factories.person_account(db, mobile="13900000009"))


def test_maker_is_never_checker_in_the_service(db):
    p = people(db)
    both = staff_actor(factories.staff(db, name="两岗", roles="handler reviewer"))
    case = submit(db, p["applicant"], kind="back_payment")
    taken = take.take_next(db, staff=both, now=NOW)
    assert taken.state == State.IN_PROGRESS  # no review waiting, so they handle
    case = service.act(db, reference=case.reference, action="submit_for_review", actor=both,
                       expected_version=taken.version, recommendation="approve", now=NOW)
    # Their own take-next never hands them their own case to review ...
    assert take.take_next(db, staff=both, now=NOW) is None
    # ... and deciding it directly is refused by the service, whatever the page shows.
    with pytest.raises(ActionRefused) as refused:
        service.act(db, reference=case.reference, action="review_approve", actor=both,
                    expected_version=case.version, now=NOW)
    assert refused.value.code is Refusal.REVIEWER_IS_HANDLER
    assert parties.actions_for(case, both) == []


def test_money_kinds_take_two_people_even_if_the_stored_route_says_otherwise(db):
    p = people(db)
    case = submit(db, p["applicant"], kind="back_payment")
    case.route = "single"  # tampered with, or an old row
    db.add(case)
    db.flush()
    taken = take.take_next(db, staff=p["handler"], now=NOW)
    with pytest.raises(ActionRefused) as refused:
        service.act(db, reference=case.reference, action="approve", actor=p["handler"],
                    expected_version=taken.version, now=NOW)
    assert refused.value.code is Refusal.NEEDS_REVIEW


def test_an_applicant_cannot_see_or_act_on_another_applicants_case(db):
    p = people(db)
    case = submit(db, p["applicant"])
    stranger = factories_person(db)
    with pytest.raises(NotFound):
        service.withdraw(db, reference=case.reference, actor=stranger, expected_version=case.version, now=NOW)
    with pytest.raises(NotFound):
        service.load_case(db, reference=case.reference, actor=stranger)
    case = service.withdraw(db, reference=case.reference, actor=p["applicant"], expected_version=case.version,
                            now=NOW)
    assert case.state == State.WITHDRAWN and case.closed_at == NOW


def test_any_operator_of_the_employer_may_act_and_no_one_else(db):
    boss = factories.operator(db)
    clerk = factories.operator(db, employer_row=db.get(Employer, boss.employer_id), username="clerk", is_admin=False)
    outsider = factories.operator(db, username="other")
    case = submit(db, operator_actor(boss), kind="deferral")
    assert case.applicant_kind == "employer" and case.applicant_account_id == boss.id
    with pytest.raises(NotFound):
        service.withdraw(db, reference=case.reference, actor=operator_actor(outsider), expected_version=None,
                         now=NOW)
    case = service.withdraw(db, reference=case.reference, actor=operator_actor(clerk),
                            expected_version=case.version, now=NOW)
    assert case.state == State.WITHDRAWN


def test_staff_cannot_use_applicant_actions_nor_applicants_staff_actions(db):
    p = people(db)
    case = submit(db, p["applicant"])
    with pytest.raises(ActionRefused) as refused:
        service.act(db, reference=case.reference, action="take", actor=p["applicant"],
                    expected_version=case.version, now=NOW)
    assert refused.value.code is Refusal.ROLE_REQUIRED and refused.value.status_code == 403
    with pytest.raises(ActionRefused):
        take.take_next(db, staff=p["applicant"], now=NOW)


def test_registering_an_employer_opens_a_verification_case_and_approval_verifies_it(db):
    p = people(db)
    operator = accounts.register_employer(
        db, actor=SYSTEM, credit_code=factories.make_credit_code("220100", "MA1234567"),
        employer_name="长春新公司", region="220100", username="boss", operator_name="赵丽", mobile="13900000003",
        password="Another-Long-Pass-77", password_confirm="Another-Long-Pass-77", now=NOW)
    case = db.exec(select(Case).where(Case.kind == "employer_verification")).one()
    assert case.applicant_id == operator.employer_id and case.checks_passed is True
    assert {r["code"] for r in cases.check_results_of(case)} == {"no_duplicate", "credit_code_region",
                                                                    "employer_pending"}
    taken = take.take_next(db, staff=p["handler"], now=NOW)
    service.act(db, reference=taken.reference, action="approve", actor=p["handler"], expected_version=taken.version,
                reason_code="conditions_met", now=NOW)
    employer = db.get(Employer, operator.employer_id)
    assert employer.status == "verified" and employer.decided_by == p["handler"].principal.account_id


def test_a_rejected_verification_rejects_the_employer_with_the_note(db):
    p = people(db)
    employer = factories.employer(db, status="pending", region="220100")
    boss = factories.operator(db, employer_row=employer)
    case = submit(db, operator_actor(boss), kind="employer_verification")
    taken = take.take_next(db, staff=p["handler"], now=NOW)
    service.act(db, reference=case.reference, action="reject", actor=p["handler"], expected_version=taken.version,
                reason_code="not_eligible", note="营业执照已注销", now=NOW)
    assert db.get(Employer, employer.id).status == "rejected"
    assert db.get(Employer, employer.id).decision_note == "营业执照已注销"


def test_the_credit_code_must_belong_to_the_prefecture_chosen(db):
    employer = factories.employer(db, status="pending", region="220200")  # a Jilin City code
    boss = factories.operator(db, employer_row=employer)
    case = submit(db, operator_actor(boss), kind="employer_verification", prefecture="220100")
    assert case.state == State.CHECKED and case.checks_passed is False
    failed = [r for r in cases.check_results_of(case) if not r["passed"]]
    assert [r["code"] for r in failed] == ["credit_code_region"]


def test_a_second_open_request_of_the_same_kind_fails_the_duplicate_check(db):
    p = people(db)
    submit(db, p["applicant"], kind="deferral")
    second = submit(db, p["applicant"], kind="deferral")
    assert second.checks_passed is False
    assert [r["code"] for r in cases.check_results_of(second) if not r["passed"]] == ["no_duplicate"]


def test_auto_route_approves_at_once_when_the_checks_pass(db):
    employer = factories.employer(db, status="pending", region="220100")
    boss = factories.operator(db, employer_row=employer)
    case = submit(db, operator_actor(boss), kind="employer_verification", tier="A")
    assert case.state == State.APPROVED
    assert db.get(Employer, employer.id).status == "verified"
    assert _events(db, case) == ["submit", "auto_check", "auto_approve"]


def test_queue_auto_checks_what_was_left_in_submitted_and_is_idempotent(db):
    p = people(db)
    left = Case(reference="JL20261130999999", kind="deferral", applicant_kind="person",
                applicant_id=p["applicant"].principal.person_id, prefecture="220100", route="single",
                state="submitted", submitted_at=NOW, due_on=date(2026, 12, 14), idempotency_key="x", updated_at=NOW)
    db.add(left)
    db.flush()
    assert service.run_auto(db, now=NOW) == {"checked": 1, "approved": 0, "closed": 0, "due_recomputed": 0}
    assert service.run_auto(db, now=NOW) == {"checked": 0, "approved": 0, "closed": 0, "due_recomputed": 0}
    db.refresh(left)
    assert left.state == State.CHECKED and left.checks_passed is True


def test_queue_auto_closes_a_case_ten_working_days_after_its_decision_and_keeps_the_outcome(db):
    p = people(db)
    case = submit(db, p["applicant"], kind="enrolment_correction")
    taken = take.take_next(db, staff=p["handler"], now=NOW)
    service.act(db, reference=case.reference, action="reject", actor=p["handler"], expected_version=taken.version,
                reason_code="not_eligible", now=NOW)
    assert (case.state, case.outcome) == (State.REJECTED, "rejected")

    nine_working_days = NOW + timedelta(days=11)  # Monday 30 Nov + 11 days: Friday 11 Dec, the 9th working day
    assert service.run_auto(db, now=nine_working_days)["closed"] == 0
    assert case.state == State.REJECTED
    ten_working_days = NOW + timedelta(days=14)  # Monday 14 Dec
    assert service.run_auto(db, now=ten_working_days)["closed"] == 1
    assert (case.state, case.outcome, case.closed_at) == (State.CLOSED, "rejected", ten_working_days)
    assert service.run_auto(db, now=ten_working_days)["closed"] == 0  # a rerun changes nothing
    events = db.exec(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)).all()
    assert (events[-1].actor_kind, events[-1].action, events[-1].to_state) == ("system", "close", "closed")


def test_take_next_gives_the_most_urgent_case_first(db):
    p = people(db)
    late = submit(db, p["applicant"], kind="deferral", now=NOW)
    urgent = submit(db, factories_person(db), kind="deferral", now=NOW + timedelta(hours=1))
    urgent.due_on = date(2026, 11, 20)  # overdue
    db.add(urgent)
    db.flush()
    assert take.take_next(db, staff=p["handler"], now=NOW).id == urgent.id
    assert take.take_next(db, staff=p["handler2"], now=NOW).id == late.id
    assert take.take_next(db, staff=p["handler"], now=NOW) is None


def test_take_next_respects_the_prefecture_and_the_counter_clerk(db):
    p = people(db)
    siping = staff_actor(factories.staff(db, roles="handler"))
    siping = Actor(replace(siping.principal, region="220300"))
    submit(db, p["applicant"], prefecture="220100")
    assert take.take_next(db, staff=siping, now=NOW) is None

    clerk = p["handler2"]
    counter = service.submit(db, kind="deferral", applicant=factories_person(db), payload={}, prefecture="220100",
                             channel="counter", idempotency_key="counter-1", now=NOW, actor=clerk,
                             counter_staff_id=clerk.principal.account_id)
    first = take.take_next(db, staff=clerk, now=NOW)
    assert first is not None and first.id != counter.id
    assert take.take_next(db, staff=clerk, now=NOW) is None
    with pytest.raises(ActionRefused) as refused:
        service.act(db, reference=counter.reference, action="take", actor=clerk, expected_version=counter.version,
                    now=NOW)
    assert refused.value.code is Refusal.ACTOR_IS_APPLICANT


def test_a_supervisor_reassigns_and_release_requeues(db):
    p = people(db)
    case = submit(db, p["applicant"])
    taken = take.take_next(db, staff=p["handler"], now=NOW)
    with pytest.raises(ActionRefused) as refused:
        service.act(db, reference=case.reference, action="reassign", actor=p["handler"],
                    expected_version=taken.version, assignee=p["handler2"].principal.account_id, now=NOW)
    assert refused.value.code is Refusal.ROLE_REQUIRED
    with pytest.raises(ActionRefused) as refused:
        service.act(db, reference=case.reference, action="reassign", actor=p["supervisor"],
                    expected_version=taken.version, assignee=p["reviewer"].principal.account_id, now=NOW)
    assert refused.value.code is Refusal.ASSIGNEE_NOT_ELIGIBLE
    moved = service.act(db, reference=case.reference, action="reassign", actor=p["supervisor"],
                        expected_version=taken.version, assignee=p["handler2"].principal.account_id, now=NOW)
    assert moved.handler_id == p["handler2"].principal.account_id and moved.state == State.IN_PROGRESS
    released = service.act(db, reference=case.reference, action="release", actor=p["handler2"],
                           expected_version=moved.version, now=NOW)
    assert released.state == State.CHECKED and released.handler_id is None and released.opened_at is not None


def test_a_reviewer_sends_back_and_the_case_returns_to_its_handler(db):
    p = people(db)
    case = submit(db, p["applicant"], kind="back_payment")
    taken = take.take_next(db, staff=p["handler"], now=NOW)
    case = service.act(db, reference=case.reference, action="submit_for_review", actor=p["handler"],
                       expected_version=taken.version, recommendation="reject", reason_code="record_conflict",
                       now=NOW)
    review = take.take_next(db, staff=p["reviewer"], now=NOW)
    case = service.act(db, reference=case.reference, action="review_reject", actor=p["reviewer"],
                       expected_version=review.version, reason_code="calculation_error", now=NOW)
    assert case.state == State.IN_PROGRESS and case.reviewer_id is None and case.recommendation is None
    assert case.handler_id == p["handler"].principal.account_id


def test_due_dates_beyond_the_announced_years_are_counted_and_provisional(db):
    due = cases.deadline(date(2026, 12, 20), "transfer")
    assert due.on > date(2026, 12, 31) and calendar.is_working_day(due.on) and due.provisional_year == 2027


def test_the_queue_auto_command_runs_the_automatic_work(db, database_url, monkeypatch, capsys):
    from portal import cli

    p = people(db)
    db.add(Case(reference="JL20261130999998", kind="deferral", applicant_kind="person",
                applicant_id=p["applicant"].principal.person_id, prefecture="220100", route="single",
                state="submitted", submitted_at=NOW, due_on=date(2026, 12, 14), idempotency_key="cli",
                updated_at=NOW))
    db.commit()
    monkeypatch.setenv("PORTAL_DATABASE_URL", database_url)
    assert cli.main(["queue", "auto"]) == 0
    assert "checked 1 case(s)" in capsys.readouterr().out
    assert cli.main(["queue", "auto"]) == 0
    assert "checked 0 case(s)" in capsys.readouterr().out
