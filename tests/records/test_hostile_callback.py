"""The payment callback answers a signed but malformed confirmation with 400, credits nothing, and audits it."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.services.payments import parse_amount, sign
from tests.records.test_payment_callback import SECRET, body_for, callbacks, pending_order, post, state

BAD_AMOUNTS = ["3272.164", "1E+999999", "1e3", "NaN", "-NaN", "sNaN", "Infinity", "-Infinity", "-5", "+5", "",
               " 5", "5 ", "12.", ".5", "0x10", "9" * 40, "１２", "²", "١٢", "1_000", "1,000"]


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_an_amount_not_exact_at_the_fen_is_not_an_amount(amount):
    assert parse_amount(amount) is None


@pytest.mark.parametrize("amount, expected", [("3272.16", "3272.16"), ("3272.1", "3272.1"), ("0", "0")])
def test_amounts_in_yuan_with_at_most_two_decimals_are_read_exactly(amount, expected):
    assert str(parse_amount(amount)) == expected


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_a_signed_malformed_amount_is_a_400_credits_nothing_and_is_audited(client, db, frozen_clock, amount):
    order = pending_order(db)
    response = post(client, body_for(order, amount=amount))
    assert response.status_code == 400 and response.json() == {"status": "malformed"}
    assert state(db, order) == ("pending", {"open"}, {"billed"}, 0)
    assert callbacks(db)[-1] == {"result": "malformed", "status": 400}


@pytest.mark.parametrize("paid_at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "yesterday", ""])
def test_a_signed_impossible_payment_time_is_a_400(client, db, frozen_clock, paid_at):
    order = pending_order(db)
    response = post(client, body_for(order, paid_at=paid_at))
    assert response.status_code == 400
    assert state(db, order) == ("pending", {"open"}, {"billed"}, 0)


@pytest.mark.parametrize("body", [b"[" * 10_000, b'{"amount": 3272.16}', b"null", b"\xff\xfe", b'"text"'])
def test_signed_bodies_that_are_not_a_confirmation_are_a_400(client, db, frozen_clock, body):
    assert post(client, body).status_code == 400


@pytest.mark.parametrize("change, status, result", [
    ({"signature": "00" * 32}, 401, "bad_signature"),
    ({"reference": "NO-SUCH-ORDER"}, 404, "unknown_order"),
    ({"amount": "1.00"}, 409, "wrong_amount"),
])
def test_every_refusal_is_audited_on_its_own(client, db, frozen_clock, change, status, result):
    order = pending_order(db)
    data = json.loads(body_for(order))
    data.update({key: value for key, value in change.items() if key != "signature"})
    body = json.dumps(data).encode()
    response = post(client, body, signature=change.get("signature", "sign"))
    assert response.status_code == status
    assert callbacks(db)[-1]["result"] == result
    assert state(db, order) == ("pending", {"open"}, {"billed"}, 0)


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
                           lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5),
                                                                                              children, max_size=3),
                           max_leaves=8)


@given(amount=st.one_of(st.text(max_size=30), JSON_VALUES), paid_at=st.one_of(st.text(max_size=30), JSON_VALUES),
       reference=st.one_of(st.text(max_size=45), JSON_VALUES))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_fuzzed_signed_confirmations_never_give_a_server_error(client, db, frozen_clock, amount, paid_at, reference):
    body = json.dumps({"reference": reference, "amount": amount, "external_id": "TAX-1", "paid_at": paid_at}).encode()
    response = client.post("/payments/callback", content=body,
                           headers={"Content-Type": "application/json", "X-Signature": sign(SECRET, body)})
    assert response.status_code in (400, 404, 409)
