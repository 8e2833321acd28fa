"""Targeted supervision (精准督导) of an anomaly: a supervisor opens a verification case for it in the central queue,
once whoever asks and however often; a handler decides it, and the decision (confirmed or explained) is recorded on
the anomaly."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from portal.auth.principal import Actor, Principal
from portal.errors import ValidationFailed
from portal.models import Case, MonitoringFlag, Notice
from portal.queue import cases
from portal.queue import service as queue
from portal.queue.errors import ActionRefused
from portal.queue.states import Action
from portal.services import anomalies
from tests import factories
from tests.monitoring.support import NOW, OCTOBER, TODAY


def staff(db, name: str, roles: str = "supervisor") -> Actor:
    row = factories.staff(db, name=name, roles=roles)
    return Actor(Principal(kind="staff", account_id=row.id, display_name=row.name, roles=row.role_set))


def flag(db, *, area="220100", rule="collection_rate_drop", subject="") -> MonitoringFlag:
    row = MonitoringFlag(rule=rule, area=area, month=OCTOBER, subject=subject, found_at=NOW,
                         evidence='{"before": "0.9500", "rate": "0.6000"}')
    db.add(row)
    db.flush()
    return row


def decide(db, who: Actor, case: Case, *, confirmed: bool, note: str = "") -> Case:
    queue.act(db, reference=case.reference, action=Action.TAKE, actor=who, expected_version=None, now=NOW)
    return queue.act(db, reference=case.reference, action=Action.APPROVE if confirmed else Action.REJECT, actor=who,
                     expected_version=None, now=NOW, note=note, reason_code=None if confirmed else "not_eligible")


def test_a_supervisor_opens_a_verification_case_for_the_anomalys_prefecture_and_the_anomaly_names_it(db):
    found = flag(db)
    boss = staff(db, "周主管")
    case = anomalies.open_case(db, flag_id=found.id, finding="征缴率由95.0%降至60.0%", actor=boss, now=NOW)
    db.commit()

    assert (case.kind, case.state, case.prefecture, case.applicant_kind, case.applicant_id) == (
        "anomaly_verification", "checked", "220100", "area", 220100)
    assert case.counter_staff_id == boss.principal.account_id and case.checks_passed is True
    assert cases.payload_of(case) == {"flag_id": found.id, "rule": "collection_rate_drop", "area": "220100",
                                      "month": "2026-10", "subject": "", "finding": "征缴率由95.0%降至60.0%"}
    assert db.get(MonitoringFlag, found.id).case_id == case.id
    assert anomalies.case_of(db, flag=found).reference == case.reference
    assert db.exec(select(Notice).where(Notice.case_id == case.id)).all() == []  # a prefecture has no inbox


def test_opening_it_twice_or_by_another_supervisor_gives_the_same_case(db):
    found = flag(db)
    first = anomalies.open_case(db, flag_id=found.id, finding="", actor=staff(db, "甲"), now=NOW)
    again = anomalies.open_case(db, flag_id=found.id, finding="", actor=staff(db, "甲2"), now=NOW)
    db.commit()

    assert again.id == first.id
    assert db.exec(select(func.count()).select_from(Case).where(Case.kind == "anomaly_verification")).one() == 1


def test_each_anomaly_of_a_prefecture_has_its_own_case_and_neither_counts_as_a_duplicate(db):
    boss = staff(db, "周主管")
    first = anomalies.open_case(db, flag_id=flag(db).id, finding="", actor=boss, now=NOW)
    second = anomalies.open_case(db, flag_id=flag(db, rule="back_payment_spike").id, finding="", actor=boss, now=NOW)
    db.commit()

    assert first.id != second.id
    assert [result["code"] for result in cases.check_results_of(second)] == ["anomaly_found"]
    assert (first.checks_passed, second.checks_passed) == (True, True)


def test_a_handler_confirming_the_anomaly_records_it_confirmed_with_the_note(db):
    found = flag(db)
    case = anomalies.open_case(db, flag_id=found.id, finding="", actor=staff(db, "周主管"), now=NOW)
    handler = staff(db, "刘经办", roles="handler")
    decide(db, handler, case, confirmed=True, note="两户企业漏报，已督促补缴")
    db.commit()

    settled = db.get(MonitoringFlag, found.id)
    assert (settled.status, settled.note, settled.explained_by) == ("confirmed", "两户企业漏报，已督促补缴",
                                                                    handler.principal.account_id)
    assert [row.id for row in anomalies.flags(db, status="confirmed")] == [found.id]


def test_a_handler_rejecting_the_case_records_the_anomaly_explained(db):
    found = flag(db)
    case = anomalies.open_case(db, flag_id=found.id, finding="", actor=staff(db, "周主管"), now=NOW)
    decide(db, staff(db, "刘经办", roles="handler"), case, confirmed=False, note="大企业经批准缓缴")
    db.commit()

    settled = db.get(MonitoringFlag, found.id)
    assert (settled.status, settled.note, settled.case_id) == ("explained", "大企业经批准缓缴", case.id)


def test_the_supervisor_who_opened_the_case_does_not_decide_it_and_nobody_returns_it_to_the_prefecture(db):
    found = flag(db)
    boss = staff(db, "周主管")
    case = anomalies.open_case(db, flag_id=found.id, finding="", actor=boss, now=NOW)
    db.commit()
    with pytest.raises(ActionRefused):
        queue.act(db, reference=case.reference, action=Action.TAKE, actor=boss, expected_version=None, now=NOW)
    db.rollback()
    handler = staff(db, "刘经办", roles="handler")
    queue.act(db, reference=case.reference, action=Action.TAKE, actor=handler, expected_version=None, now=NOW)
    with pytest.raises(ActionRefused):
        queue.act(db, reference=case.reference, action=Action.RETURN_TO_APPLICANT, actor=handler,
                  expected_version=None, now=NOW, reason_code="missing_document", note="补材料")
    db.rollback()
    assert db.get(MonitoringFlag, found.id).status == "open"


def test_while_a_case_is_open_the_anomaly_is_not_explained_beside_it_nor_dropped_by_a_refresh(db):
    found = flag(db)
    anomalies.open_case(db, flag_id=found.id, finding="", actor=staff(db, "周主管"), now=NOW)
    with pytest.raises(ValidationFailed) as refused:
        anomalies.explain(db, flag_id=found.id, note="已核实", staff_id=None, now=NOW)
    assert set(refused.value.errors) == {"note"}
    # The rule no longer fires (no figures on record at all), but the flag under verification stays.
    report = anomalies.refresh_flags(db, now=NOW, today=TODAY)
    db.commit()
    assert report.removed == 0 and db.get(MonitoringFlag, found.id) is not None


def test_an_explained_anomaly_has_nothing_left_to_verify(db):
    found = flag(db)
    anomalies.explain(db, flag_id=found.id, note="已核实", staff_id=None, now=NOW)
    with pytest.raises(ValidationFailed) as refused:
        anomalies.open_case(db, flag_id=found.id, finding="", actor=staff(db, "周主管"), now=NOW)
    assert set(refused.value.errors) == {"case"}
    assert db.exec(select(func.count()).select_from(Case)).one() == 0


def test_an_anomaly_of_the_whole_province_is_verified_by_provincial_staff(db):
    found = flag(db, area="220000")
    case = anomalies.open_case(db, flag_id=found.id, finding="", actor=staff(db, "周主管"), now=NOW)
    db.commit()
    assert (case.prefecture, case.applicant_id) == ("220000", 220000)


def test_a_handler_taking_the_next_case_gets_the_verification_and_the_prefecture_is_told_nothing(db):
    from portal.queue import take

    found = flag(db)
    case = anomalies.open_case(db, flag_id=found.id, finding="", actor=staff(db, "周主管"), now=NOW)
    handler = staff(db, "刘经办", roles="handler")
    db.commit()
    taken = take.take_next(db, staff=handler, now=NOW)
    db.commit()

    assert (taken.reference, taken.state, taken.handler_id) == (case.reference, "in_progress",
                                                                handler.principal.account_id)
    assert db.exec(select(func.count()).select_from(Notice)).one() == 0
