"""The pensioner's pages through a live portal, signing the claim and the certification with the card's face check."""

from __future__ import annotations

from datetime import date
from html import unescape

import pytest

from portal.devtools.essc_provider import Cardholder
from portal.identifiers import make_resident_id
from portal.models import LifeCertification
from portal.policy.money import from_fen
from portal.services import claims, payroll
from tests.benefits.support import CARD, NOW, awarded, retiree
from tests.essc_support import HIDDEN, CardBrowser, served


@pytest.fixture(scope="session")
def key_path(tmp_path_factory):
    return tmp_path_factory.mktemp("essc-benefits") / "stand_in_key.json"


# Cardholders the stand-in provider knows: the pensioner of these tests and a family member.
PENSIONER = make_resident_id("220102", date(1966, 3, 10), 11)
CHILD = make_resident_id("220102", date(1990, 5, 6), 13)


@pytest.fixture
def card(settings, db, key_path):
    holders = (Cardholder(PENSIONER, "王小明"), Cardholder(CHILD, "王小华"))
    with served(settings, key_path=key_path, cardholders=holders) as (base, _app):
        visitor = CardBrowser(base)
        yield visitor
        visitor.close()


def form_fields(html: str, action: str) -> dict:
    """The hidden fields of the form posting to ``action``."""
    start = html.index(f'action="{action}"')
    end = html.index("</form>", start)
    return {name: unescape(value) for name, value in HIDDEN.findall(html[start:end])}


def test_a_person_saves_a_draft_reads_the_what_if_and_claims_after_a_face_check(db, card):
    person, _ = retiree(db, id_number=PENSIONER)
    person_id = person.id
    db.commit()
    signed = card.sign_in(PENSIONER)  # a card sign-in without the face check
    assert signed.status_code == 303, signed.text[signed.text.find("<main"):][:1500]
    page = card.get("/me/claims/retirement")
    assert page.status_code == 200, page.headers.get("location")
    assert 'id="what-if"' in page.text and "<svg" in page.text
    saved = card.post("/me/claims/retirement/draft", form_fields(page.text, "/me/claims/retirement/draft")
                         | {"retirement_month": "2026-07"})
    assert saved.status_code == 303
    page = card.get("/me/claims/retirement")
    assert 'id="claim-date"' in page.text
    fields = form_fields(page.text, "/me/claims/retirement") | {"bank_code": "ICBC", "card_number": CARD,
                                                                 "commitment": "yes"}
    asked = card.post("/me/claims/retirement", fields, headers={"referer": card.base + "/me/claims/retirement"})
    assert asked.status_code == 303 and "/auth/essc/login?face=1" in asked.headers["location"]
    db.expire_all()
    assert claims.open_claim(db, person_id=person_id).state == "draft"  # nothing was submitted without the face check
    db.rollback()  # every read ends its transaction: the live server writes to the same database
    card.sign_in(PENSIONER, face=True)
    page = card.get("/me/claims/retirement")
    assert f'value="{CARD}"' in page.text  # back from the face check, the form is filled in as it was sent
    fields = form_fields(page.text, "/me/claims/retirement") | {"bank_code": "ICBC", "card_number": CARD,
                                                                 "commitment": "yes"}
    sent = card.post("/me/claims/retirement", fields)
    assert sent.status_code == 303 and "/me/requests/" in sent.headers["location"]
    db.expire_all()
    assert claims.open_claim(db, person_id=person_id).state == "submitted"
    db.rollback()


def test_an_overdue_pensioner_is_suspended_certifies_with_the_face_check_and_is_paid_back(db, card):
    person, actor = retiree(db, id_number=PENSIONER)
    award = awarded(db, actor, today=date(2026, 6, 15))
    first = db.exec(LifeCertification.__table__.select()).first()
    db.execute(LifeCertification.__table__.update().values(certified_on=date(2025, 8, 1)))
    payroll.run(db, month=date(2026, 11, 1), now=NOW)
    assert payroll.payments_of(db, person_id=person.id) == []  # overdue since 2026-08: nothing paid
    assert first is not None
    monthly = from_fen(award.monthly_fen)
    db.commit()
    card.sign_in(PENSIONER, face=True)
    page = card.get("/me/certification")
    assert 'data-value="overdue"' in page.text
    done = card.post("/me/certification", form_fields(page.text, "/me/certification"))
    assert done.status_code == 303
    assert 'data-value="certified"' in card.get("/me/certification").text
    db.expire_all()
    paid = payroll.run(db, month=date(2026, 12, 1), now=NOW)
    db.commit()
    assert paid.paid == 6  # 2026-07 to 2026-12: five months back and this one
    assert paid.amount == monthly * 6
    overview = card.get("/me").text
    assert 'id="my-pension"' in overview and 'data-figure="last-payment"' in overview
    assert "2026" in card.get("/me/payments").text
    csv = card.get("/me/payments.csv")
    assert csv.status_code == 200 and csv.text.count("\n") == 7  # the headings and six months
