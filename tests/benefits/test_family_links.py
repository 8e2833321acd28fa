"""Family service (亲情服务): a family member's first certification is a request that, once approved, links them to
the pensioner; from then on they certify for them online without a request. One person acts for a limited number
of pensioners (a parameter)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest
from sqlmodel import select

from portal.errors import NotFound, ValidationFailed
from portal.models import Case, CaseAttachment, CommitmentEvidence, FamilyLink, LifeCertification
from portal.policy.parameters import param
from portal.queue import service as queue
from portal.queue import take
from portal.services import certification, credit
from portal.services.person_requests import online
from tests import factories
from tests import trust_support as trust
from tests.benefits.support import NOW, PDF, TODAY, awarded, retiree
from tests.queue.helpers import person_actor, staff_actor

JUNE = date(2026, 6, 15)
SEEN = "2026-11-27"


def approve(db, case: Case) -> Case:
    handler = staff_actor(factories.staff(db, roles="handler", name="刘经办"))
    taken = take.take_next(db, staff=handler, now=NOW)
    assert taken.id == case.id
    return queue.act(db, reference=case.reference, action="approve", actor=handler, expected_version=taken.version,
                     reason_code="conditions_met", now=NOW)


def pensioner(db, **given):
    person, actor = retiree(db, **given)
    awarded(db, actor, today=JUNE)
    return person


def ask(db, family, person, *, token="f1", offer=None):
    """The family member's first request: committing that the pensioner is alive, from a face-checked session."""
    return certification.submit_family(db, filing=with_face(family), id_number=person.id_number,
                                       relationship="parent", seen_on=SEEN,
                                       offer=offer or trust.offer("family_certification"), token=token, now=NOW,
                                       today=TODAY)


def with_face(filing):
    return replace(filing, actor=trust.face(filing.actor))


def certify(db, child, link, *, seen_on=SEEN, actor=None):
    return certification.certify_linked(db, family=child.person, link_id=link.id, seen_on=seen_on,
                                        notice_version=trust.notice_version("family_certification"),
                                        actor=actor or trust.face(child.actor), now=NOW, today=TODAY)


def test_the_approved_request_links_the_family_member_who_then_certifies_online_without_a_request(db):
    father = pensioner(db)
    child = online(db, actor=person_actor(factories.person_account(db, name="王小华", birth=date(1990, 5, 6))))
    approve(db, ask(db, child, father))
    [(link, linked)] = certification.links_of(db, family_id=child.person.id)
    assert linked.id == father.id and link.relationship == "parent"
    db.execute(LifeCertification.__table__.update().values(certified_on=date(2025, 10, 1)))  # overdue again
    done = certify(db, child, link)
    assert (done.channel, done.by_person_id, done.case_reference) == ("family", child.person.id, link.case_reference)
    assert not certification.status(db, person_id=father.id, today=TODAY).overdue
    assert len(db.exec(select(Case).where(Case.kind == "certification_exception")).all()) == 1  # no new request
    with pytest.raises(ValidationFailed) as refused:
        ask(db, child, father, token="f2")
    assert "linked to this family member already" in refused.value.errors["id_number"].text


def test_the_request_keeps_the_commitment_evidence_on_its_case(db):
    father = pensioner(db)
    child = online(db, actor=person_actor(factories.person_account(db, name="王小华", birth=date(1990, 5, 6))))
    with pytest.raises(ValidationFailed) as refused:  # signed in with the password: no commitment
        certification.submit_family(db, filing=child, id_number=father.id_number, relationship="parent",
                                    seen_on=SEEN, offer=trust.offer("family_certification"), token="p1", now=NOW,
                                    today=TODAY)
    assert set(refused.value.errors) == {"mode"}
    assert db.exec(select(Case).where(Case.kind == "certification_exception")).all() == []
    case = ask(db, child, father)
    evidence = db.exec(select(CommitmentEvidence)).one()
    assert (evidence.case_id, evidence.item, evidence.confirmed_by) == (case.id, "family_certification", "essc_face")
    assert json.loads(case.payload)["commitment"]["item"] == "family_certification"


def test_a_linked_certification_needs_a_recent_visit_and_the_face_checked_commitment_and_is_the_linked_members_alone(
        db):
    father = pensioner(db)
    child = online(db, actor=person_actor(factories.person_account(db, name="王小华", birth=date(1990, 5, 6))))
    approve(db, ask(db, child, father))
    [(link, _)] = certification.links_of(db, family_id=child.person.id)
    with pytest.raises(ValidationFailed) as refused:
        certify(db, child, link, seen_on="2026-11-01")
    assert set(refused.value.errors) == {"seen_on"}
    db.execute(LifeCertification.__table__.update().values(certified_on=date(2025, 10, 1)))  # overdue again
    with pytest.raises(ValidationFailed) as refused:  # the password session is asked for the card's face check
        certify(db, child, link, actor=child.actor)
    assert set(refused.value.errors) == {"mode"}
    assert certification.status(db, person_id=father.id, today=TODAY).overdue
    done = certify(db, child, link)
    evidence = db.exec(select(CommitmentEvidence).where(CommitmentEvidence.record_kind == "life_certification")).one()
    assert (evidence.record_id, evidence.item, evidence.confirmed_by) == (done.id, "family_certification",
                                                                          "essc_face")
    stranger = factories.person(db, name="李四", birth=date(1985, 1, 1))
    with pytest.raises(NotFound):
        certification.certify_linked(db, family=stranger, link_id=link.id, seen_on=SEEN, notice_version="2021-01-01",
                                     actor=trust.face(child.actor), now=NOW, today=TODAY)


def test_a_linked_member_who_may_no_longer_commit_asks_again_with_documents(db):
    father = pensioner(db)
    child = online(db, actor=person_actor(factories.person_account(db, name="王小华", birth=date(1990, 5, 6))))
    approve(db, ask(db, child, father))
    [(link, _)] = certification.links_of(db, family_id=child.person.id)
    for day in (date(2026, 3, 1), date(2026, 4, 1)):
        credit.record_event(db, subject=credit.Subject("person", child.person.id), kind="false_commitment",
                            occurred_on=day, now=NOW)
    with pytest.raises(ValidationFailed) as refused:
        certify(db, child, link)
    assert "cannot commit instead of proving" in refused.value.errors["mode"].text
    proof = trust.offer("family_certification", mode="proof", uploads=(PDF,))
    case = ask(db, child, father, token="f2", offer=proof)
    assert db.exec(select(CaseAttachment).where(CaseAttachment.case_id == case.id)).one().filename == PDF.filename


def test_a_family_certification_found_false_ends_the_link_and_its_certifications(db):
    father = pensioner(db)
    child = online(db, actor=person_actor(factories.person_account(db, name="王小华", birth=date(1990, 5, 6))))
    case = approve(db, ask(db, child, father))
    assert certification.links_of(db, family_id=child.person.id)
    certification.revoke_family(db, case=case, now=NOW)
    assert certification.links_of(db, family_id=child.person.id) == []
    assert db.exec(select(LifeCertification).where(LifeCertification.channel == "family")).all() == []


def test_a_person_acts_for_at_most_the_parameters_number_of_family_members(db):
    most = param("family_service_links_max").at(TODAY).value
    child = online(db, actor=person_actor(factories.person_account(db, name="王小华", birth=date(1990, 5, 6))))
    for n in range(most):
        other = pensioner(db, name=f"王{n}")
        db.add(FamilyLink(pensioner_id=other.id, family_id=child.person.id, relationship="parent",
                          case_reference=f"JL2026010100000{n}", linked_at=NOW))
    db.flush()
    one_more = pensioner(db, name="王加一")
    with pytest.raises(ValidationFailed) as refused:
        ask(db, child, one_more)
    assert refused.value.errors["id_number"].params == {"count": most}
