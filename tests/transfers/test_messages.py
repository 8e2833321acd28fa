"""POST /interprovincial/messages: nothing from another province is taken unsigned, stale, twice, or for a transfer
Jilin does not have; every refusal is audited and logged with a clear error."""

from __future__ import annotations

import json
import logging
from decimal import Decimal

from sqlmodel import select

from portal.devtools import province
from portal.models import AuditEvent, ContributionMonth, ProvinceMessage, Transfer
from portal.services import province_messages
from tests.transfers.support import NOW, applicant, apply, issue_letter

URL = "/interprovincial/messages"


def letter_sent(db):
    account, actor = applicant(db)
    transfer = apply(db, actor)
    issue_letter(db, transfer)
    db.commit()
    return account, transfer


def transfer_message(db, transfer, **options):
    """What the other province sends; the test's read transaction ends so the app can write (SQLite)."""
    prepared = province.transfer_message(db, reference=transfer.reference, now=NOW, **options)
    db.commit()
    return prepared


def post(client, settings, prepared, *, timestamp=None, secret=None, sender=None):
    body = prepared.body
    timestamp = prepared.timestamp if timestamp is None else timestamp
    headers = province_messages.headers(secret=secret or settings.province_secret(prepared.province),
                                        province=sender or prepared.province, timestamp=timestamp, body=body)
    return client.post(URL, content=body, headers=headers)


def refusals(db) -> list[dict]:
    rows = db.exec(select(AuditEvent).where(AuditEvent.action == "interprovincial.message")
                   .order_by(AuditEvent.seq)).all()
    found = [json.loads(row.detail) for row in rows]
    db.commit()
    return found


def merged_months(db, account) -> int:
    count = len(db.exec(select(ContributionMonth).where(ContributionMonth.person_id == account.person_id)).all())
    db.commit()
    return count


def test_a_signed_fresh_transfer_message_is_merged(db, client, settings, frozen_clock):
    frozen_clock(NOW)
    account, transfer = letter_sent(db)
    answer = post(client, settings, transfer_message(db, transfer))
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "merged"
    assert merged_months(db, account) == 88
    assert refusals(db)[-1]["result"] == "merged"


def test_a_bad_signature_or_another_provinces_secret_is_refused_and_changes_nothing(db, client, settings,
                                                                                     frozen_clock, caplog):
    frozen_clock(NOW)
    account, transfer = letter_sent(db)
    message = transfer_message(db, transfer)
    with caplog.at_level(logging.WARNING, logger="portal.interprovincial"):
        wrong = post(client, settings, message, secret=settings.province_secret("310000"))
        signed = province_messages.headers(secret=settings.province_secret("110000"), province="110000",
                                           timestamp=message.timestamp, body=message.body)
        tampered = client.post(URL, content=message.body.replace(b'"pooled":"', b'"pooled":"1'), headers=signed)
        unsigned = client.post(URL, content=message.body, headers={"Content-Type": "application/json"})
    assert [r.status_code for r in (wrong, tampered, unsigned)] == [401, 401, 401]
    assert wrong.json() == {"status": "bad_signature", "error": wrong.json()["error"]}
    assert unsigned.json()["status"] == "unknown_sender"
    assert merged_months(db, account) == 0
    assert [r["result"] for r in refusals(db)] == ["bad_signature", "bad_signature", "unknown_sender"]
    assert "refused: bad_signature" in caplog.text


def test_a_message_signed_more_than_five_minutes_away_from_our_clock_is_stale(db, client, settings, frozen_clock):
    frozen_clock(NOW)
    account, transfer = letter_sent(db)
    message = transfer_message(db, transfer)
    late = post(client, settings, message, timestamp=message.timestamp - 301)
    early = post(client, settings, message, timestamp=message.timestamp + 301)
    assert (late.status_code, late.json()["status"]) == (401, "stale")
    assert (early.status_code, early.json()["status"]) == (401, "stale")
    assert post(client, settings, message, timestamp=message.timestamp - 299).status_code == 200


def test_the_same_message_sent_again_is_refused_as_a_replay(db, client, settings, frozen_clock):
    frozen_clock(NOW)
    account, transfer = letter_sent(db)
    message = transfer_message(db, transfer)
    assert post(client, settings, message).status_code == 200
    again = post(client, settings, message)
    assert (again.status_code, again.json()["status"]) == (409, "replay")
    assert "already received" in again.json()["error"]
    assert merged_months(db, account) == 88
    assert [(row["result"], row["status"]) for row in refusals(db)][-1] == ("replay", 409)  # audited
    kept = db.exec(select(ProvinceMessage).where(ProvinceMessage.direction == "in")).all()
    assert len(kept) == 1
    db.commit()


def test_a_message_for_an_unknown_transfer_or_from_the_wrong_province_is_refused_with_a_clear_error(
        db, client, settings, frozen_clock, caplog):
    frozen_clock(NOW)
    account, transfer = letter_sent(db)
    message = transfer_message(db, transfer)
    unknown = province._prepared("110000", {**message.message, "transfer": "ZY20261130999999"}, NOW)
    with caplog.at_level(logging.WARNING, logger="portal.interprovincial"):
        answer = post(client, settings, unknown)
    assert answer.status_code == 404
    assert answer.json()["status"] == "unknown_transfer"
    assert "no transfer ZY20261130999999 between Jilin and 110000" in answer.json()["error"]
    assert "unknown_transfer" in caplog.text
    # Shanghai, correctly signed with its own secret, cannot speak for a transfer with Beijing.
    other = province._prepared("310000", message.message, NOW)
    assert post(client, settings, other).json()["status"] == "unknown_transfer"
    assert [r["result"] for r in refusals(db)] == ["unknown_transfer", "unknown_transfer"]
    assert db.exec(select(Transfer.state)).one() == "letter_sent"
    db.commit()


def test_a_difference_in_the_amounts_is_answered_with_the_query_not_merged(db, client, settings, frozen_clock):
    frozen_clock(NOW)
    account, transfer = letter_sent(db)
    message = transfer_message(db, transfer, off_by=Decimal("12.34"))
    answer = post(client, settings, message)
    assert answer.status_code == 200
    assert answer.json()["status"] == "query"
    assert answer.json()["differences"]["pooled"]["sent"] != answer.json()["differences"]["pooled"]["expected"]
    assert merged_months(db, account) == 0


def test_signed_but_malformed_messages_are_refused_as_malformed_and_nothing_is_kept(db, client, settings,
                                                                                   frozen_clock):
    frozen_clock(NOW)
    account, transfer = letter_sent(db)
    good = transfer_message(db, transfer)
    stamp = good.timestamp

    def signed(body: bytes):
        headers = province_messages.headers(secret=settings.province_secret("110000"), province="110000",
                                            timestamp=stamp, body=body)
        return client.post(URL, content=body, headers=headers)

    bad_month = {**good.message, "message_id": "m-1", "months": [{"month": "2008/03", "base": "3000.00"}]}
    float_base = {**good.message, "message_id": "m-2", "months": [{"month": "2008-03", "base": 3000.5}]}
    answers = [signed(b"[]"), signed(b"\xff\xfe"), signed(b"[" * 5000),
               signed(province_messages.body_of({"message_id": "m-0", "kind": "gossip"})),
               signed(province_messages.body_of(bad_month)), signed(province_messages.body_of(float_base))]
    assert [(a.status_code, a.json()["status"]) for a in answers] == [
        (400, "malformed"), (400, "malformed"), (400, "malformed"), (400, "unknown_kind"), (400, "malformed"),
        (400, "malformed")]
    assert merged_months(db, account) == 0
    assert db.exec(select(ProvinceMessage).where(ProvinceMessage.direction == "in")).all() == []
    db.commit()
