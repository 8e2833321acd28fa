"""The applicant's page of a request shows what was asked for (months, amounts, reason), as the staff page does."""

from __future__ import annotations

import pytest
from sqlmodel import select

from portal.models.queue import Case
from tests.test_plain_words import _signed_in, seed_demo_world
from tests.visible_text import visible_text


@pytest.fixture
def demo_world(db, frozen_clock, cheap_hashing):
    return seed_demo_world(db)


def _reference(db, kind: str) -> str:
    reference = db.exec(select(Case.reference).where(Case.kind == kind).order_by(Case.id)).first()
    db.commit()
    return reference


@pytest.mark.parametrize(("language", "words"), [
    ("zh_CN", ("你申请的事项", "2023年1月", "2023年3月", "这几个月在长春工作，单位未申报")),
    ("en", ("What you asked for", "January 2023", "March 2023", "这几个月在长春工作，单位未申报")),
])
def test_a_person_sees_the_months_and_the_details_of_their_correction(app, db, demo_world, language, words):
    reference = _reference(db, "enrolment_correction")
    browser = _signed_in(app, demo_world["employee"])
    browser.cookies.set("portal_lang", language)
    page = browser.get(f"/me/requests/{reference}")
    assert page.status_code == 200
    text = visible_text(page.text)
    for word in words:
        assert word in text, word


@pytest.mark.parametrize(("language", "words"), [
    ("zh_CN", ("你申请的事项", "订单减少，资金周转困难", "¥", "2026年10月")),
    ("en", ("What you asked for", "订单减少，资金周转困难", "¥", "October 2026")),
])
def test_an_employer_sees_the_months_amount_and_reason_of_their_deferral(app, db, demo_world, language, words):
    reference = _reference(db, "deferral")
    browser = _signed_in(app, demo_world["clerk"])
    browser.cookies.set("portal_lang", language)
    page = browser.get(f"/employer/requests/{reference}")
    assert page.status_code == 200
    text = visible_text(page.text)
    for word in words:
        assert word in text, word
    # The same partial as the staff page, not a copy: its table of months is there.
    assert 'id="payload-months-caption"' in page.text
