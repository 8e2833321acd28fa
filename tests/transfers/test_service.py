"""Transfers into and out of Jilin through the service: the account decision, the legs and their clocks, the
merge with the engine's figures checked, a query when they differ, and overdue legs flagged once."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from portal.devtools import province
from portal.errors import ValidationFailed
from portal.models import Case, ContributionMonth, Notice, ProvinceMessage, Transfer
from portal.queue import cases
from portal.queue.states import State
from portal.services import transfers
from tests import factories
from tests.transfers.support import NOW, applicant, apply, issue_letter


def legs(db, transfer):
    return transfers.legs_of(db, transfer=transfer)


# --- the general record or a temporary account --------------------------------------------------------------------

def test_a_man_of_fifty_from_another_hukou_province_gets_a_temporary_account_and_is_told_why(db):
    _account, actor = applicant(db, birth=date(1975, 6, 1), region="110101")
    transfer = apply(db, actor, hukou="110000")
    assert transfer.account_type == "temporary"
    steps = json.loads(transfer.decision_json)["steps"]
    assert [step["key"] for step in steps] == ["transfer.temporary_account"]
    assert "50" in steps[0]["text_en"]


def test_the_same_man_moving_to_his_hukou_province_keeps_a_general_record(db):
    _account, actor = applicant(db, birth=date(1975, 6, 1))
    assert apply(db, actor, hukou="220000").account_type == "general"


def test_a_move_approved_by_a_county_human_resources_department_is_exempt_and_the_exemption_is_explained(db):
    _account, actor = applicant(db, birth=date(1975, 6, 1), region="110101")
    transfer = apply(db, actor, hukou="110000", exemption="hr_department")
    assert transfer.account_type == "general"
    keys = [step["key"] for step in json.loads(transfer.decision_json)["steps"]]
    assert keys == ["transfer.general_account", "transfer.exempt_hr_department"]


def test_a_woman_of_forty_from_another_hukou_province_gets_a_temporary_account_and_at_39_does_not(db):
    _a, forty = applicant(db, birth=date(1986, 11, 1), region="110101", sex="female")
    _b, younger = applicant(db, birth=date(1987, 12, 30), region="110101", sex="female")
    assert apply(db, forty, hukou="110000").account_type == "temporary"
    assert apply(db, younger, hukou="110000").account_type == "general"


def test_with_a_temporary_account_nothing_moves_the_letter_says_so_and_no_transfer_message_is_taken(db):
    _account, actor = applicant(db, birth=date(1970, 6, 1), region="110101")
    transfer = apply(db, actor, hukou="110000")
    issue_letter(db, transfer)
    db.refresh(transfer)
    assert transfer.state == "temporary"
    tracked = transfers.tracker(db, transfer=transfer, today=date(2026, 11, 30))
    views = {view.leg.leg: view.status for view in tracked.legs}
    assert views == {"letter": "done", "transfer": "not_needed", "merge": "not_needed"}
    told = db.exec(select(ProvinceMessage).where(ProvinceMessage.direction == "out")).one()
    assert told.kind == "temporary_account"
    with pytest.raises(transfers.MessageRefused) as refused:
        province.deliver_directly(db, province.transfer_message(db, reference=transfer.reference, now=NOW), now=NOW)
    assert refused.value.result == "not_expected"


def test_a_move_between_jilin_prefectures_is_refused_as_a_transfer_with_the_reason(db):
    _account, actor = applicant(db)
    with pytest.raises(ValidationFailed) as refused:
        apply(db, actor, other="220000")
    assert "one provincial pool" in refused.value.errors["other_province"].text


def test_overlapping_or_future_periods_are_refused_at_their_field(db):
    _account, actor = applicant(db)
    with pytest.raises(ValidationFailed) as refused:
        apply(db, actor, periods=(("2008-03", "2012-01"), ("2011-06", "2015-06")))
    assert "overlap" in refused.value.errors["start_1"].text
    with pytest.raises(ValidationFailed) as refused:
        apply(db, actor, periods=(("2026-10", "2027-06"),))
    assert "start_1" in refused.value.errors


# --- legs and clocks ------------------------------------------------------------------------------------------------

def test_applying_starts_the_contact_letter_leg_with_fifteen_working_days_across_the_new_year_holidays(db):
    _account, actor = applicant(db)
    now = NOW + timedelta(days=14)  # Monday 14 December 2026
    transfer = apply(db, actor, now=now)
    letter = legs(db, transfer)["letter"]
    assert letter.started_on == date(2026, 12, 14)
    # 13 working days to 31 December, New Year's Day 2027 off, then Monday 4 and Tuesday 5 January.
    assert letter.due_on == date(2027, 1, 5)
    assert letter.due_provisional_year == 2027  # the 2027 notice is not encoded yet: it may still move
    assert legs(db, transfer)["transfer"].started_on is None


def test_two_people_issue_the_letter_and_the_other_provinces_clock_starts(db):
    account, actor = applicant(db)
    transfer = apply(db, actor)
    case = issue_letter(db, transfer)
    assert case.state == State.APPROVED
    db.refresh(transfer)
    assert transfer.state == "letter_sent"
    assert legs(db, transfer)["letter"].done_on == date(2026, 11, 30)
    assert legs(db, transfer)["transfer"].due_on is not None
    sent = db.exec(select(ProvinceMessage).where(ProvinceMessage.direction == "out")).one()
    assert (sent.kind, sent.province) == ("contact_letter", "110000")


# --- the merge ------------------------------------------------------------------------------------------------------

def test_amounts_that_agree_with_the_engine_merge_the_months_with_their_source(db):
    account, actor = applicant(db)
    transfer = apply(db, actor)
    issue_letter(db, transfer)
    answer = province.deliver_directly(db, province.transfer_message(db, reference=transfer.reference, now=NOW),
                                       now=NOW)
    assert answer["status"] == "merged" and answer["months"] == 88
    db.refresh(transfer)
    assert transfer.state == "merged"
    assert all(leg.done_on for leg in legs(db, transfer).values())
    months = db.exec(select(ContributionMonth).where(ContributionMonth.person_id == account.person_id)).all()
    assert {m.source for m in months} == {"transfer_in"} and len(months) == 88
    assert transfers.sources_of(db, person_id=account.person_id) == [
        {"province": "110000", "start": date(2008, 3, 1), "end": date(2015, 6, 1), "months": 88,
         "reference": transfer.reference,
         "personal_account": Decimal(json.loads(transfer.amounts_json)["expected"]["personal_account"])}]


def test_amounts_that_differ_open_a_query_to_the_sending_province_and_merge_nothing(db):
    account, actor = applicant(db)
    transfer = apply(db, actor)
    issue_letter(db, transfer)
    wrong = province.transfer_message(db, reference=transfer.reference, now=NOW, off_by=Decimal("-100.00"))
    answer = province.deliver_directly(db, wrong, now=NOW)
    assert answer["status"] == "query"
    assert set(answer["differences"]) == {"pooled"}
    db.refresh(transfer)
    assert transfer.state == "query"
    assert db.exec(select(ContributionMonth).where(ContributionMonth.person_id == account.person_id)).all() == []
    assert legs(db, transfer)["merge"].done_on is None and legs(db, transfer)["merge"].started_on is not None
    query = db.exec(select(ProvinceMessage).where(ProvinceMessage.kind == "query")).one()
    assert query.direction == "out" and "pooled" in query.body
    # The corrected message is merged.
    right = province.transfer_message(db, reference=transfer.reference, now=NOW)
    assert province.deliver_directly(db, right, now=NOW)["status"] == "merged"


def test_pre_1998_months_move_only_the_persons_own_contributions_and_a_different_figure_is_queried(db):
    account, actor = applicant(db, birth=date(1970, 3, 1))
    transfer = apply(db, actor, periods=(("1995-01", "1999-12"),))
    issue_letter(db, transfer)
    # The sender moves the whole pre-1998 account instead of the own contributions only: queried.
    message = province.transfer_message(db, reference=transfer.reference, now=NOW)
    account_part = message.message["account"]
    message.message["amounts"]["personal_account"] = str(Decimal(account_part["balance"]))
    message = province._prepared(message.province, message.message, NOW)
    answer = province.deliver_directly(db, message, now=NOW)
    assert answer["status"] == "query" and set(answer["differences"]) == {"personal_account"}


# --- overdue legs ---------------------------------------------------------------------------------------------------

def test_a_leg_past_its_limit_is_flagged_once_to_the_applicant_and_listed_for_supervisors(db):
    account, actor = applicant(db)
    transfer = apply(db, actor)
    issue_letter(db, transfer)
    due = legs(db, transfer)["transfer"].due_on
    later = NOW + timedelta(days=(due - date(2026, 11, 30)).days + 1)
    assert transfers.flag_overdue(db, now=NOW) == 0
    assert transfers.flag_overdue(db, now=later) == 1
    assert transfers.flag_overdue(db, now=later) == 0
    notices = db.exec(select(Notice).where(Notice.recipient_id == account.person_id)).all()
    assert any("past its time limit" in n.title for n in notices)
    listed = transfers.overdue_for_supervisors(db, today=due + timedelta(days=1))
    assert [(t.reference, leg.leg) for t, leg in listed] == [(transfer.reference, "transfer")]
    assert transfers.tracker(db, transfer=transfer, today=due + timedelta(days=1)).overdue == ["transfer"]


# --- out of Jilin ---------------------------------------------------------------------------------------------------

def test_a_contact_letter_from_another_province_is_confirmed_by_staff_and_jilin_sends_the_record(db):
    from portal.models import Employer, EmploymentSpell
    from tests.records.support import spell

    person = factories.person(db)
    employer = factories.employer(db)
    row = spell(db, person=person, employer=db.get(Employer, employer.id), start=date(2020, 1, 1), wage_fen=500000)
    for n in range(24):
        db.add(ContributionMonth(person_id=person.id, month=date(2020 + n // 12, n % 12 + 1, 1), base_fen=500000,
                                 individual_part_fen=40000, personal_account_fen=40000, source="employer_filing",
                                 status="paid", employer_id=employer.id, created_at=NOW))
    db.flush()
    answer = province.deliver_directly(db, province.contact_letter(db, province="310000", id_number=person.id_number,
                                                                   now=NOW), now=NOW)
    transfer = db.exec(select(Transfer).where(Transfer.reference == answer["transfer"])).one()
    assert (transfer.direction, transfer.state) == ("out", "letter_received")
    check = cases.check_results_of(db.get(Case, transfer.case_id))[-1]
    assert check["passed"] and check["params"] == {"count": 24, "account": "9600.00", "pooled": "14400.00"}
    issue_letter(db, transfer)
    db.refresh(transfer)
    assert transfer.state == "sent" and transfer.certificate_code
    amounts = json.loads(transfer.amounts_json)
    assert amounts["sent"] == {"personal_account": "9600.00", "pooled": "14400.00"}  # 24 × 400; 12% × 24 × 5000
    assert amounts["payment"]["amount"] == "24000.00"
    assert db.get(EmploymentSpell, row.id).end_reason == "transferred"
    sent = db.exec(select(ProvinceMessage).where(ProvinceMessage.kind == "transfer")).one()
    assert sent.province == "310000" and '"pooled":"14400.00"' in sent.body
    done = province.deliver_directly(db, province.merged(db, reference=transfer.reference, now=NOW), now=NOW)
    assert done["status"] == "completed"


# --- where the person claims -------------------------------------------------------------------------------------------

def test_the_claim_place_counts_transferred_months_for_their_province_and_says_how_long_jilin_needs(db):
    account, actor = applicant(db)
    for n in range(30):
        db.add(ContributionMonth(person_id=account.person_id, month=date(2024 + n // 12, n % 12 + 1, 1),
                                 base_fen=500000, source="flexible_payment", status="paid", created_at=NOW))
    db.flush()
    apply(db, actor, hukou="370000", periods=(("2008-01", "2019-12"),))
    person = db.get(factories.Person, account.person_id)
    claim = transfers.claim_place_of(db, person=person, today=date(2026, 11, 30))
    assert (claim.place, claim.rule) == ("110000", 3)
    assert claim.jilin_months_needed == 120 - 30


def test_months_already_insured_in_jilin_are_queried_not_merged_twice(db):
    account, actor = applicant(db)
    transfer = apply(db, actor)
    issue_letter(db, transfer)  # the check passed: nothing overlapped when the letter was issued
    db.add(ContributionMonth(person_id=account.person_id, month=date(2015, 6, 1), base_fen=400000,
                             source="flexible_payment", status="paid", created_at=NOW))
    db.flush()
    answer = province.deliver_directly(db, province.transfer_message(db, reference=transfer.reference, now=NOW),
                                       now=NOW)
    assert answer["status"] == "query" and answer["double_months"] == ["2015-06"]
    assert answer["differences"] == {}


def test_with_a_jilin_household_registration_one_month_in_jilin_would_make_jilin_the_claim_place(db):
    account, actor = applicant(db)
    apply(db, actor, hukou="220000", periods=(("2008-01", "2019-12"),))
    claim = transfers.claim_place_of(db, person=db.get(factories.Person, account.person_id), today=date(2026, 11, 30))
    assert (claim.place, claim.rule, claim.jilin_months_needed) == ("110000", 2, 1)


def test_the_same_application_sent_twice_opens_one_transfer_and_one_case(db):
    _account, actor = applicant(db)
    first = transfers.apply_in(db, actor=actor, other_province="110000", hukou_province="220000", exemption="",
                               periods=[("2008-03", "2015-06")], token="same-form", now=NOW)
    again = transfers.apply_in(db, actor=actor, other_province="110000", hukou_province="220000", exemption="",
                               periods=[("2008-03", "2015-06")], token="same-form", now=NOW)
    assert again.id == first.id
    assert len(db.exec(select(Transfer)).all()) == 1


def test_a_transfer_that_was_not_continued_is_never_flagged_or_counted_as_past_its_limit(db):
    account, actor = applicant(db)
    transfer = apply(db, actor)
    issue_letter(db, transfer, approve=False)
    db.refresh(transfer)
    assert transfer.state == "refused" and legs(db, transfer)["letter"].done_on is None
    assert transfers.flag_overdue(db, now=NOW + timedelta(days=60)) == 0
    notices = db.exec(select(Notice).where(Notice.recipient_id == account.person_id)).all()
    assert not any("past its time limit" in n.title for n in notices)
    assert transfers.overdue_for_supervisors(db, today=date(2027, 2, 1)) == []
