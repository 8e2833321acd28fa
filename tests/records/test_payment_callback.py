"""POST /payments/callback: the collector's signed confirmation, and `portal dev pay` playing the collector."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlmodel import select

from portal import cli
from portal.models import AuditEvent, Bill, ContributionMonth, Employer, Payment, PaymentOrder
from portal.policy.money import from_fen
from portal.services import billing
from portal.services.payments import callback_body, sign
from tests import factories
from tests.records.support import NOW, employer_actor, spell

SECRET = "test-payment-secret"  # the settings fixture's
MONTH = date(2026, 11, 1)


def pending_order(db) -> PaymentOrder:
    operator = factories.operator(db)
    spell(db, employer=db.get(Employer, operator.employer_id), start=date(2026, 1, 1))
    billing.run_billing(db, month=MONTH, now=NOW)
    bill = db.exec(select(Bill)).one()
    order = billing.create_payment_order(db, actor=employer_actor(operator), bill_ids=[bill.id],
                                         pay_on=date(2026, 11, 28), now=NOW)
    db.commit()
    return order


def body_for(order: PaymentOrder, *, amount=None, external_id="TAX-0001", paid_at="2026-11-28T10:00:00+08:00"):
    return callback_body(reference=order.reference, amount=from_fen(order.amount_fen) if amount is None else amount,
                         external_id=external_id, paid_at=paid_at)


def post(client, body: bytes, signature: str | None = "sign"):
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        headers["X-Signature"] = sign(SECRET, body)
    elif signature is not None:
        headers["X-Signature"] = signature
    return client.post("/payments/callback", content=body, headers=headers)


def state(db, order):
    """(order status, bill statuses, month statuses, payments) as committed; the read is ended for the app."""
    found = (db.exec(select(PaymentOrder.status).where(PaymentOrder.id == order.id)).one(),
             set(db.exec(select(Bill.status)).all()), set(db.exec(select(ContributionMonth.status)).all()),
             len(db.exec(select(Payment)).all()))
    db.commit()
    return found


def callbacks(db) -> list[dict]:
    rows = db.exec(select(AuditEvent).where(AuditEvent.action == "payment.callback").order_by(AuditEvent.seq)).all()
    found = [json.loads(row.detail) if isinstance(row.detail, str) else row.detail for row in rows]
    db.commit()
    return found


def test_a_signed_confirmation_marks_the_order_its_bill_and_months_paid(client, db, frozen_clock):
    order = pending_order(db)
    response = post(client, body_for(order))
    assert response.status_code == 200 and response.json() == {"status": "paid"}
    assert state(db, order) == ("paid", {"paid"}, {"paid"}, 1)
    assert callbacks(db)[-1]["result"] == "paid"


@pytest.mark.parametrize("signature", [None, "", "00" * 32, "not-hex"])
def test_a_missing_or_bad_signature_is_refused_and_credits_nothing(client, db, frozen_clock, signature):
    order = pending_order(db)
    response = post(client, body_for(order), signature=signature)
    assert response.status_code == 401 and response.json() == {"status": "bad_signature"}
    assert state(db, order) == ("pending", {"open"}, {"billed"}, 0)
    assert callbacks(db)[-1]["result"] == "bad_signature"


def test_a_signature_over_another_body_is_refused(client, db, frozen_clock):
    order = pending_order(db)
    response = post(client, body_for(order), signature=sign(SECRET, body_for(order, external_id="TAX-OTHER")))
    assert response.status_code == 401
    assert state(db, order)[3] == 0


def test_an_unknown_order_is_answered_404(client, db, frozen_clock):
    order = pending_order(db)
    body = callback_body(reference="JLP20261128UNKNOWN", amount=from_fen(order.amount_fen), external_id="TAX-1",
                         paid_at="2026-11-28T10:00:00+08:00")
    response = post(client, body)
    assert response.status_code == 404 and response.json() == {"status": "unknown_order"}
    assert state(db, order) == ("pending", {"open"}, {"billed"}, 0)


def test_a_wrong_amount_is_answered_409_and_credits_nothing(client, db, frozen_clock):
    order = pending_order(db)
    short = from_fen(order.amount_fen - 1)
    response = post(client, body_for(order, amount=short))
    assert response.status_code == 409 and response.json() == {"status": "wrong_amount"}
    assert state(db, order) == ("pending", {"open"}, {"billed"}, 0)


def test_a_malformed_body_is_answered_400(client, db, frozen_clock):
    order = pending_order(db)
    for body in (b"not json", b'{"reference": "x"}', json.dumps({"reference": order.reference, "amount": 1,
                                                                   "external_id": "T", "paid_at": "x"}).encode()):
        assert post(client, body).status_code == 400
    assert state(db, order)[3] == 0


def test_the_same_confirmation_again_is_a_duplicate_and_credits_once(client, db, frozen_clock):
    order = pending_order(db)
    body = body_for(order)
    assert post(client, body).json() == {"status": "paid"}
    again = post(client, body)
    assert again.status_code == 200 and again.json() == {"status": "duplicate"}
    assert state(db, order) == ("paid", {"paid"}, {"paid"}, 1)
    other = post(client, body_for(order, external_id="TAX-0002"))  # a second payment for a paid order
    assert other.status_code == 409
    assert state(db, order)[3] == 1
    assert [c["result"] for c in callbacks(db)] == ["paid", "duplicate", "refused"]


def test_the_callback_needs_no_session_or_csrf_token_but_other_posts_still_do(client, db, frozen_clock):
    order = pending_order(db)
    assert post(client, body_for(order)).status_code == 200
    assert client.post("/logout").status_code == 403


# --- portal dev pay -----------------------------------------------------------------------------------------


@pytest.fixture
def dev_environment(monkeypatch, database_url):
    monkeypatch.setenv("PORTAL_ENV", "development")
    monkeypatch.setenv("PORTAL_DATABASE_URL", database_url)
    monkeypatch.setenv("PORTAL_PAYMENT_SECRET", SECRET)
    monkeypatch.setenv("PORTAL_SECRET_KEY", "test-secret-key-not-for-production")


def test_dev_pay_direct_plays_the_collector_in_process(db, dev_environment, frozen_clock, capsys):
    order = pending_order(db)
    assert cli.main(["dev", "pay", order.reference, "--direct", "--external-id", "DEV-1"]) == 0
    assert "paid" in capsys.readouterr().out
    assert state(db, order) == ("paid", {"paid"}, {"paid"}, 1)
    assert cli.main(["dev", "pay", order.reference, "--direct", "--external-id", "DEV-1"]) == 0
    assert "duplicate" in capsys.readouterr().out
    assert state(db, order)[3] == 1


def test_dev_pay_posts_a_signed_body_the_callback_accepts(client, db, dev_environment, frozen_clock, monkeypatch,
                                                          capsys):
    order = pending_order(db)
    sent = []

    def through_the_app(url, body, headers):
        sent.append(url)
        response = client.post("/payments/callback", content=body, headers=headers)
        return response.status_code, response.text

    monkeypatch.setattr(cli, "_post", through_the_app)
    assert cli.main(["dev", "pay", order.reference, "--url", "http://portal.test/"]) == 0
    assert sent == ["http://portal.test/payments/callback"]
    assert "HTTP 200" in capsys.readouterr().out
    assert state(db, order) == ("paid", {"paid"}, {"paid"}, 1)


def test_dev_pay_is_refused_in_production_and_for_unknown_orders(db, dev_environment, monkeypatch, capsys):
    order = pending_order(db)
    assert cli.main(["dev", "pay", "JLP-NOPE", "--direct"]) == 1
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_SMS_URL", "https://sms.example/send")  # production's other required settings
    monkeypatch.setenv("PORTAL_SMS_KEY", "k")
    assert cli.main(["dev", "pay", order.reference, "--direct"]) == 2
    assert "refused" in capsys.readouterr().err
    assert state(db, order)[3] == 0


def test_dev_pay_sends_to_the_port_the_portal_serves_on(db, dev_environment, frozen_clock, monkeypatch, capsys):
    order = pending_order(db)
    sent = []
    monkeypatch.setenv("PORTAL_PORT", "8123")
    monkeypatch.setattr(cli, "_post", lambda url, body, headers: (sent.append(url), (200, "{}"))[1])
    assert cli.main(["dev", "pay", order.reference]) == 0
    assert sent == ["http://127.0.0.1:8123/payments/callback"]


def test_dev_pay_says_plainly_when_the_portal_is_not_running(db, dev_environment, frozen_clock, capsys):
    import socket

    order = pending_order(db)
    with socket.socket() as probe:  # a loopback port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert cli.main(["dev", "pay", order.reference, "--url", f"http://127.0.0.1:{port}"]) == 3
    error = capsys.readouterr().err
    assert f"cannot reach the portal at http://127.0.0.1:{port}" in error and "make run" in error
    assert "Traceback" not in error
    assert state(db, order)[3] == 0
