"""Messages Jilin sends (the contact letter, a query, a transfer out) are signed when delivered, with the secret
shared with the addressee; a province that does not answer, or has no address yet, keeps its messages queued."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

from sqlmodel import select

from portal.models import ProvinceMessage
from portal.services import province_messages, transfers
from tests.transfers.support import NOW, applicant, apply, issue_letter


def test_the_contact_letter_is_signed_for_beijing_and_delivered_once(db, settings):
    _account, actor = applicant(db)
    transfer = apply(db, actor)
    issue_letter(db, transfer)
    settings = dataclasses.replace(settings, province_urls={"110000": "https://pension.beijing.example/messages"})
    received = []

    def beijing(url, body, headers):
        timestamp = int(headers[province_messages.TIMESTAMP_HEADER])
        assert province_messages.verify(settings.province_secret("110000"), timestamp, body,
                                        headers[province_messages.SIGNATURE_HEADER])
        received.append((url, headers[province_messages.PROVINCE_HEADER], json.loads(body)))
        return 200, '{"status": "accepted"}'

    assert transfers.deliver_outbox(db, settings=settings, now=NOW, post=beijing) == transfers.Delivery(1, 0, 0)
    (url, sender, message), = received
    assert (url, sender, message["kind"], message["transfer"]) == (
        "https://pension.beijing.example/messages", "220000", "contact_letter", transfer.reference)
    assert transfers.deliver_outbox(db, settings=settings, now=NOW, post=beijing) == transfers.Delivery(0, 0, 0)
    row = db.exec(select(ProvinceMessage).where(ProvinceMessage.direction == "out")).one()
    assert row.result == "delivered" and row.signature


def test_a_province_that_fails_or_has_no_address_keeps_its_message_queued_for_the_next_run(db, settings):
    _account, actor = applicant(db)
    transfer = apply(db, actor)
    issue_letter(db, transfer)
    assert transfers.deliver_outbox(db, settings=settings, now=NOW, post=None) == transfers.Delivery(0, 0, 1)
    settings = dataclasses.replace(settings, province_urls={"110000": "https://pension.beijing.example/messages"})

    def down(url, body, headers):
        raise OSError("connection refused")

    assert transfers.deliver_outbox(db, settings=settings, now=NOW, post=down) == transfers.Delivery(0, 1, 0)
    later = NOW + timedelta(minutes=10)
    assert transfers.deliver_outbox(db, settings=settings, now=later, post=lambda *a: (200, "{}")).delivered == 1
    row = db.exec(select(ProvinceMessage).where(ProvinceMessage.direction == "out")).one()
    assert row.signed_at == int(later.timestamp())  # signed afresh, inside the receiver's window
