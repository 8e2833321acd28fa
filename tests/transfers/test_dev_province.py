"""`portal dev province send` plays the other province: signed like the real one, over HTTP or in-process."""

from __future__ import annotations

import pytest
from sqlmodel import select

from portal import cli
from portal.models import Transfer
from tests.transfers.support import NOW, applicant, apply, issue_letter


@pytest.fixture
def dev_environment(monkeypatch, database_url):
    monkeypatch.setenv("PORTAL_ENV", "development")
    monkeypatch.setenv("PORTAL_DATABASE_URL", database_url)
    monkeypatch.setenv("PORTAL_SECRET_KEY", "test-secret-key-not-for-production")  # the app's: the same secrets


def transfer_waiting(db):
    _account, actor = applicant(db)
    transfer = apply(db, actor)
    issue_letter(db, transfer)
    db.commit()
    return transfer.reference


def state(db, reference):
    found = db.exec(select(Transfer.state).where(Transfer.reference == reference)).one()
    db.commit()
    return found


def test_the_dev_province_posts_a_signed_transfer_the_endpoint_merges(client, db, dev_environment, frozen_clock,
                                                                      monkeypatch, capsys):
    frozen_clock(NOW)
    reference = transfer_waiting(db)

    def through_the_app(url, body, headers):
        response = client.post("/interprovincial/messages", content=body, headers=headers)
        return response.status_code, response.text

    monkeypatch.setattr(cli, "_post", through_the_app)
    assert cli.main(["dev", "province", "send", "transfer", reference, "--url", "http://portal.test/"]) == 0
    assert "HTTP 200" in capsys.readouterr().out
    assert state(db, reference) == "merged"


def test_the_dev_province_can_send_a_wrong_amount_in_process_and_jilin_queries_it(db, dev_environment,
                                                                                 frozen_clock, capsys):
    frozen_clock(NOW)
    reference = transfer_waiting(db)
    assert cli.main(["dev", "province", "send", "transfer", reference, "--direct", "--off-by", "5.00"]) == 0
    assert '"status": "query"' in capsys.readouterr().out
    assert state(db, reference) == "query"
    assert cli.main(["dev", "province", "send", "transfer", "ZY-NOPE", "--direct"]) == 1


def test_queue_auto_flags_a_transfer_step_past_its_limit(db, dev_environment, frozen_clock, capsys):
    from datetime import timedelta

    frozen_clock(NOW)
    reference = transfer_waiting(db)
    frozen_clock(NOW + timedelta(days=40))
    assert cli.main(["queue", "auto"]) == 0
    assert "flagged 1 transfer step(s) past their time limit" in capsys.readouterr().out
    assert cli.main(["queue", "auto"]) == 0
    assert "flagged 0 transfer step(s)" in capsys.readouterr().out
    assert state(db, reference) == "letter_sent"
