"""Take next on PostgreSQL is one statement sent to the driver: what it hands back and how it commits."""

from __future__ import annotations

from datetime import UTC

import pytest
from sqlalchemy import text

from portal.models import Case
from portal.queue import take
from tests.queue.helpers import NOW, people, submit

pytestmark = pytest.mark.postgres_only


def test_the_taken_case_is_the_sessions_own_loaded_object_with_nothing_pending(db):
    p = people(db)
    submitted = submit(db, p["applicant"])
    db.commit()
    db.expunge_all()  # as in a fresh request: the session knows no case yet

    taken = take.take_next(db, staff=p["handler"], now=NOW)

    assert taken in db and not db.dirty and not db.new
    assert db.get(Case, submitted.id) is taken
    assert (taken.reference, taken.state, taken.version) == (submitted.reference, "in_progress", submitted.version + 1)
    assert taken.opened_at == NOW and taken.opened_at.tzinfo == UTC and taken.submitted_at.tzinfo == UTC


def test_a_case_the_session_already_holds_is_brought_up_to_date_in_place(db):
    p = people(db)
    submitted = submit(db, p["applicant"])
    db.commit()

    taken = take.take_next(db, staff=p["handler"], now=NOW)

    assert taken is submitted and submitted.state == "in_progress" and not db.dirty


def test_a_claim_commits_without_waiting_for_its_flush_and_nothing_else_does(db):
    p = people(db)
    submit(db, p["applicant"])
    db.commit()
    assert db.execute(text("SHOW synchronous_commit")).scalar() == "on"

    take.take_next(db, staff=p["handler"], now=NOW)
    assert db.execute(text("SHOW synchronous_commit")).scalar() == "off"
    db.commit()

    assert db.execute(text("SHOW synchronous_commit")).scalar() == "on"  # for that transaction only


def test_finding_nothing_to_take_leaves_the_commit_synchronous(db):
    p = people(db)
    assert take.take_next(db, staff=p["handler"], now=NOW) is None
    assert db.execute(text("SHOW synchronous_commit")).scalar() == "on"
