"""A payment order's date is a real day from today to the end of next month, at every door: the bills page (shown
and posted), and the service that makes orders. Nothing out of range is replaced by today in silence."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from portal.errors import ValidationFailed
from portal.models import PaymentOrder
from portal.services import billing
from portal.web.parse import form_date, form_month
from tests.helpers import error_links, field_error, sign_in_operator, snapshot, token_from
from tests.records.support import NOW, employer_actor
from tests.records.test_bills_page import OCTOBER, TODAY, employer_in_arrears

REFUSED = ("9999-12-31", "2025-02-30", "2026-11-27", "2027-01-01", "next friday", "2026-12-1")


def test_the_latest_payment_date_is_the_end_of_next_month():
    assert billing.latest_pay_on(TODAY) == date(2026, 12, 31)
    assert billing.latest_pay_on(date(2027, 1, 31)) == date(2027, 2, 28)
    assert billing.pay_on_problem(date(2026, 12, 31), TODAY) is None
    assert billing.pay_on_problem(date(2027, 1, 1), TODAY).params == {"last": "2026-12-31"}


@pytest.mark.parametrize("typed", REFUSED)
def test_the_one_date_parser_refuses_unreal_and_out_of_range_dates_at_the_field(typed):
    with pytest.raises(ValidationFailed) as refused:
        form_date(typed, "pay_on", low=TODAY, high=date(2026, 12, 31))
    assert set(refused.value.errors) == {"pay_on"}
    assert form_date(" 2026-12-31 ", "pay_on", low=TODAY, high=date(2026, 12, 31)) == date(2026, 12, 31)


@pytest.mark.parametrize("typed", ["2026-13", "26-11", "2027-01", "2020-01", "November"])
def test_the_month_parser_refuses_months_outside_its_bounds(typed):
    with pytest.raises(ValidationFailed):
        form_month(typed, "start_month", low=date(2021, 1, 1), high=date(2026, 12, 1))
    assert form_month("2026-12", "start_month", low=date(2021, 1, 1), high=date(2026, 12, 1)) == date(2026, 12, 1)


def test_the_service_makes_no_order_for_a_date_past_or_beyond_the_bound(db):
    operator, _employer, bills = employer_in_arrears(db)
    for pay_on in (date(9999, 12, 31), date(2026, 11, 27), date(2027, 1, 1)):
        with pytest.raises(ValidationFailed) as refused:
            billing.create_payment_order(db, actor=employer_actor(operator), bill_ids=[bills[OCTOBER].id],
                                         pay_on=pay_on, now=NOW)
        assert set(refused.value.errors) == {"pay_on"}
    assert db.exec(select(PaymentOrder)).all() == []


@pytest.mark.parametrize("typed", REFUSED)
def test_the_bills_page_refuses_the_date_keeps_what_was_typed_and_orders_nothing(client, engine, db, frozen_clock,
                                                                                 typed):
    operator, employer, bills = employer_in_arrears(db)
    sign_in_operator(client, operator, employer.credit_code)
    shown = client.get("/employer/bills?lang=en", params={"pay_on": typed})
    assert error_links(shown.text) == ["pay_on"]
    assert f'value="{typed}"' in shown.text
    before = snapshot(engine)
    token = token_from(client, "/employer/bills")
    posted = client.post("/employer/bills/pay?lang=en", data={"csrf_token": token, "pay_on": typed,
                                                             "bill": [str(bills[OCTOBER].id)]})
    assert posted.status_code == 422
    assert field_error(posted.text, "pay_on")
    assert snapshot(engine) == before


@pytest.mark.parametrize("typed", ["2026-13", "2027-01", "1990-01", "九月"])
def test_the_employee_forms_refuse_a_month_out_of_bounds_at_the_field_keeping_what_was_typed(client, app, db,
                                                                                            frozen_clock, typed):
    from tests.conftest import csrf_token
    from tests.records.test_employer_pages import NEW_NUMBER, Firm

    firm = Firm(db)
    firm.sign_in(client)
    before = snapshot(app.state.engine)
    token = csrf_token(client.get("/employer/employees?lang=en").text)
    added = client.post("/employer/employees", data={"csrf_token": token, "id_number": NEW_NUMBER, "name": "周明",
                                                     "start_month": typed, "wage": "6200"})
    assert added.status_code == 422 and error_links(added.text) == ["start_month"]
    assert f'value="{typed}"' in added.text
    ended = client.post(f"/employer/employees/{firm.spell_ids[0]}/end?lang=en",
                        data={"csrf_token": token, "end_month": typed, "reason": "resigned"})
    assert ended.status_code == 422 and error_links(ended.text) == ["end_month"]
    assert snapshot(app.state.engine) == before
