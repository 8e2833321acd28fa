"""Trust (issue 13): credit scores and grades, supervision by class, commitments with evidence, proof uploads,
spot checks, and the serious-dishonesty list - through the real services and database."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlmodel import select

from portal.errors import ValidationFailed
from portal.models import Case, CaseAttachment, CommitmentEvidence, ContributionMonth, CreditRating, Employer
from portal.policy import commitments as catalogue
from portal.policy.rules import credit as rules
from portal.queue import routing, service, take
from portal.queue.attachments import MAX_BYTES, Upload
from portal.queue.states import State
from portal.services import applications, billing, credit, supervision
from tests import factories
from tests.queue.helpers import staff_actor
from tests.records.support import NOW, employer_actor, spell
from tests.trust_support import COMMIT, face, face_checked, offer, person_commit_fields

TODAY = date(2026, 11, 28)
OCTOBER, NOVEMBER = date(2026, 10, 1), date(2026, 11, 1)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"


# --- scoring and routing tables ---------------------------------------------------------------------------


@pytest.mark.parametrize(("events", "listed", "score", "grade"), [
    ([], False, 80, "B"),
    ([("on_time_payment", date(2026, m, 15)) for m in range(1, 11)], False, 90, "A"),
    ([("on_time_payment", date(2026, m, 15)) for m in range(1, 11)] * 3, False, 95, "B" if False else "A"),
    ([("late_payment", date(2026, 5, 15))], False, 75, "B"),
    ([("false_commitment", date(2026, 6, 1))], False, 50, "C"),
    ([("false_commitment", date(2026, 6, 1)), ("late_payment", date(2026, 7, 15))], False, 45, "D"),
    ([("late_payment", date(2024, 11, 27))], False, 80, "B"),  # counted 24 months: dropped out the day before
    ([("late_payment", date(2024, 11, 29))], False, 75, "B"),
    ([], True, 80, "D"),  # listed: D whatever the score
    ([("fraud_finding", date(2026, 1, 1)), ("serious_dishonesty", date(2026, 2, 1))], False, 0, "D"),
], ids=["no events: the base score, grade B", "ten on-time payments: A", "on-time points are capped at 15",
        "a late payment costs 5", "a false commitment costs 30: C", "a false commitment and a late payment: D",
        "an event older than its period counts nothing", "an event inside its period counts",
        "a listed subject is D", "the score never goes below 0"])
def test_the_score_and_grade_follow_the_parameters(events, listed, score, grade):
    rating = rules.rate(events, on=TODAY, listed=listed)
    assert (rating.score, rating.grade) == (score, grade)


@pytest.mark.parametrize(("grade", "tier", "deferral_route", "back_payment_route"), [
    ("A", "A", "auto", "dual"), ("B", "B", "dual", "dual"), ("C", "C", "dual", "dual"), ("D", "D", "dual", "dual"),
])
def test_a_grade_gives_a_tier_and_the_tier_a_route_money_always_two_people(grade, tier, deferral_route,
                                                                           back_payment_route):
    assert rules.tier_of(grade, TODAY) == tier
    assert routing.route_for("deferral", tier) == deferral_route
    assert routing.route_for("back_payment", tier) == back_payment_route
    assert rules.grade_may_commit(grade, TODAY) is (grade != "D")


def test_sampling_is_stable_and_follows_the_share():
    refs = [f"JL20261128{n:06d}" for n in range(2000)]
    drawn = [r for r in refs if rules.sampled(r, Decimal("0.10"))]
    assert 140 < len(drawn) < 260 and drawn == [r for r in refs if rules.sampled(r, Decimal("0.10"))]
    assert not any(rules.sampled(r, Decimal("0")) for r in refs) and all(rules.sampled(r, Decimal("1")) for r in refs)


def test_every_notice_has_both_languages_and_a_hash_that_names_its_text():
    for versions in catalogue.catalogue().values():
        for version in versions:
            assert set(version.texts) == {"zh_CN", "en"} and len(version.sha256) == 64
    notice = catalogue.notice("deferral_hardship", TODAY)
    assert "deferral" in notice.kinds and catalogue.items_for("deferral") == ("deferral_hardship",)


# --- the rating in the database -------------------------------------------------------------------------------


def employer_with_bills(db, months=(OCTOBER,)):
    operator = factories.operator(db)
    employer = db.get(Employer, operator.employer_id)
    spell(db, employer=employer, start=date(2026, 1, 1))
    for month in months:
        billing.run_billing(db, month=month, now=NOW)
    billing.mark_arrears(db, today=TODAY)
    return employer_actor(operator), employer


def test_recompute_is_set_based_idempotent_and_agrees_with_the_rule(db):
    _actor, employer = employer_with_bills(db, months=(date(2026, 9, 1),))  # due in October: arrears by now
    other = factories.employer(db, name="吉林另一公司")
    subject = credit.Subject("employer", employer.id)
    credit.record_event(db, subject=credit.Subject("employer", other.id), kind="false_commitment",
                        occurred_on=date(2026, 6, 1), now=NOW)
    assert credit.recompute(db, on=TODAY, now=NOW) == 2
    first = sorted((r.subject_id, r.score, r.grade) for r in db.exec(select(CreditRating)).all())
    assert credit.recompute(db, on=TODAY, now=NOW) == 2
    assert sorted((r.subject_id, r.score, r.grade) for r in db.exec(select(CreditRating)).all()) == first
    for subject_id, score, grade in first:
        rating = credit.rating_of(db, subject=credit.Subject("employer", subject_id), on=TODAY)
        assert (rating.score, rating.grade) == (score, grade)
    mine = credit.rating_of(db, subject=subject, on=TODAY)
    assert [e.kind for e in mine.events] == ["arrears_open"] and mine.score == 70


# --- commitments, evidence and proof ------------------------------------------------------------------------


def test_a_commitment_keeps_its_evidence_and_a_wrong_password_keeps_nothing(db):
    actor, employer = employer_with_bills(db)
    with pytest.raises(ValidationFailed) as refused:
        applications.submit_deferral(db, actor=actor, months=["2026-10"], reason="停产", mode="commit",
                                     password="Not-The-Password-1", notice_version=COMMIT["notice_version"],
                                     token="w1", now=NOW, today=TODAY)
    assert set(refused.value.errors) == {"password"} and db.exec(select(Case)).all() == []
    case = applications.submit_deferral(db, actor=actor, months=["2026-10"], reason="停产", **COMMIT, token="c1",
                                        now=NOW, today=TODAY, locale="en")
    evidence = db.exec(select(CommitmentEvidence)).one()
    notice = catalogue.notice("deferral_hardship", TODAY)
    assert (evidence.case_id, evidence.item, evidence.notice_version, evidence.notice_sha256) == (
        case.id, "deferral_hardship", notice.version, notice.sha256)
    assert (evidence.confirmed_by, evidence.client_address, evidence.account_kind, evidence.account_id,
            evidence.locale) == ("password", "127.0.0.1", "employer", actor.principal.account_id, "en")
    assert evidence.confirmed_at == NOW
    assert json.loads(case.payload)["commitment"]["sha256"] == notice.sha256
    # A grade-B employer's deferral goes to two people.
    assert (case.risk_tier, case.route) == ("B", "dual")


def test_a_notice_changed_since_the_page_was_shown_must_be_read_again(db):
    actor, _ = employer_with_bills(db)
    with pytest.raises(ValidationFailed) as refused:
        applications.submit_deferral(db, actor=actor, months=["2026-10"], reason="停产", mode="commit",
                                     password=COMMIT["password"], notice_version="1999-01-01", token="v1", now=NOW,
                                     today=TODAY)
    assert set(refused.value.errors) == {"password"}


@pytest.mark.parametrize(("upload", "message"), [
    (Upload("hardship.pdf", b"MZ\x90\x00 not a pdf at all"), "is not a PDF, JPEG or PNG"),
    (Upload("photo.png", b"GIF89a......"), "is not a PDF, JPEG or PNG"),
    (Upload("big.pdf", b"%PDF-" + b"0" * MAX_BYTES), "is larger than"),
    (Upload("empty.pdf", b""), "is empty"),
], ids=["an executable named .pdf", "a GIF named .png", "too large", "empty"])
def test_proof_is_checked_by_content_and_size_and_nothing_is_kept_when_refused(db, upload, message):
    actor, _ = employer_with_bills(db)
    with pytest.raises(ValidationFailed) as refused:
        applications.submit_deferral(db, actor=actor, months=["2026-10"], reason="停产", mode="proof",
                                     uploads=[upload], token="u1", now=NOW, today=TODAY)
    assert message in refused.value.errors["attachment"].text
    assert db.exec(select(Case)).all() == [] and db.exec(select(CaseAttachment)).all() == []


def test_a_grade_d_employer_cannot_commit_and_its_proof_goes_to_two_people(db):
    actor, employer = employer_with_bills(db)
    subject = credit.Subject("employer", employer.id)
    for day in (date(2026, 3, 1), date(2026, 4, 1)):
        credit.record_event(db, subject=subject, kind="false_commitment", occurred_on=day, now=NOW)
    assert credit.rating_of(db, subject=subject, on=TODAY).grade == "D"
    with pytest.raises(ValidationFailed) as refused:
        applications.submit_deferral(db, actor=actor, months=["2026-10"], reason="停产", **COMMIT, token="d1",
                                     now=NOW, today=TODAY)
    assert set(refused.value.errors) == {"mode"}
    case = applications.submit_deferral(db, actor=actor, months=["2026-10"], reason="停产", mode="proof",
                                        uploads=[Upload("证明.pdf", PDF)], token="d2", now=NOW, today=TODAY)
    assert (case.risk_tier, case.route, case.state) == ("D", "dual", State.CHECKED)
    stored = db.exec(select(CaseAttachment)).one()
    assert (stored.content_type, stored.content) == ("application/pdf", PDF)


# --- supervision and spot checks --------------------------------------------------------------------------------


def grade_a(db, employer):
    subject = credit.Subject("employer", employer.id)
    for n in range(10):
        credit.record_event(db, subject=subject, kind="correction_made", occurred_on=date(2026, 1 + n, 2), now=NOW)
    return subject


def test_an_a_grade_deferral_is_explained_approved_automatically_then_a_spot_check_finds_it_false(db):
    actor, employer = employer_with_bills(db, months=(NOVEMBER,))  # due three days ago: not arrears yet
    subject = grade_a(db, employer)
    seen = supervision.assess(db, subject=subject, kind="deferral", on=TODAY)
    assert (seen.rating.grade, seen.tier, seen.route) == ("A", "A", "auto")
    assert "approved automatically" in seen.how.text
    case = applications.submit_deferral(db, actor=actor, months=["2026-11"], reason="停产", **COMMIT, token="a1",
                                        now=NOW, today=TODAY)
    assert case.state == State.APPROVED
    assert set(db.exec(select(ContributionMonth.status).where(ContributionMonth.month == NOVEMBER)).all()) == {
        "deferred"}

    assert supervision.sample(db, now=NOW, shares={"A": Decimal("0")}) == 0
    assert supervision.sample(db, now=NOW, shares={"A": Decimal("1")}) == 1
    assert supervision.sample(db, now=NOW, shares={"A": Decimal("1")}) == 0  # never drawn twice
    spot = db.exec(select(Case).where(Case.kind == "spot_check")).one()
    handler = staff_actor(factories.staff(db, name="刘经办", roles="handler"))
    taken = take.take_next(db, staff=handler, now=NOW + timedelta(hours=1))
    assert taken.reference == spot.reference
    service.act(db, reference=spot.reference, action="reject", actor=handler, expected_version=taken.version,
                reason_code="commitment_false", now=NOW + timedelta(hours=2))

    assert set(db.exec(select(ContributionMonth.status).where(ContributionMonth.month == NOVEMBER)).all()) == {
        "billed"}  # revoked: the late fee runs again from the due date
    assert db.exec(select(CommitmentEvidence)).one().found_false_at is not None
    after = credit.rating_of(db, subject=subject, on=TODAY)
    assert after.grade == "C" and any(e.kind == "false_commitment" for e in after.events)
    assert db.get(CreditRating, ("employer", employer.id)).grade == "C"
    barred = supervision.assess(db, subject=subject, kind="deferral", on=TODAY)
    assert not barred.eligibility.may_commit


# --- the serious-dishonesty list ---------------------------------------------------------------------------------


def test_a_listing_is_proposed_decided_by_another_published_after_the_period_and_removed_with_history(db):
    _actor, employer = employer_with_bills(db)
    subject = credit.Subject("employer", employer.id)
    proposer = staff_actor(factories.staff(db, name="刘经办", roles="handler"))
    decider = staff_actor(factories.staff(db, name="陈复核", roles="handler"))
    listing = credit.propose_listing(db, actor=proposer, subject=subject, trigger="fraudulent_enrolment",
                                     finding="虚构劳动关系25人次", token="l1", now=NOW)
    days, years = credit.list_rules(TODAY)
    assert listing.statement_until == TODAY + timedelta(days=days)
    assert take.take_next(db, staff=proposer, now=NOW) is None  # the proposer cannot decide it
    taken = take.take_next(db, staff=decider, now=NOW)
    service.act(db, reference=taken.reference, action="approve", actor=decider, expected_version=taken.version,
                reason_code="conditions_met", now=NOW)
    assert listing.state == "listed" and listing.effective_on == listing.statement_until + timedelta(days=1)
    assert listing.ends_on == date(listing.effective_on.year + years, listing.effective_on.month,
                                   listing.effective_on.day)
    # Not public while the subject may still state their case; public from the effective day.
    assert credit.public_list(db, on=listing.statement_until) == []
    shown = credit.public_list(db, on=listing.effective_on)
    assert [(e.name, e.identifier) for e in shown] == [(employer.name, employer.credit_code)]
    listed = credit.rating_of(db, subject=subject, on=listing.effective_on)
    assert listed.grade == "D" and listed.listed
    assert supervision.assess(db, subject=subject, kind="deferral", on=listing.effective_on).tier == "D"

    credit.remove_listing(db, listing_id=listing.id, reason="repaired", actor=decider, now=NOW + timedelta(days=30))
    assert credit.public_list(db, on=listing.effective_on) == []
    history = credit.listings_of(db, subject=subject)
    assert [(h.state, h.removal_reason) for h in history] == [("removed", "repaired")]


def test_persons_are_published_masked():
    assert credit.mask_id_number("220102198503150111") == "2201**********0111"
    assert credit.mask_name("王建国") == "王**"


# --- the pages ------------------------------------------------------------------------------------------------


def test_the_deferral_form_explains_the_check_and_the_credit_page_shows_grade_and_events_in_both_languages(
        client, db, frozen_clock):
    from tests.helpers import sign_in_operator

    actor, employer = employer_with_bills(db)
    credit.record_event(db, subject=credit.Subject("employer", employer.id), kind="false_commitment",
                        occurred_on=date(2026, 6, 1), now=NOW)
    from portal.models import EmployerOperator

    operator = db.get(EmployerOperator, actor.principal.account_id)
    signing_in = SimpleNamespace(username=operator.username)
    code = employer.credit_code
    db.commit()
    db.close()  # nothing of the arranging session holds the database while the app writes
    sign_in_operator(client, signing_in, code)
    form = client.get("/employer/applications/deferral?lang=en")
    assert "How your request will be checked" in form.text and "a second member of staff will review" in form.text
    assert "A commitment of yours was found to be false" in form.text and 'value="commit"' not in form.text
    page = client.get("/employer/credit?lang=en")
    assert page.status_code == 200 and "A commitment found to be false" in page.text
    assert '<dd id="credit-grade"><strong>D</strong></dd>' in page.text  # 80 - 30 - 10 (arrears) = 40
    chinese = client.get("/employer/credit?lang=zh_CN")
    assert chinese.status_code == 200 and 'lang="zh' in chinese.text


def test_the_public_list_needs_no_sign_in_and_shows_persons_masked(client, db):
    person = factories.person(db, name="王建国", id_number="220102198503150111")
    proposer = staff_actor(factories.staff(db, name="刘经办", roles="handler"))
    decider = staff_actor(factories.staff(db, name="陈复核", roles="handler"))
    credit.propose_listing(db, actor=proposer, subject=credit.Subject("person", person.id),
                           trigger="fraudulent_benefits", finding="冒领", token="p1", now=NOW - timedelta(days=40))
    taken = take.take_next(db, staff=decider, now=NOW - timedelta(days=40))
    service.act(db, reference=taken.reference, action="approve", actor=decider, expected_version=taken.version,
                reason_code="conditions_met", now=NOW - timedelta(days=40))
    db.commit()
    page = client.get("/dishonesty-list?lang=en")
    assert page.status_code == 200
    assert "王**" in page.text and "2201**********0111" in page.text and "220102198503150111" not in page.text


def test_staff_see_the_commitment_evidence_and_the_applicants_credit_on_the_case(client, db, frozen_clock):
    from tests.helpers import sign_in_staff

    actor, employer = employer_with_bills(db)
    case = applications.submit_deferral(db, actor=actor, months=["2026-10"], reason="停产", **COMMIT, token="s1",
                                        now=NOW, today=TODAY)
    notice = catalogue.notice("deferral_hardship", TODAY)
    staff = factories.staff(db, name="刘经办", roles="handler")
    reference = case.reference
    signing_in = SimpleNamespace(staff_number=staff.staff_number, totp_secret=staff.totp_secret)
    db.commit()
    db.close()
    sign_in_staff(client, signing_in)
    page = client.get(f"/staff/cases/{reference}?lang=en")
    assert page.status_code == 200
    assert "Evidence of the commitment" in page.text and notice.sha256 in page.text and "127.0.0.1" in page.text
    assert 'id="credit-title"' in page.text and "Contributions still unpaid after the grace period" in page.text


def test_a_person_commits_only_with_the_card_and_face_check_and_never_with_the_password(db):
    from portal.auth.principal import Actor, Principal
    from portal.services import commitments

    account = factories.person_account(db)
    version = catalogue.notice("flexible_no_employer", TODAY).version
    by_password = Actor(Principal(kind="person", account_id=account.id, display_name="p",
                                  person_id=account.person_id), address="10.0.0.7")
    with pytest.raises(ValidationFailed) as refused:
        commitments.confirm(db, actor=by_password, item="flexible_no_employer", password=factories.PASSWORD,
                            version=version, locale="zh_CN", now=NOW, today=TODAY)
    assert set(refused.value.errors) == {"mode"} and commitments.needs_face(refused.value)
    card_only = Actor(replace(by_password.principal, assurance="card"), address="10.0.0.7")
    with pytest.raises(ValidationFailed):  # a card sign-in without the face check is not enough either
        commitments.confirm(db, actor=card_only, item="flexible_no_employer", password="", version=version,
                            locale="zh_CN", now=NOW, today=TODAY)
    confirmed = commitments.confirm(db, actor=face(by_password), item="flexible_no_employer", password="",
                                    version=version, locale="zh_CN", now=NOW, today=TODAY)
    assert (confirmed.method, confirmed.address) == ("essc_face", "10.0.0.7")


def test_a_persons_password_confirmation_is_refused_and_a_face_checked_one_is_kept_as_essc_face(db):
    from portal.services import person_requests
    from tests.queue.helpers import person_actor

    account = factories.person_account(db)
    by_password = person_requests.online(db, actor=person_actor(account))
    with pytest.raises(ValidationFailed) as refused:
        person_requests.submit_correction(db, filing=by_password, what="missing", months="2019-03",
                                          details="现金工资", offer=offer("employment_history"), token="p1",
                                          now=NOW, today=TODAY)
    assert set(refused.value.errors) == {"mode"}
    assert db.exec(select(Case)).all() == [] and db.exec(select(CommitmentEvidence)).all() == []
    by_face = person_requests.online(db, actor=face(person_actor(account)))
    case = person_requests.submit_correction(db, filing=by_face, what="missing", months="2019-03",
                                             details="现金工资", offer=offer("employment_history"), token="p2",
                                             now=NOW, today=TODAY)
    evidence = db.exec(select(CommitmentEvidence)).one()
    assert (evidence.case_id, evidence.confirmed_by, evidence.account_kind) == (case.id, "essc_face", "person")
    assert json.loads(case.payload)["commitment"]["confirmed_by"] == "essc_face"


def test_a_persons_request_is_filed_at_the_tier_of_their_grade(db):
    from portal.services import person_requests
    from tests.records.support import person_actor

    person = factories.person(db)
    filing = person_requests.online(db, actor=person_actor(person))
    proof = offer("employment_history", mode="proof", uploads=(Upload("contract.pdf", b"%PDF-1.4 contract"),))
    first = person_requests.submit_correction(db, filing=filing, what="missing", months="2020-03", details="缺月",
                                              offer=proof, token="g1", now=NOW, today=TODAY)
    assert first.risk_tier == "B"
    for day in (date(2026, 3, 1), date(2026, 4, 1)):
        credit.record_event(db, subject=credit.Subject("person", person.id), kind="false_commitment",
                            occurred_on=day, now=NOW)
    second = person_requests.submit_correction(db, filing=filing, what="missing", months="2020-05", details="缺月",
                                               offer=proof, token="g2", now=NOW, today=TODAY)
    assert (second.risk_tier, second.route) == ("D", "dual")


def test_wrong_passwords_at_a_confirmation_are_kept_and_stop_the_password_route_after_five(client, db,
                                                                                           frozen_clock):
    from tests.helpers import sign_in_operator
    from tests.trust_support import COMMIT_FIELDS

    actor, employer = employer_with_bills(db)
    from portal.models import AuditEvent, EmployerOperator

    operator = db.get(EmployerOperator, actor.principal.account_id)
    signing_in, code = SimpleNamespace(username=operator.username), employer.credit_code
    db.commit()
    db.close()
    sign_in_operator(client, signing_in, code)
    page = client.get("/employer/applications/deferral")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    fields = {"csrf_token": token, "months": "2026-10", "reason": "停产", **COMMIT_FIELDS}
    for n in range(5):
        wrong = client.post("/employer/applications/deferral?lang=en",
                            data=fields | {"password": "Not-The-Password-1", "token": f"w{n}"})
        assert wrong.status_code == 422 and "The password is not right" in wrong.text
    right = client.post("/employer/applications/deferral?lang=en", data=fields | {"token": "w9"})
    assert right.status_code == 422 and "Too many wrong passwords" in right.text
    assert len(db.exec(select(AuditEvent).where(AuditEvent.action == "commitment.confirmation_refused")).all()) == 5
    assert db.exec(select(Case)).all() == []


# --- every catalogue item: its form, its evidence, its revocation ----------------------------------------------


def test_every_catalogue_item_is_offered_by_its_kind_and_that_kind_says_what_revoking_it_undoes():
    from portal.queue import kinds
    from portal.services.commitments import RECORD_FORMS

    for item, versions in catalogue.catalogue().items():
        for kind in versions[-1].kinds:
            if kind in RECORD_FORMS:  # a record made without a case (its evidence names the record)
                continue
            spec = kinds.spec_of(kind)
            assert item in spec.commitments, (item, kind)
            assert spec.revoke is not None, kind


def test_a_flexible_workers_false_declaration_of_no_employer_ends_the_enrolment_and_reopens_the_employment(db):
    from portal.models import EmploymentSpell, FlexibleEnrolment, Notice, Person
    from portal.services import person_requests
    from tests.queue.helpers import person_actor

    account = factories.person_account(db)
    person = db.get(Person, account.person_id)
    open_spell = spell(db, person=person, start=date(2015, 1, 1))
    filing = person_requests.online(db, actor=face(person_actor(account)))
    case = person_requests.submit_exception(db, filing=filing, start_month="2026-12", base_percent=100,
                                            details="单位已倒闭", offer=offer("flexible_no_employer"), token="x1",
                                            now=NOW, today=TODAY)
    evidence = db.exec(select(CommitmentEvidence)).one()
    assert (evidence.case_id, evidence.item, evidence.confirmed_by) == (case.id, "flexible_no_employer", "essc_face")
    handler = staff_actor(factories.staff(db, name="刘经办", roles="handler"))
    taken = take.take_next(db, staff=handler, now=NOW)
    service.act(db, reference=case.reference, action="approve", actor=handler, expected_version=taken.version,
                reason_code="conditions_met", now=NOW)
    assert db.get(EmploymentSpell, open_spell.id).end_month == date(2026, 11, 1)

    spot = supervision.open_spot_check(db, case=case, now=NOW + timedelta(days=1), actor=handler)
    checker = staff_actor(factories.staff(db, name="王核查", roles="handler"))
    taken = take.take_next(db, staff=checker, now=NOW + timedelta(days=1))
    assert taken.reference == spot.reference
    service.act(db, reference=spot.reference, action="reject", actor=checker, expected_version=taken.version,
                reason_code="commitment_false", now=NOW + timedelta(days=2))

    enrolled = db.exec(select(FlexibleEnrolment).where(FlexibleEnrolment.person_id == person.id)).one()
    assert (enrolled.end_month, enrolled.end_reason) == (date(2026, 12, 1), "revoked")
    reopened = db.get(EmploymentSpell, open_spell.id)
    assert (reopened.end_month, reopened.end_reason) == (None, "")  # the employer still employs them
    assert db.exec(select(CommitmentEvidence)).one().found_false_at is not None
    subject = credit.Subject("person", person.id)
    assert not supervision.assess(db, subject=subject, kind="flexible_exception", on=TODAY).eligibility.may_commit
    told = db.exec(select(Notice).where(Notice.recipient_kind == "person", Notice.recipient_id == person.id)).all()
    assert any("untrue" in notice.title for notice in told)


def test_a_correction_found_false_is_revoked_and_recorded(db):
    from portal.models import AuditEvent
    from portal.services import person_requests
    from tests.queue.helpers import person_actor

    account = factories.person_account(db)
    filing = person_requests.online(db, actor=face(person_actor(account)))
    case = person_requests.submit_correction(db, filing=filing, what="missing", months="2019-03", details="现金工资",
                                             offer=offer("employment_history"), token="r1", now=NOW, today=TODAY)
    handler = staff_actor(factories.staff(db, name="刘经办", roles="handler"))
    taken = take.take_next(db, staff=handler, now=NOW)
    service.act(db, reference=case.reference, action="approve", actor=handler, expected_version=taken.version,
                reason_code="conditions_met", now=NOW)
    spot = supervision.open_spot_check(db, case=case, now=NOW, actor=handler)
    checker = staff_actor(factories.staff(db, name="王核查", roles="handler"))
    taken = take.take_next(db, staff=checker, now=NOW)
    service.act(db, reference=spot.reference, action="reject", actor=checker, expected_version=taken.version,
                reason_code="commitment_false", now=NOW)
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "correction.revoked")).one().object_id == \
        case.reference
    rating = credit.rating_of(db, subject=credit.Subject("person", account.person_id), on=TODAY)
    assert [e.kind for e in rating.events] == ["false_commitment"] and rating.grade == "C"


def test_the_correction_form_offers_the_notice_and_a_person_who_may_not_commit_attaches_proof(client, db,
                                                                                               frozen_clock):
    from tests.helpers import error_links, id_number_of, sign_in_person

    account = factories.person_account(db)
    number = id_number_of(db, account)
    db.commit()
    sign_in_person(client, number)
    form = client.get("/me/records/correction?lang=en")
    notice = catalogue.notice("employment_history", TODAY).text("en")
    assert "How your request will be checked" in form.text and notice["basis"] in form.text
    assert 'value="commit"' in form.text and 'enctype="multipart/form-data"' in form.text

    subject = credit.Subject("person", account.person_id)
    credit.record_event(db, subject=subject, kind="false_commitment", occurred_on=date(2026, 6, 1), now=NOW)
    db.commit()
    barred = client.get("/me/records/correction?lang=en")
    assert "A commitment of yours was found to be false" in barred.text and 'value="commit"' not in barred.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', barred.text).group(1)
    fields = {"csrf_token": token, "token": "proof-1", "what": "missing", "months": "2019-03",
              "details": "现金工资", **person_commit_fields("employment_history")}
    refused = client.post("/me/records/correction?lang=en", data=fields)
    assert refused.status_code == 422 and error_links(refused.text) == ["mode"]
    disguised = client.post("/me/records/correction?lang=en", data=fields | {"mode": "proof"},
                            files={"attachment": ("contract.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")})
    assert disguised.status_code == 422 and "is not a PDF, JPEG or PNG" in disguised.text
    assert db.exec(select(Case)).all() == []
    db.commit()  # the test's read ends before the app writes
    sent = client.post("/me/records/correction", data=fields | {"mode": "proof"},
                       files={"attachment": ("劳动合同.pdf", PDF, "application/pdf")})
    assert sent.status_code == 303
    db.expire_all()
    case = db.exec(select(Case)).one()
    assert db.exec(select(CaseAttachment)).one().case_id == case.id
    assert db.exec(select(CommitmentEvidence)).all() == [] and "commitment" not in json.loads(case.payload)
    assert (case.risk_tier, case.route) == ("C", "dual")


def test_a_person_signed_in_with_a_password_is_offered_the_card_step_up_and_commits_once_face_checked(
        client, db, frozen_clock):
    from tests.helpers import id_number_of, sign_in_person

    account = factories.person_account(db)
    number, account_id = id_number_of(db, account), account.id
    db.commit()
    sign_in_person(client, number)
    form = client.get("/me/records/correction?lang=en")
    assert 'name="password"' not in form.text
    step_up = re.search(r'<a class="button button--secondary" id="commitment-step-up" href="([^"]+)"', form.text)
    assert step_up and step_up.group(1) == "/auth/essc/login?face=1&amp;next=%2Fme%2Frecords%2Fcorrection"
    assert "Confirm with your electronic social security card" in form.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    fields = {"csrf_token": token, "token": "face-1", "what": "missing", "months": "2019-03", "details": "现金工资",
              **person_commit_fields("employment_history")}
    by_password = client.post("/me/records/correction?lang=en", data=fields | {"password": factories.PASSWORD})
    # The password signs nothing: sending the form committing asks for the card's face check at that moment.
    assert by_password.status_code == 303
    assert by_password.headers["location"] == "/auth/essc/login?face=1&next=%2Fme%2Frecords%2Fcorrection"
    assert db.exec(select(Case)).all() == [] and db.exec(select(CommitmentEvidence)).all() == []

    face_checked(db, account_id=account_id)  # back from the step-up at the card provider
    checked = client.get("/me/records/correction?lang=en")
    assert 'id="commitment-face"' in checked.text and 'id="commitment-step-up"' not in checked.text
    assert "What you entered is filled in again" in checked.text  # the form as it was sent, but no password
    assert 'value="2019-03"' in checked.text and "现金工资" in checked.text
    assert re.search(r'id="mode-commit" name="mode" value="commit"\s*checked', checked.text)
    assert factories.PASSWORD not in checked.text
    sent = client.post("/me/records/correction", data=fields | {"token": "face-2"})
    assert sent.status_code == 303
    db.expire_all()
    evidence = db.exec(select(CommitmentEvidence)).one()
    assert (evidence.item, evidence.confirmed_by, evidence.account_id) == ("employment_history", "essc_face",
                                                                           account_id)


def test_the_transfer_and_family_certification_forms_say_how_they_will_be_checked(client, db, frozen_clock):
    from tests.helpers import id_number_of, sign_in_person

    account = factories.person_account(db)
    number = id_number_of(db, account)
    for day in (date(2026, 3, 1), date(2026, 4, 1)):  # a grade that puts requests in tier D
        credit.record_event(db, subject=credit.Subject("person", account.person_id), kind="false_commitment",
                            occurred_on=day, now=NOW)
    db.commit()
    sign_in_person(client, number)
    transfer = client.get("/me/transfers/apply?lang=en")
    assert 'id="supervision-title"' in transfer.text
    assert "Decisions that move money always take two people." in transfer.text
    family = client.get("/me/certification?lang=en")
    assert 'id="supervision-title"' in family.text and "risk tier D" in family.text
    assert "A commitment of yours was found to be false" in family.text  # so the family request takes documents
    assert 'id="mode-commit"' not in family.text and 'name="attachment"' in family.text


def test_a_transfer_is_filed_at_the_risk_tier_its_form_announced(db):
    from portal.models import Transfer
    from tests.transfers.support import applicant, apply

    account, actor = applicant(db)
    for day in (date(2026, 3, 1), date(2026, 4, 1)):
        credit.record_event(db, subject=credit.Subject("person", account.person_id), kind="false_commitment",
                            occurred_on=day, now=NOW)
    transfer = apply(db, actor)
    case = db.get(Case, db.get(Transfer, transfer.id).case_id)
    announced = supervision.assess(db, subject=credit.Subject("person", account.person_id), kind="transfer", on=TODAY)
    assert case.risk_tier == announced.tier == "D" and case.route == announced.route == "dual"


# --- objections -----------------------------------------------------------------------------------------------


def test_an_objection_to_an_event_on_the_credit_page_is_decided_by_staff_and_upheld_restores_the_grade(
        client, db, frozen_clock):
    from portal.models import CreditEvent
    from tests.helpers import id_number_of, sign_in_person

    account = factories.person_account(db)
    number = id_number_of(db, account)
    subject = credit.Subject("person", account.person_id)
    event = credit.record_event(db, subject=subject, kind="false_commitment", occurred_on=date(2026, 6, 1), now=NOW)
    event_id = event.id
    db.commit()
    sign_in_person(client, number)
    page = client.get("/me/credit?lang=en")
    assert '<dd id="credit-grade"><strong>C</strong></dd>' in page.text and "Not allowed" in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    empty = client.post("/me/credit/objection?lang=en", data={"csrf_token": token, "token": "o-1",
                                                              "event_id": str(event_id), "statement": " "})
    assert empty.status_code == 422 and "Say why you object." in empty.text
    sent = client.post("/me/credit/objection", data={"csrf_token": token, "token": "o-1", "event_id": str(event_id),
                                                     "statement": "该承诺属实，抽查时材料未送达"})
    assert sent.status_code == 303
    db.expire_all()
    case = db.exec(select(Case).where(Case.kind == "credit_objection")).one()
    assert json.loads(case.payload)["event_id"] == event_id and case.risk_tier == "C"

    handler = staff_actor(factories.staff(db, name="刘经办", roles="handler"))
    reviewer = staff_actor(factories.staff(db, name="陈复核", roles="reviewer"))
    taken = take.take_next(db, staff=handler, now=NOW)
    assert taken.reference == case.reference and case.route == "dual"  # grade C: a second person reviews
    recommended = service.act(db, reference=case.reference, action="submit_for_review", actor=handler,
                              expected_version=taken.version, recommendation="approve",
                              reason_code="conditions_met", now=NOW)
    service.act(db, reference=case.reference, action="review_approve", actor=reviewer,
                expected_version=recommended.version, now=NOW)
    assert db.get(CreditEvent, event_id).annulled_by_case_id == case.id
    after = credit.rating_of(db, subject=subject, on=TODAY)
    assert after.grade == "B" and not after.events
    assert supervision.assess(db, subject=subject, kind="enrolment_correction", on=TODAY).eligibility.may_commit
    db.commit()
    page = client.get("/me/credit?lang=en")
    assert '<dd id="credit-grade"><strong>B</strong></dd>' in page.text and "Allowed" in page.text


def test_staff_record_a_fraud_finding_and_a_correction_and_the_grade_follows_with_the_subject_told(client, db,
                                                                                                    frozen_clock):
    from portal.models import CreditEvent, Notice
    from tests.helpers import sign_in_staff

    employer = factories.employer(db, name="吉林稽核公司")
    staff = factories.staff(db, name="刘经办", roles="handler")
    signing_in = SimpleNamespace(staff_number=staff.staff_number, totp_secret=staff.totp_secret)
    code, employer_id = employer.credit_code, employer.id
    db.commit()
    db.close()
    sign_in_staff(client, signing_in)
    page = client.get("/staff/trust?lang=en")
    assert "Record a finding on a credit record" in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    fields = {"csrf_token": token, "finding_identifier": code, "kind": "fraud_finding", "occurred_on": "2026-11-20",
              "note": "虚报缴费基数"}
    bad = client.post("/staff/trust/findings?lang=en", data=fields | {"occurred_on": "2027-01-01", "note": " "})
    assert bad.status_code == 422 and "Describe the finding" in bad.text and "Choose a date from" in bad.text
    assert code in bad.text  # kept as typed
    assert db.exec(select(CreditEvent)).all() == []
    db.commit()
    assert client.post("/staff/trust/findings", data=fields).status_code == 303
    db.expire_all()
    subject = credit.Subject("employer", employer_id)
    rating = credit.rating_of(db, subject=subject, on=TODAY)
    assert [e.kind for e in rating.events] == ["fraud_finding"] and rating.grade == "D"
    assert db.exec(select(CreditEvent)).one().recorded_by == staff.id
    assert db.exec(select(Notice).where(Notice.recipient_kind == "employer", Notice.recipient_id == employer_id)).all()


def test_a_survivors_claim_found_to_rest_on_a_false_kinship_is_revoked_with_the_award_to_repay(db):
    from portal.models import AuditEvent, Notice, SurvivorAward
    from portal.queue import parties

    claimant = factories.person(db, name="王小华")
    deceased = factories.person(db, name="王建国", id_number="220102195503150113")
    case = service.submit(db, kind="survivor_claim", applicant=parties.Applicant("person", claimant.id),
                          payload={"deceased_id": deceased.id}, prefecture="220100", idempotency_key="sv1", now=NOW)
    case.state, case.outcome = State.APPROVED, "approved"  # decided by two people (not the point here)
    db.add(case)
    notice = catalogue.notice("survivor_kinship", TODAY)
    db.add(CommitmentEvidence(case_id=case.id, item=notice.item, notice_version=notice.version,
                              notice_sha256=notice.sha256, locale="zh_CN", confirmed_by="essc_face", confirmed_at=NOW,
                              account_kind="person", account_id=claimant.id, subject_kind="person",
                              subject_id=claimant.id))
    db.add(SurvivorAward(deceased_person_id=deceased.id, claimant_person_id=claimant.id, case_reference=case.reference,
                         funeral_fen=680284, benefit_fen=2000000, account_fen=1000000, total_fen=3680284, months="24",
                         explanation_json="{}", bank_code="BOC", card_number="6216610100001234567", awarded_at=NOW))
    db.flush()
    spot = supervision.open_spot_check(db, case=case, now=NOW)
    checker = staff_actor(factories.staff(db, name="王核查", roles="handler"))
    taken = take.take_next(db, staff=checker, now=NOW)
    assert taken.reference == spot.reference
    service.act(db, reference=spot.reference, action="reject", actor=checker, expected_version=taken.version,
                reason_code="commitment_false", now=NOW)
    revoked = db.exec(select(AuditEvent).where(AuditEvent.action == "survivor.revoked")).one()
    assert json.loads(revoked.detail)["to_repay"] == "36802.84"
    told = db.exec(select(Notice).where(Notice.recipient_id == claimant.id, Notice.recipient_kind == "person")).all()
    assert any("must be repaid" in n.title and "36802.84" in n.params for n in told)
    assert credit.has_false_commitment(db, subject=credit.Subject("person", claimant.id))


def test_the_subjects_statement_against_a_proposed_listing_is_named_to_whoever_decides_it(db):
    from portal.queue import cases

    account = factories.person_account(db)
    subject = credit.Subject("person", account.person_id)
    proposer = staff_actor(factories.staff(db, name="刘经办", roles="handler"))
    listing = credit.propose_listing(db, actor=proposer, subject=subject, trigger="fraudulent_benefits",
                                     finding="冒领待遇1.2万元", token="l9", now=NOW)
    from tests.queue.helpers import person_actor

    objection = credit.submit_objection(db, actor=person_actor(account), statement="已全额退回，有收据",
                                        listing_id=str(listing.id), token="o9", now=NOW)
    listing_case = db.get(Case, listing.case_id)
    service.refresh_checks(db, case=listing_case, now=NOW)  # as when staff open it
    [check] = [c for c in cases.check_results_of(listing_case) if c["code"] == "listing_proposed"]
    assert check["passed"] and check["params"] == {"references": objection.reference}
