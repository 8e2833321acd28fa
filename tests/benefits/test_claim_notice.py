"""Retiring early takes written notice ahead (3 months, a parameter): the saved draft is that notice, so the months
count from its claim date, not from each later change."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from portal.errors import ValidationFailed
from portal.services import claims
from tests.benefits.support import retiree

# Born 1970-06: the original age in 2030-06 opens the window, the statutory month is 2031-11.
BIRTH = date(1970, 6, 10)


def on(day: date) -> dict:
    return {"today": day, "now": datetime(day.year, day.month, day.day, 2, tzinfo=UTC)}


def test_an_early_month_less_than_three_months_ahead_is_refused_with_the_earliest_one_allowed(db):
    person, actor = retiree(db, birth=BIRTH)
    with pytest.raises(ValidationFailed) as refused:
        claims.save_draft(db, person=person, retirement_month="2030-07", actor=actor, **on(date(2030, 5, 20)))
    message = refused.value.errors["retirement_month"]
    assert message.params == {"notice": 3, "month": "2030-08"}
    assert claims.save_draft(db, person=person, retirement_month="2030-08", actor=actor,
                             **on(date(2030, 5, 20))).retirement_month == date(2030, 8, 1)


def test_the_notice_counts_from_the_draft_so_a_later_change_keeps_the_month_it_allowed(db):
    person, actor = retiree(db, birth=BIRTH)
    draft = claims.save_draft(db, person=person, retirement_month="2030-09", actor=actor, **on(date(2030, 3, 2)))
    changed = claims.save_draft(db, person=person, retirement_month="2030-06", actor=actor, **on(date(2030, 5, 20)))
    assert changed.id == draft.id and changed.retirement_month == date(2030, 6, 1)
    assert changed.claim_date == date(2030, 3, 2)


def test_the_statutory_month_or_a_later_one_needs_no_notice(db):
    person, actor = retiree(db, birth=BIRTH)
    draft = claims.save_draft(db, person=person, retirement_month="2031-11", actor=actor, **on(date(2031, 10, 30)))
    assert draft.retirement_month == date(2031, 11, 1)
