"""The queue's pages through the app: workbench, take next, the case page's decisions, applicants' pages."""

from __future__ import annotations

import re

from sqlmodel import select
from starlette.testclient import TestClient

from portal import clock
from portal.models import Case, Employer, Notice
from portal.queue import service, take
from portal.queue.states import State
from tests import factories
from tests.helpers import (
    id_number_of,
    new_person,
    sign_in_operator,
    sign_in_person,
    sign_in_staff,
    token_from,
)
from tests.queue.helpers import default_payload, operator_actor, person_actor, staff_actor

VERSION = re.compile(r'name="version" value="(\d+)"')


def _person_case(db, kind="enrolment_correction", **kwargs):
    account = factories.person_account(db, **kwargs)
    case = service.submit(db, kind=kind, applicant=person_actor(account), payload=default_payload(kind),
                          prefecture="220100", idempotency_key=f"web-{account.id}", now=clock.now())
    return account, case


def _state(db, case) -> str:
    """The case's state as committed; the read is ended so the app can write again (SQLite locks)."""
    state = db.exec(select(Case.state).where(Case.id == case.id)).one()
    db.commit()  # ends the read without expiring the test's objects (expire_on_commit is off)
    return state


def _other_client(app):
    return TestClient(app, base_url="http://testserver", follow_redirects=False)


def test_the_workbench_counts_filters_and_marks_overdue_cases_in_words(client, db, frozen_clock):
    handler = factories.staff(db, roles="handler")
    _account, case = _person_case(db)
    _other, late = _person_case(db, kind="back_payment", mobile="13900000005")
    late.due_on = clock.today().replace(day=1)
    db.add(late)
    db.commit()
    assert sign_in_staff(client, handler).status_code == 303

    page = client.get("/staff/queue?lang=en")
    assert page.status_code == 200
    assert case.reference in page.text and late.reference in page.text
    assert "Overdue:" in page.text
    assert "1 open case is overdue." in page.text
    assert "Take next case" in page.text

    only_overdue = client.get("/staff/queue?overdue=1&lang=en")
    assert late.reference in only_overdue.text and case.reference not in only_overdue.text
    by_kind = client.get("/staff/queue/list?kind=enrolment_correction&lang=en")
    assert case.reference in by_kind.text and late.reference not in by_kind.text and "<html" not in by_kind.text
    ignored = client.get("/staff/queue?kind=nonsense&state=bogus&page=x")
    assert ignored.status_code == 200


def test_take_next_then_decide_on_the_case_page(client, db, frozen_clock):
    handler = factories.staff(db, roles="handler")
    account, case = _person_case(db)
    db.commit()
    sign_in_staff(client, handler)

    taken = client.post("/staff/queue/take", data={"csrf_token": token_from(client, "/staff/queue")})
    assert taken.status_code == 303 and taken.headers["location"] == f"/staff/cases/{case.reference}"

    page = client.get(f"/staff/cases/{case.reference}?lang=en")
    assert page.status_code == 200
    assert "Return to the applicant for information" in page.text and 'value="approve"' in page.text
    assert "Agree with the handler" not in page.text  # only the allowed actions
    assert "A required document is missing" in page.text  # reason labels in the visitor's language
    assert "No other open request of the same kind." in page.text  # automatic check results
    version = VERSION.search(page.text).group(1)

    missing = client.post(f"/staff/cases/{case.reference}/action?lang=en",
                          data={"csrf_token": token_from(client, f"/staff/cases/{case.reference}"),
                                "version": version, "decision": "reject"})
    assert missing.status_code == 422 and 'href="#field-reason_code"' in missing.text

    decided = client.post(f"/staff/cases/{case.reference}/action",
                          data={"csrf_token": token_from(client, f"/staff/cases/{case.reference}"),
                                "version": version, "decision": "approve", "reason_code": "conditions_met"})
    assert decided.status_code == 303
    assert _state(db, case) == State.APPROVED

    stale = client.post(f"/staff/cases/{case.reference}/action?lang=en",
                        data={"csrf_token": token_from(client, f"/staff/cases/{case.reference}"),
                              "version": version, "decision": "approve"})
    assert stale.status_code == 409
    assert "Someone else has just changed this case" in stale.text and "Approved" in stale.text


def test_a_case_page_in_chinese_shows_chinese_reason_labels(client, db, frozen_clock):
    handler = factories.staff(db, roles="handler")
    _account, case = _person_case(db)
    db.commit()
    sign_in_staff(client, handler)
    client.post("/staff/queue/take", data={"csrf_token": token_from(client, "/staff/queue")})
    page = client.get(f"/staff/cases/{case.reference}?lang=zh_CN")
    assert "缺少申请材料" in page.text


def test_the_review_is_refused_to_the_handler_through_the_page(client, db, frozen_clock):
    both = factories.staff(db, roles="handler reviewer")
    account = factories.person_account(db)
    case = service.submit(db, kind="back_payment", applicant=person_actor(account), payload={}, prefecture="220100",
                          idempotency_key="x", now=clock.now())
    taken = take.take_next(db, staff=staff_actor(both), now=clock.now())
    case = service.act(db, reference=case.reference, action="submit_for_review", actor=staff_actor(both),
                       expected_version=taken.version, recommendation="approve", now=clock.now())
    db.commit()
    sign_in_staff(client, both)
    page = client.get(f"/staff/cases/{case.reference}")
    assert 'value="review_approve"' not in page.text
    forced = client.post(f"/staff/cases/{case.reference}/action?lang=en",
                         data={"csrf_token": token_from(client, "/staff/queue"), "version": str(case.version),
                               "decision": "review_approve"})
    assert forced.status_code == 409
    assert "someone other than the handler" in forced.text
    assert _state(db, case) == State.IN_REVIEW


def test_workload_is_for_supervisors(client, app, db, frozen_clock):
    handler = factories.staff(db, roles="handler", name="刘经办")
    supervisor = factories.staff(db, roles="supervisor", name="周主管", secret="KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU")
    _account, case = _person_case(db)
    take.take_next(db, staff=staff_actor(handler), now=clock.now())
    db.commit()
    sign_in_staff(client, handler)
    assert client.get("/staff/workload").status_code == 403
    with _other_client(app) as boss:
        sign_in_staff(boss, supervisor)
        page = boss.get("/staff/workload?lang=en")
        assert page.status_code == 200 and "刘经办" in page.text
        case_page = boss.get(f"/staff/cases/{case.reference}?lang=en")
        assert 'value="reassign"' in case_page.text


def test_applicants_cannot_open_the_workbench_and_staff_pages_need_sign_in(client, db, frozen_clock):
    assert client.get("/staff/queue").status_code == 303
    sign_in_person(client, new_person(db))
    assert client.get("/staff/queue").status_code == 403
    assert client.get("/staff/cases/JL20261128000001").status_code == 403


def test_a_person_follows_their_request_answers_a_return_and_reads_notices(client, db, frozen_clock):
    handler = factories.staff(db, roles="handler")
    account, case = _person_case(db)
    number = db.get(factories.Person, account.person_id).id_number
    taken = take.take_next(db, staff=staff_actor(handler), now=clock.now())
    service.act(db, reference=case.reference, action="return_to_applicant", actor=staff_actor(handler),
                expected_version=taken.version, reason_code="missing_document", note="请补充困难证明",
                now=clock.now())
    db.commit()
    sign_in_person(client, number)

    listing = client.get("/me/requests?lang=en")
    assert listing.status_code == 200 and case.reference in listing.text and "Waiting for the applicant" in listing.text
    assert "3 unread" in listing.text  # received, being handled, returned

    detail = client.get(f"/me/requests/{case.reference}?lang=en")
    assert "What we need from you" in detail.text and "请补充困难证明" in detail.text
    assert "A required document is missing" in detail.text
    assert 'hx-trigger="every 10s"' not in detail.text or "/status" in detail.text
    status = client.get(f"/me/requests/{case.reference}/status?lang=en")
    assert status.status_code == 200 and "<html" not in status.text and 'id="case-status"' in status.text
    version = VERSION.search(detail.text).group(1)

    empty = client.post(f"/me/requests/{case.reference}/resubmit?lang=en",
                        data={"csrf_token": token_from(client, "/me/requests"), "version": version, "note": ""})
    assert empty.status_code == 422 and 'href="#field-note"' in empty.text
    sent = client.post(f"/me/requests/{case.reference}/resubmit",
                       data={"csrf_token": token_from(client, "/me/requests"), "version": version,
                             "note": "已上传证明"})
    assert sent.status_code == 303
    assert _state(db, case) == State.IN_PROGRESS

    inbox = client.get("/me/notices?lang=en")
    assert inbox.status_code == 200 and case.reference in inbox.text and "needs something from you" in inbox.text
    assert db.exec(select(Notice).where(Notice.read_at.is_(None))).all() != []  # reading is not a change
    db.commit()
    up_to = re.search(r'name="up_to" value="([0-9]+)"', inbox.text).group(1)
    marked = client.post("/me/notices", data={"csrf_token": token_from(client, "/me/notices"), "up_to": up_to})
    assert marked.status_code == 303
    assert "unread" not in client.get("/me/notices?lang=en").text.split("</header>")[0]
    assert db.exec(select(Notice).where(Notice.read_at.is_(None))).all() == []
    db.commit()


def test_a_person_cannot_open_someone_elses_request(client, db, frozen_clock):
    _owner, case = _person_case(db)
    sign_in_person(client, new_person(db, mobile="13900000008"))
    assert client.get(f"/me/requests/{case.reference}").status_code == 404
    refused = client.post(f"/me/requests/{case.reference}/withdraw",
                          data={"csrf_token": token_from(client, "/me/requests"), "version": str(case.version)})
    assert refused.status_code == 404
    assert _state(db, case) == State.CHECKED


def test_an_employer_sees_its_verification_request_and_withdraws_another(client, db, frozen_clock):
    employer = factories.employer(db, status="pending")
    boss = factories.operator(db, employer_row=employer)
    verification = service.submit(db, kind="employer_verification", applicant=operator_actor(boss), payload={},
                                  prefecture="220100", idempotency_key="reg", now=clock.now())
    deferral = service.submit(db, kind="deferral", applicant=operator_actor(boss), payload={}, prefecture="220100",
                              idempotency_key="def", now=clock.now())
    db.commit()
    sign_in_operator(client, boss, employer.credit_code)

    listing = client.get("/employer/requests?lang=en")
    assert verification.reference in listing.text and deferral.reference in listing.text
    assert "Employer verification" in listing.text
    withdrawn = client.post(f"/employer/requests/{deferral.reference}/withdraw",
                            data={"csrf_token": token_from(client, "/employer/requests"),
                                  "version": str(deferral.version)})
    assert withdrawn.status_code == 303
    assert _state(db, deferral) == State.WITHDRAWN
    assert db.get(Employer, employer.id).status == "pending"
    inbox = client.get("/employer/notices?lang=en")
    assert "was withdrawn" in inbox.text


def test_a_case_put_back_after_opening_reads_apart_from_one_never_opened(client, db, frozen_clock):
    handler = staff_actor(factories.staff(db, roles="handler"))
    member = factories.staff(db, roles="handler", name="另一经办")
    _account, opened = _person_case(db)
    _other, untouched = _person_case(db, mobile="13900000007")
    opened.due_on = untouched.due_on.replace(day=1)  # the more urgent, so the handler takes it first
    db.add(opened)
    db.commit()
    taken = take.take_next(db, staff=handler, now=clock.now())
    assert taken.id == opened.id
    service.act(db, reference=opened.reference, action="release", actor=handler, expected_version=taken.version,
                now=clock.now())
    db.commit()
    sign_in_staff(client, member)

    page = client.get("/staff/queue?lang=en").text
    row_of = {ref: page.split(ref, 2)[-1].split("</tr>", 1)[0] for ref in (opened.reference, untouched.reference)}
    assert "opened before, not finished" in row_of[opened.reference]
    assert "not opened yet" in row_of[untouched.reference]


def test_the_applicant_sees_whether_their_waiting_request_has_been_opened(client, db, frozen_clock):
    account, case = _person_case(db, mobile="13900000008")
    number = id_number_of(db, account)
    db.commit()
    sign_in_person(client, number)
    assert "not opened yet" in client.get(f"/me/requests/{case.reference}?lang=en").text

    handler = staff_actor(factories.staff(db, roles="handler"))
    taken = take.take_next(db, staff=handler, now=clock.now())
    service.act(db, reference=case.reference, action="release", actor=handler, expected_version=taken.version,
                now=clock.now())
    db.commit()
    assert "opened before, not finished" in client.get(f"/me/requests/{case.reference}?lang=en").text


def test_a_closed_case_still_says_what_was_decided(client, db, frozen_clock):
    from datetime import timedelta

    account, case = _person_case(db, mobile="13900000009")
    handler = staff_actor(factories.staff(db, roles="handler"))
    taken = take.take_next(db, staff=handler, now=clock.now())
    service.act(db, reference=case.reference, action="approve", actor=handler, expected_version=taken.version,
                now=clock.now())
    service.run_auto(db, now=clock.now() + timedelta(days=30))
    number = id_number_of(db, account)
    db.commit()
    sign_in_person(client, number)
    assert "Closed: approved" in client.get(f"/me/requests/{case.reference}?lang=en").text
