"""Reading the notices inbox changes nothing; marking read is a POST, up to the newest notice the page showed."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from portal import clock
from portal.models import Employer, Notice, Person
from portal.queue import notices
from tests import factories
from tests.helpers import new_person, sign_in_operator, sign_in_person, snapshot, token_from


def inbox_of(client, db, kind: str) -> tuple[str, int]:
    """Signs in someone with two unread notices; returns their inbox address and their id as a recipient."""
    if kind == "person":
        number = new_person(db)
        recipient = db.exec(select(Person.id).where(Person.id_number == number)).one()
        db.commit()  # ends the read, so the app may write (SQLite)
        sign_in_person(client, number)
        path = "/me/notices"
    else:
        operator = factories.operator(db)
        recipient = operator.employer_id
        code = db.get(Employer, operator.employer_id).credit_code
        db.commit()
        sign_in_operator(client, operator, code)
        path = "/employer/notices"
    for title in ("Your request %(reference)s was withdrawn.", "Your request %(reference)s was withdrawn."):
        notices.notify(db, recipient_kind=kind, recipient_id=recipient, title=title, now=clock.now(),
                       params={"reference": "R-1"})
    db.commit()
    return path, recipient


def unread(db) -> int:
    count = len(db.exec(select(Notice).where(Notice.read_at.is_(None))).all())
    db.commit()
    return count


@pytest.mark.parametrize("kind", ["person", "employer"])
def test_opening_the_inbox_changes_nothing(client, app, db, frozen_clock, kind):
    path, _recipient = inbox_of(client, db, kind)
    client.get(path)  # the first visit may set cookies; the database is what must not change
    before = snapshot(app.state.engine)
    for _ in range(2):
        page = client.get(f"{path}?lang=en")
        assert page.status_code == 200 and "Mark all as read" in page.text
    assert snapshot(app.state.engine) == before
    assert unread(db) == 2


@pytest.mark.parametrize("kind", ["person", "employer"])
def test_marking_read_covers_only_the_notices_the_page_showed(client, db, frozen_clock, kind):
    path, recipient = inbox_of(client, db, kind)
    page = client.get(path)
    up_to = re.search(r'name="up_to" value="([0-9]+)"', page.text).group(1)
    notices.notify(db, recipient_kind=kind, recipient_id=recipient, title="Your request %(reference)s was "
                   "withdrawn.", now=clock.now(), params={"reference": "R-2"})  # arrives after the page was shown
    db.commit()
    marked = client.post(path, data={"csrf_token": token_from(client, path), "up_to": up_to})
    assert marked.status_code == 303 and marked.headers["location"] == path
    assert unread(db) == 1
    assert "Mark all as read" in client.get(f"{path}?lang=en").text


@pytest.mark.parametrize("up_to", ["", "²", "9" * 30, "-1"])
def test_a_malformed_mark_read_request_marks_nothing(client, db, frozen_clock, up_to):
    path, _recipient = inbox_of(client, db, "person")
    response = client.post(path, data={"csrf_token": token_from(client, path), "up_to": up_to})
    assert response.status_code == 303
    assert unread(db) == 2


def test_marking_read_without_the_forms_token_is_refused(client, db, frozen_clock):
    path, _recipient = inbox_of(client, db, "person")
    assert client.post(path, data={"up_to": "999"}).status_code == 403
    assert unread(db) == 2
