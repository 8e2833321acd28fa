"""At the counter, staff file the retirement claim and the survivors' claim for the person in front of them: the same
requests as online, signed on paper, and never handled by the member of staff who filed them."""

from __future__ import annotations

import json
from datetime import date

from sqlmodel import select

from portal.models import Case, CaseAttachment, RetirementClaim
from portal.services import survivors
from portal.services.commitments import Offer
from portal.services.person_requests import at_counter, online
from tests import factories
from tests.benefits.support import CARD, NOW, PDF, TODAY, awarded, retiree
from tests.conftest import csrf_token
from tests.helpers import sign_in_staff
from tests.queue.helpers import person_actor, staff_actor


def test_staff_file_a_retirement_claim_at_the_counter_which_another_member_of_staff_decides(db, client, frozen_clock):
    person, _ = retiree(db)
    staff = factories.staff(db, roles="handler")
    number = person.id_number
    db.commit()
    assert sign_in_staff(client, staff).status_code == 303
    page = client.get("/staff/counter/benefits")
    fields = {"csrf_token": csrf_token(page.text), "token": "counter-r1", "claim_id_number": number,
              "retirement_month": "2026-07", "claim_bank_code": "ICBC", "claim_card_number": CARD}
    unsigned = client.post("/staff/counter/benefits/retirement", data=fields)
    assert unsigned.status_code == 422 and 'id="field-claim_signed-error"' in unsigned.text
    assert number in unsigned.text  # what was typed is kept
    db.expire_all()
    assert db.exec(select(RetirementClaim)).all() == []  # nothing of the refused claim is kept
    db.rollback()
    done = client.post("/staff/counter/benefits/retirement", data=fields | {"claim_signed": "yes"})
    assert done.status_code == 303
    db.expire_all()
    case = db.exec(select(Case).where(Case.kind == "retirement_claim")).one()
    payload = json.loads(case.payload)
    assert (case.channel, case.counter_staff_id) == ("counter", staff.id)
    assert payload["commitment"]["signed_on_paper"] and payload["retirement_month"] == "2026-07"
    assert db.exec(select(RetirementClaim.state)).one() == "submitted"
    db.rollback()


def test_a_brother_claims_at_the_counter_as_the_heir_with_the_documents_seen(db):
    person, actor = retiree(db)
    awarded(db, actor, today=date(2026, 6, 15))
    brother = factories.person(db, name="王大明", birth=date(1962, 1, 20))
    staff = staff_actor(factories.staff(db, roles="handler"))
    survivors.report_death(db, reporter=None, id_number=person.id_number, date_of_death="2026-09-03",
                           relationship="", actor=staff, now=NOW, today=TODAY,
                           staff_id=staff.principal.account_id)
    filing = at_counter(db, staff=staff, id_number=brother.id_number, today=TODAY)
    case = survivors.submit_claim(db, filing=filing, id_number=person.id_number, relationship="sibling",
                                  bank_code="BOC", card_number=CARD, mode="", signed_on_paper=True, token="s1",
                                  now=NOW, today=TODAY)
    payload = json.loads(case.payload)
    assert (payload["kinship"], payload["relationship"]) == ("seen_at_counter", "sibling")
    assert payload["commitment"]["signed_on_paper"]
    checks = {check["code"]: check["passed"] for check in json.loads(case.check_results)}
    assert checks["kinship"] and checks["death_reported"]
    assert case.counter_staff_id == staff.principal.account_id


def test_a_claim_at_the_counter_carries_the_death_certificate_the_family_attached_online(db):
    person, actor = retiree(db)
    awarded(db, actor, today=date(2026, 6, 15))
    child = factories.person_account(db, name="王小华", birth=date(1990, 5, 6))
    reporter = online(db, actor=person_actor(child))
    survivors.report_death(db, reporter=reporter.person, id_number=person.id_number, date_of_death="2026-09-03",
                           offer=Offer(mode="proof", uploads=(PDF,)), relationship="child",
                           actor=reporter.actor, now=NOW, today=TODAY)
    staff = staff_actor(factories.staff(db, roles="handler"))
    filing = at_counter(db, staff=staff, id_number=reporter.person.id_number, today=TODAY)
    case = survivors.submit_claim(db, filing=filing, id_number=person.id_number, relationship="child",
                                  bank_code="BOC", card_number=CARD, mode="", signed_on_paper=True, token="s1",
                                  now=NOW, today=TODAY)
    stored = db.exec(select(CaseAttachment).where(CaseAttachment.case_id == case.id)).one()
    assert (stored.filename, stored.content) == (PDF.filename, PDF.content)
