"""/me/flexible through the app: enrolment, the base, paying, gaps, ownership and both languages."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from portal.devtools import demo
from portal.identifiers import make_resident_id
from portal.models import FlexibleBaseChoice, FlexibleEnrolment, PaymentOrder, Person
from tests import factories
from tests.conftest import csrf_token
from tests.helpers import Cast, error_links, field_error, html_lang, new_person, sign_in_person, snapshot
from tests.records.support import NOW, TODAY, flexible, spell
from tests.records.test_flexible import earlier_history, paid_month


def _signed_in(client, db, **who) -> Person:
    number = new_person(db, **who)
    assert sign_in_person(client, number).status_code == 303
    person = db.exec(select(Person).where(Person.id_number == number)).one()
    db.commit()  # SQLite: release the test's transaction before the app writes
    return person


def _post(client, path: str, data: dict):
    token = csrf_token(client.get("/me/flexible").text)
    return client.post(path, data={**data, "csrf_token": token})


def _enrolled(client, db, *, missed=(), **who) -> Person:
    person = _signed_in(client, db, **who)
    flexible(db, person=person, start=date(2026, 1, 1), percents={2025: 60})
    month = date(2026, 1, 1)
    while month <= date(2026, 10, 1):
        if month not in missed:
            paid_month(db, person, month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    db.commit()
    return person


def test_an_eligible_person_sees_the_tiers_and_enrols_with_any_whole_percent(client, db, frozen_clock):
    person = _signed_in(client, db)
    page = client.get("/me/flexible")
    assert page.status_code == 200
    assert 'action="/me/flexible/enrol"' in page.text and 'data-percent="300"' in page.text
    response = _post(client, "/me/flexible/enrol", {"start_month": "2026-12", "base_percent": "85"})
    assert response.status_code == 303 and response.headers["location"] == "/me/flexible"
    enrolment = db.exec(select(FlexibleEnrolment).where(FlexibleEnrolment.person_id == person.id)).one()
    choice = db.exec(select(FlexibleBaseChoice).where(FlexibleBaseChoice.enrolment_id == enrolment.id)).one()
    assert (enrolment.start_month, choice.contribution_year, choice.base_percent) == (date(2026, 12, 1), 2026, 85)
    db.commit()
    assert 'id="current-percent">85%' in client.get("/me/flexible").text


def test_a_percent_out_of_bounds_is_refused_at_the_field_with_the_value_kept_and_nothing_saved(
        client, engine, db, frozen_clock):
    _signed_in(client, db)
    before = snapshot(engine)
    for bad in ("59", "301", "ten", "80.5"):
        response = _post(client, "/me/flexible/enrol", {"start_month": "2026-11", "base_percent": bad})
        assert response.status_code == 422
        assert error_links(response.text) == ["base_percent"]
        assert "60" in field_error(response.text, "base_percent")
        assert f'value="{bad}"' in response.text
    assert snapshot(engine) == before


def test_a_person_past_the_statutory_retirement_month_is_told_why_they_cannot_enrol(client, engine, db, frozen_clock):
    _signed_in(client, db, birth=date(1960, 2, 1))
    page = client.get("/me/flexible?lang=en")
    assert 'id="not-eligible"' in page.text and "statutory retirement age" in page.text
    assert 'action="/me/flexible/enrol"' not in page.text
    before = snapshot(engine)
    response = _post(client, "/me/flexible/enrol", {"start_month": "2026-11", "base_percent": "60"})
    assert response.status_code == 409 and "statutory retirement age" in response.text
    assert snapshot(engine) == before


def test_a_person_with_an_open_employment_is_told_to_end_it_first(client, db, frozen_clock):
    person = _signed_in(client, db)
    spell(db, person=person, start=date(2024, 1, 1))
    db.commit()
    page = client.get("/me/flexible?lang=en")
    assert 'id="not-eligible"' in page.text and "insured through an employer" in page.text


def test_the_base_for_this_or_next_year_is_changed_within_bounds(client, db, frozen_clock):
    person = _enrolled(client, db)
    refused = _post(client, "/me/flexible/base", {"contribution_year": "2026", "base_percent": "350"})
    assert refused.status_code == 422 and error_links(refused.text) == ["base_percent"]
    response = _post(client, "/me/flexible/base", {"contribution_year": "2027", "base_percent": "120"})
    assert response.status_code == 303
    enrolment = db.exec(select(FlexibleEnrolment).where(FlexibleEnrolment.person_id == person.id)).one()
    assert db.exec(select(FlexibleBaseChoice.base_percent).where(
        FlexibleBaseChoice.enrolment_id == enrolment.id, FlexibleBaseChoice.contribution_year == 2027)).one() == 120


def test_paying_a_month_creates_an_order_and_shows_how_to_pay(client, db, frozen_clock):
    person = _enrolled(client, db)
    response = _post(client, "/me/flexible/pay", {"period": "month", "month": "2026-11"})
    assert response.status_code == 303
    order = db.exec(select(PaymentOrder).where(PaymentOrder.payer_id == person.id)).one()
    db.commit()
    assert response.headers["location"] == f"/me/flexible/orders/{order.reference}"
    page = client.get(response.headers["location"])
    assert page.status_code == 200 and f"portal dev pay {order.reference}" in page.text
    year = client.get("/me/flexible").text
    assert 'data-month="2026-11" data-state="ordered"' in year


def test_a_bad_payment_choice_is_refused_at_its_fields(client, engine, db, frozen_clock):
    _enrolled(client, db)
    before = snapshot(engine)
    response = _post(client, "/me/flexible/pay", {"period": "decade", "month": "2019-01"})
    assert response.status_code == 422 and error_links(response.text) == ["period", "month"]
    assert snapshot(engine) == before


def test_missed_months_are_listed_with_whether_they_can_be_paid_and_what_paying_adds(client, db, frozen_clock):
    person = _enrolled(client, db, missed={date(2026, 3, 1), date(2026, 8, 1)})
    earlier_history(db, person)
    db.commit()
    page = client.get("/me/flexible?lang=en").text
    assert 'data-month="2026-03" data-allowed="no"' in page and 'data-month="2026-08" data-allowed="yes"' in page
    assert 'id="late-fee-explanation"' in page
    assert "If you pay the 1 missed month you still can" in page and "a month more" in page


def test_the_page_says_plainly_when_paying_does_not_raise_the_pension(client, db, frozen_clock):
    # A woman born in 1975 with a record from 2026 stays short of the minimum period with or without the month.
    _enrolled(client, db, missed={date(2026, 8, 1)}, id_number=make_resident_id("220102", date(1975, 6, 1), 124),
              birth=date(1975, 6, 1))
    page = client.get("/me/flexible?lang=en").text
    assert "Paying these months does not increase your estimated pension." in page


def test_the_demo_flexible_worker_sees_her_missed_months_on_the_page(client, db, frozen_clock, cheap_hashing):
    demo.seed(session=db, now=NOW, today=TODAY)
    db.commit()
    assert sign_in_person(client, "220104197908200226", password="Jilin-Demo-2026").status_code == 303
    page = client.get("/me/flexible").text
    for month in ("2022-04", "2022-05", "2022-06", "2025-02"):
        assert f'data-month="{month}" data-allowed="no"' in page


def test_another_persons_order_is_not_found_and_other_kinds_of_account_are_refused(client, app, db, frozen_clock):
    owner = factories.person(db)
    flexible(db, person=owner, start=date(2026, 1, 1))
    order = PaymentOrder(reference="JLP20261128AAAAAAAAAA", payer_kind="person", payer_id=owner.id,
                         contributions_fen=100, late_fee_fen=0, amount_fen=100, pay_by=TODAY, created_at=NOW)
    db.add(order)
    cast = Cast(db)
    assert cast.browser(app, "person").get(f"/me/flexible/orders/{order.reference}").status_code == 404
    assert cast.browser(app, "employer").get("/me/flexible").status_code == 403
    assert client.get("/me/flexible").status_code == 303  # signed out: sign in first


def test_the_page_speaks_both_languages(client, db, frozen_clock):
    _enrolled(client, db)
    english = client.get("/me/flexible?lang=en").text
    assert html_lang(english) == "en" and "Flexible worker contributions" in english and "November 2026" in english
    chinese = client.get("/me/flexible?lang=zh_CN").text
    assert html_lang(chinese) == "zh-CN" and "2026年11月" in chinese


def test_a_missed_month_is_shown_at_its_contribution_without_a_late_fee_and_says_why_in_both_languages(
        client, db, frozen_clock):
    _enrolled(client, db, missed={date(2026, 8, 1)})
    english = client.get("/me/flexible?lang=en").text
    assert 'data-late-fee="not-charged"' in english and "No late fee is charged on months you pay late" in english
    assert "Late fee to today (yuan)" not in english
    chinese = client.get("/me/flexible?lang=zh_CN").text
    assert "不加收滞纳金" in chinese and "滞纳金（元）" not in chinese
