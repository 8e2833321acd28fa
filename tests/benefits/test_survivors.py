"""A death reported with its certificate, and who may claim the survivors' benefits: the spouse, a child or a parent,
with the kinship committed to through the catalogue's notice or proven with documents."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date
from html import unescape

import pytest
from sqlmodel import select

from portal.devtools.essc_provider import Cardholder
from portal.errors import NotFound, ValidationFailed
from portal.identifiers import make_resident_id
from portal.models import (
    Case,
    CaseAttachment,
    CommitmentEvidence,
    DeathCertificate,
    DeathReport,
    PensionAward,
)
from portal.policy import commitments as catalogue
from portal.queue.attachments import MAX_BYTES, Upload
from portal.services import commitments, credit, survivors
from portal.services.person_requests import online
from tests import factories
from tests import trust_support as trust
from tests.benefits.support import CARD, KINSHIP, NOW, PDF, TODAY, awarded, retiree
from tests.essc_support import HIDDEN, CardBrowser, served
from tests.queue.helpers import person_actor

JUNE = date(2026, 6, 15)


def pensioner_and_child(db, *, child_birth=date(1990, 5, 6)):
    person, actor = retiree(db)
    awarded(db, actor, today=JUNE)
    child = factories.person_account(db, name="王小华", birth=child_birth)
    return person, online(db, actor=person_actor(child))


def with_face(filing):
    """The same filing from a session signed in with the card and its face check."""
    principal = replace(filing.actor.principal, assurance="face")
    return replace(filing, actor=replace(filing.actor, principal=principal))


def report(db, person, family, *, offer=None, by=None, **given):
    """The family member reports the death: by default committing to it from a face-checked session."""
    fields = dict(relationship="child") | given
    return survivors.report_death(db, reporter=family.person, id_number=person.id_number, date_of_death="2026-09-03",
                                  offer=offer or trust.offer("death_report"), actor=(by or with_face(family)).actor,
                                  now=NOW, today=TODAY, **fields)


def with_certificate(upload=PDF):
    return trust.offer("death_report", mode="proof", uploads=(upload,) if upload else ())


def claim(db, person, family, **given):
    fields = dict(relationship="child", bank_code="BOC", card_number=CARD, mode="commit", token="c1",
                  notice_version="2021-01-01") | given
    return survivors.submit_claim(db, filing=family, id_number=person.id_number, now=NOW, today=TODAY, **fields)


def test_a_death_reported_with_its_certificate_keeps_the_document_for_the_reporter_alone(db):
    person, family = pensioner_and_child(db)
    reported = report(db, person, family, offer=with_certificate(), by=family)  # no face check needed to prove
    assert reported.evidence == "certificate" and db.exec(select(CommitmentEvidence)).all() == []
    stored = db.exec(select(DeathCertificate)).one()
    assert (stored.death_report_id, stored.content_type, stored.content) == (reported.id, "application/pdf",
                                                                              PDF.content)
    assert stored.filename == "死亡证明.pdf"
    assert survivors.reported_certificate(db, reporter=family.person, report_id=reported.id) == stored
    stranger = factories.person(db, name="李四", birth=date(1985, 1, 1))
    with pytest.raises(NotFound):
        survivors.reported_certificate(db, reporter=stranger, report_id=reported.id)


@pytest.mark.parametrize(("upload", "message"), [
    (None, "Attach the documents that prove it"),
    (Upload("死亡证明.pdf", b"MZ\x90\x00 not a pdf at all"), "is not a PDF, JPEG or PNG"),
    (Upload("death.png", b"GIF89a......"), "is not a PDF, JPEG or PNG"),
    (Upload("death.pdf", b"%PDF-" + b"0" * MAX_BYTES), "is larger than"),
    (Upload("death.pdf", b""), "is empty"),
], ids=["missing", "an executable named .pdf", "a GIF named .png", "too large", "empty"])
def test_a_death_certificate_is_checked_by_content_and_size_and_a_refused_one_changes_nothing(db, upload, message):
    person, family = pensioner_and_child(db)
    with pytest.raises(ValidationFailed) as refused:
        report(db, person, family, offer=with_certificate(upload))
    assert message in refused.value.errors["attachment"].text
    assert db.exec(select(DeathReport)).all() == [] and db.exec(select(DeathCertificate)).all() == []
    assert db.exec(select(PensionAward.stopped_after)).one() is None  # the pension goes on


def test_a_child_commits_to_the_kinship_with_the_face_check_and_the_certificate_goes_with_the_claim(db):
    person, family = pensioner_and_child(db)
    report(db, person, family, offer=with_certificate())
    case = claim(db, person, with_face(family))
    payload = json.loads(case.payload)
    assert (payload["relationship"], payload["kinship"], payload["death_certificate"]) == ("child", "commitment",
                                                                                           "attached")
    assert payload["commitment"]["item"] == "survivor_kinship"
    evidence = db.exec(select(CommitmentEvidence).where(CommitmentEvidence.case_id == case.id)).one()
    assert evidence.item == "survivor_kinship"
    documents = db.exec(select(CaseAttachment).where(CaseAttachment.case_id == case.id)).all()
    assert [(row.filename, row.content) for row in documents] == [("死亡证明.pdf", PDF.content)]
    checks = {check["code"]: check["passed"] for check in json.loads(case.check_results)}
    assert checks["death_reported"] and checks["kinship"]
    # The same form sent again files nothing and attaches nothing twice.
    assert claim(db, person, with_face(family)).id == case.id
    assert len(db.exec(select(CaseAttachment).where(CaseAttachment.case_id == case.id)).all()) == 1


def test_a_claimant_who_may_not_commit_must_attach_proof_of_kinship(db):
    person, family = pensioner_and_child(db)
    report(db, person, family)
    subject = credit.Subject("person", family.person.id)
    for day in (date(2026, 3, 1), date(2026, 4, 1)):
        credit.record_event(db, subject=subject, kind="false_commitment", occurred_on=day, now=NOW)
    with pytest.raises(ValidationFailed) as refused:
        claim(db, person, with_face(family))
    assert set(refused.value.errors) == {"mode"}
    with pytest.raises(ValidationFailed) as refused:
        claim(db, person, family, mode="proof")
    assert "Attach the documents that prove it" in refused.value.errors["attachment"].text
    case = claim(db, person, family, mode="proof", uploads=[KINSHIP])
    assert json.loads(case.payload)["kinship"] == "documents"
    stored = db.exec(select(CaseAttachment).where(CaseAttachment.case_id == case.id)).one()
    assert (stored.content_type, stored.filename) == ("image/jpeg", "户口簿.jpg")


def test_a_death_committed_to_needs_the_card_face_check_and_keeps_its_evidence_on_the_report(db):
    person, family = pensioner_and_child(db)
    with pytest.raises(ValidationFailed) as refused:  # signed in with the password: the step-up is asked for
        report(db, person, family, by=family)
    assert set(refused.value.errors) == {"mode"} and commitments.needs_face(refused.value)
    assert db.exec(select(DeathReport)).all() == [] and db.exec(select(CommitmentEvidence)).all() == []
    assert db.exec(select(PensionAward.stopped_after)).one() is None  # the pension goes on
    reported = report(db, person, family)
    assert reported.evidence == "commitment"
    evidence = db.exec(select(CommitmentEvidence)).one()
    assert (evidence.case_id, evidence.record_kind, evidence.record_id) == (None, "death_report", reported.id)
    assert (evidence.item, evidence.confirmed_by, evidence.subject_id) == ("death_report", "essc_face",
                                                                           family.person.id)
    assert evidence.notice_sha256 == catalogue.notice("death_report", TODAY).sha256
    assert report(db, person, family).id == reported.id  # sent again: one report, one evidence
    assert len(db.exec(select(CommitmentEvidence)).all()) == 1


def test_a_reporter_who_may_not_commit_attaches_the_death_certificate(db):
    person, family = pensioner_and_child(db)
    for day in (date(2026, 3, 1), date(2026, 4, 1)):
        credit.record_event(db, subject=credit.Subject("person", family.person.id), kind="false_commitment",
                            occurred_on=day, now=NOW)
    with pytest.raises(ValidationFailed) as refused:
        report(db, person, family)
    assert "cannot commit instead of proving" in refused.value.errors["mode"].text
    assert db.exec(select(DeathReport)).all() == []
    assert report(db, person, family, offer=with_certificate()).evidence == "certificate"


def test_staff_deciding_the_claim_see_the_evidence_of_the_death_committed_to(client, db, frozen_clock):
    from types import SimpleNamespace

    from tests.helpers import sign_in_staff

    person, family = pensioner_and_child(db)
    report(db, person, family)
    case = claim(db, person, with_face(family))
    staff = factories.staff(db, name="刘经办", roles="handler")
    reference, signing_in = case.reference, SimpleNamespace(staff_number=staff.staff_number,
                                                           totp_secret=staff.totp_secret)
    db.commit()
    sign_in_staff(client, signing_in)
    page = client.get(f"/staff/cases/{reference}?lang=en")
    assert page.status_code == 200
    shown = page.text[page.text.index("Evidence of the commitment in the death report"):]
    assert catalogue.notice("death_report", TODAY).sha256 in shown
    assert catalogue.notice("survivor_kinship", TODAY).sha256 in page.text  # the claim's own commitment too


def test_a_death_reported_on_the_page_by_committing_asks_for_the_face_check_and_keeps_what_was_typed(
        client, db, frozen_clock):
    from tests.helpers import sign_in_person

    person, family = pensioner_and_child(db)
    deceased, reporter = person.id_number, family.person.id_number
    account_id = family.actor.principal.account_id
    db.commit()
    sign_in_person(client, reporter)
    page = client.get("/me/claims/survivor?lang=en")
    assert 'id="death_commitment-step-up"' in page.text and 'name="password"' not in page.text
    typed = {"id_number": deceased, "date_of_death": "2026-09-03", "relationship": "child",
             **trust.person_commit_fields("death_report", prefix="death_")}
    asked = client.post("/me/claims/survivor/death", data=hidden_fields(page.text, "/me/claims/survivor/death") | typed)
    assert asked.status_code == 303
    assert asked.headers["location"] == "/auth/essc/login?face=1&next=%2Fme%2Fclaims%2Fsurvivor"
    assert db.exec(select(DeathReport)).all() == []
    trust.face_checked(db, account_id=account_id)
    again = client.get("/me/claims/survivor?lang=en")
    assert f'value="{deceased}"' in again.text and 'id="death_commitment-face"' in again.text
    sent = client.post("/me/claims/survivor/death", data=hidden_fields(again.text, "/me/claims/survivor/death")
                       | typed)
    assert sent.status_code == 303
    db.expire_all()
    reported = db.exec(select(DeathReport)).one()
    evidence = db.exec(select(CommitmentEvidence)).one()
    assert (reported.evidence, evidence.record_id, evidence.confirmed_by) == ("commitment", reported.id,
                                                                              "essc_face")
    db.commit()  # the test's read ends before the app writes
    shown = client.get("/me/claims/survivor?lang=en")
    assert f'id="death-evidence-{reported.id}"' in shown.text


@pytest.mark.parametrize(("relationship", "child_birth", "message"), [
    ("sibling", date(1968, 5, 6), "claimed by the spouse, a child or a parent"),
    ("other", date(1990, 5, 6), "claimed by the spouse, a child or a parent"),
    ("child", date(1950, 5, 6), "do not fit the relationship"),
    ("parent", date(1990, 5, 6), "do not fit the relationship"),
    ("cousin", date(1990, 5, 6), "Choose how you are related"),
], ids=["a brother", "another relative", "a child older than the parent", "a parent younger than the child",
        "a relationship not on the list"])
def test_only_a_spouse_child_or_parent_whose_dates_of_birth_fit_may_claim_online(db, relationship, child_birth,
                                                                                  message):
    person, family = pensioner_and_child(db, child_birth=child_birth)
    report(db, person, family, relationship="sibling" if relationship == "sibling" else "child")
    with pytest.raises(ValidationFailed) as refused:
        claim(db, person, with_face(family), relationship=relationship)
    assert message in refused.value.errors["relationship"].text


def test_the_deceased_cannot_be_claimed_for_by_their_own_account(db):
    person, actor = retiree(db)
    awarded(db, actor, today=JUNE)
    own = online(db, actor=actor)
    with pytest.raises(ValidationFailed) as refused:
        claim(db, person, with_face(own), relationship="spouse")
    assert "deceased" in refused.value.errors


# --- through a live portal ------------------------------------------------------------------------------------------

PENSIONER = make_resident_id("220102", date(1966, 3, 10), 11)
CHILD = make_resident_id("220102", date(1990, 5, 6), 13)
NEIGHBOUR = make_resident_id("220102", date(1970, 8, 9), 15)


@pytest.fixture(scope="session")
def key_path(tmp_path_factory):
    return tmp_path_factory.mktemp("essc-survivors") / "stand_in_key.json"


@pytest.fixture
def card(settings, db, key_path):
    holders = (Cardholder(PENSIONER, "王小明"), Cardholder(CHILD, "王小华"), Cardholder(NEIGHBOUR, "赵邻居"))
    with served(settings, key_path=key_path, cardholders=holders) as (base, _app):
        visitor, other = CardBrowser(base), CardBrowser(base)
        yield visitor, other
        visitor.close()
        other.close()


def hidden_fields(html: str, action: str) -> dict:
    start = html.index(f'action="{action}"')
    return {name: unescape(value) for name, value in HIDDEN.findall(html[start:html.index("</form>", start)])}


def test_a_child_reports_with_the_certificate_downloads_it_and_claims_committing_to_the_kinship(db, card):
    card, neighbour = card
    person, actor = retiree(db, id_number=PENSIONER)
    awarded(db, actor, today=JUNE)
    factories.person_account(db, name="王小华", birth=date(1990, 5, 6), id_number=CHILD, mobile="13900000002")
    factories.person_account(db, name="赵邻居", birth=date(1970, 8, 9), id_number=NEIGHBOUR, mobile="13900000003")
    db.commit()
    card.sign_in(CHILD, face=True)
    page = card.get("/me/claims/survivor")
    assert 'id="death_commitment-title"' in page.text and 'name="password"' not in page.text
    death = hidden_fields(page.text, "/me/claims/survivor/death") | {
        "id_number": PENSIONER, "date_of_death": "2026-09-03", "relationship": "child", "death_mode": "proof"}
    disguised = card.post("/me/claims/survivor/death", death,
                          files={"death_attachment": ("死亡证明.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")})
    assert disguised.status_code == 422 and 'id="field-death_attachment-error"' in disguised.text
    assert PENSIONER in disguised.text  # what was typed is kept
    reported = card.post("/me/claims/survivor/death", hidden_fields(disguised.text, "/me/claims/survivor/death")
                         | death, files={"death_attachment": (PDF.filename, PDF.content, "application/pdf")})
    assert reported.status_code == 303
    page = card.get("/me/claims/survivor")
    link = re.search(r'href="(/me/claims/survivor/death/\d+/certificate)"', page.text)
    assert link is not None
    document = card.get(link.group(1))
    assert (document.status_code, document.content) == (200, PDF.content)
    assert document.headers["x-content-type-options"] == "nosniff"
    assert document.headers["content-type"] == "application/pdf"
    claim_form = hidden_fields(page.text, "/me/claims/survivor")
    brother = card.post("/me/claims/survivor", claim_form | {
        "claim_relationship": "sibling", "bank_code": "BOC", "card_number": CARD, "mode": "commit"})
    assert brother.status_code == 422 and 'id="field-claim_relationship-error"' in brother.text
    sent = card.post("/me/claims/survivor", hidden_fields(brother.text, "/me/claims/survivor") | {
        "claim_relationship": "child", "bank_code": "BOC", "card_number": CARD, "mode": "commit"})
    assert sent.status_code == 303 and "/me/requests/" in sent.headers["location"]
    db.expire_all()
    case = db.exec(select(Case).where(Case.kind == "survivor_claim")).one()
    assert json.loads(case.payload)["kinship"] == "commitment"
    assert db.exec(select(CaseAttachment.filename).where(CaseAttachment.case_id == case.id)).all() == [PDF.filename]
    db.rollback()
    # Someone else signed in cannot fetch the certificate.
    assert neighbour.sign_in(NEIGHBOUR, face=True).status_code == 303
    assert neighbour.get(link.group(1)).status_code == 404


def test_a_spouse_finds_the_death_the_child_reported_and_claims(db, card):
    card, spouse = card
    person, actor = retiree(db, id_number=PENSIONER)
    awarded(db, actor, today=JUNE)
    child = factories.person_account(db, name="王小华", birth=date(1990, 5, 6), id_number=CHILD, mobile="13900000002")
    factories.person_account(db, name="赵邻居", birth=date(1970, 8, 9), id_number=NEIGHBOUR, mobile="13900000003")
    family = online(db, actor=person_actor(child))
    report(db, person, family)
    db.commit()
    assert spouse.sign_in(NEIGHBOUR, face=True).status_code == 303
    unknown = spouse.get("/me/claims/survivor", params={"lookup": CHILD})  # alive: no death recorded
    assert 'id="field-lookup-error"' in unknown.text
    assert 'method="post" action="/me/claims/survivor"' not in unknown.text
    page = spouse.get("/me/claims/survivor", params={"lookup": PENSIONER})
    assert page.status_code == 200 and 'id="survivor-figures"' in page.text
    assert 'id="death-evidence-' in page.text  # reported with a commitment confirmed by the card's face check
    assert 'id="supervision-title"' in page.text  # how the claim will be checked, before it is sent
    fields = hidden_fields(page.text, "/me/claims/survivor")
    assert fields["deceased"] == PENSIONER
    sent = spouse.post("/me/claims/survivor", fields | {"claim_relationship": "spouse", "bank_code": "BOC",
                                                        "card_number": CARD, "mode": "commit"})
    assert sent.status_code == 303 and "/me/requests/" in sent.headers["location"]
    db.expire_all()
    case = db.exec(select(Case).where(Case.kind == "survivor_claim")).one()
    assert json.loads(case.payload)["relationship"] == "spouse"
    db.rollback()
