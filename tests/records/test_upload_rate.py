"""One account may send only so many files in a while: then 429 with Retry-After, in the visitor's language."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal import clock
from portal.services import upload_limits
from tests.records.test_employer_pages import Firm, _upload


@pytest.fixture
def two_per_window(monkeypatch):
    monkeypatch.setattr(upload_limits, "RATE", upload_limits.UploadRate(count=2, window=timedelta(minutes=10)))


def test_the_upload_after_the_limit_is_a_429_saying_when_to_come_back(client, db, frozen_clock, two_per_window):
    firm = Firm(db)
    firm.sign_in(client)
    assert _upload(client, firm.csv("8000", "9000")).status_code == 303  # accepted uploads count
    assert _upload(client, b"not a declaration").status_code == 422  # so do refused ones
    refused = _upload(client, firm.csv("8000", "9000"), lang="en")
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= 600
    assert "You have sent many files in a short time. Wait 10 minutes and try again." in refused.text
    chinese = _upload(client, firm.csv("8000", "9000"))
    assert chinese.status_code == 429 and "您在短时间内上传的文件过多" in chinese.text


def test_the_limit_lifts_when_the_window_has_passed(client, db, frozen_clock, two_per_window):
    firm = Firm(db)
    firm.sign_in(client)
    for _ in range(2):
        _upload(client, firm.csv("8000", "9000"))
    assert _upload(client, firm.csv("8000", "9000")).status_code == 429
    frozen_clock(clock.now() + timedelta(minutes=11))
    assert _upload(client, firm.csv("8000", "9000")).status_code == 303


def test_each_account_has_its_own_count(client, db, frozen_clock, two_per_window):
    first = Firm(db)
    second = Firm(db, username="clerk2")
    first.sign_in(client)
    for _ in range(2):
        _upload(client, first.csv("8000", "9000"))
    assert _upload(client, first.csv("8000", "9000")).status_code == 429
    client.cookies.clear()
    second.sign_in(client)
    assert _upload(client, second.csv("8000", "9000")).status_code == 303
