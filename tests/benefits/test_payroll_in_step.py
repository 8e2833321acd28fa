"""The payroll looks at an award in step with it only for the months since the last run, and at an award behind
(new, or suspended) for the whole back-pay window; only awards whose standing changes are written."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from portal.models import LifeCertification, PensionAward, PensionPayment
from portal.services import payroll
from tests.benefits.support import NOW, awarded, retiree

JUNE = date(2026, 6, 15)


def _award(db, award_id: int) -> PensionAward:
    db.expire_all()
    return db.get(PensionAward, award_id)


def _months_paid(db, person_id: int) -> list[int]:
    return sorted(row.month for row in db.exec(select(PensionPayment).where(PensionPayment.person_id == person_id)))


def test_a_new_award_is_behind_until_a_run_pays_it_up_and_then_in_step(db):
    _, actor = retiree(db)
    award = awarded(db, actor, today=JUNE)
    assert award.paid_to_last_run is False
    assert payroll.run(db, month=date(2026, 8, 1), now=NOW).paid == 2  # July and August
    assert _award(db, award.id).paid_to_last_run is True
    assert payroll.run(db, month=date(2026, 9, 1), now=NOW).paid == 1
    assert _award(db, award.id).paid_to_last_run is True


def test_a_month_without_a_run_is_paid_with_the_next_one_to_pensioners_in_step(db):
    person, actor = retiree(db)
    award = awarded(db, actor, today=JUNE)
    payroll.run(db, month=date(2026, 7, 1), now=NOW)
    run = payroll.run(db, month=date(2026, 9, 1), now=NOW)  # no run for August
    assert run.paid == 2
    assert [m.month for m in _months_paid(db, person.id)] == [7, 8, 9]
    assert _award(db, award.id).paid_to_last_run is True


def test_a_pensioner_in_step_who_is_overdue_falls_behind_and_is_paid_back_once_certified(db):
    person, actor = retiree(db)
    award = awarded(db, actor, today=JUNE)
    payroll.run(db, month=date(2026, 9, 1), now=NOW)
    db.execute(LifeCertification.__table__.update().values(certified_on=date(2025, 9, 10)))
    assert payroll.run(db, month=date(2026, 10, 1), now=NOW).paid == 0
    assert _award(db, award.id).paid_to_last_run is False
    db.add(LifeCertification(person_id=person.id, certified_on=date(2026, 11, 20), channel="counter",
                             case_reference="", created_at=NOW))
    assert payroll.run(db, month=date(2026, 11, 1), now=NOW).paid == 2  # October back pay and November
    assert _award(db, award.id).paid_to_last_run is True


def test_running_an_earlier_month_again_pays_only_what_it_missed_and_changes_no_standing(db):
    _, first = retiree(db, region="220100")
    _, second = retiree(db, region="220200", start=date(2000, 1, 1))
    one = awarded(db, first, today=JUNE, token="a")
    two = awarded(db, second, today=JUNE, token="b")
    db.execute(LifeCertification.__table__.update().where(LifeCertification.person_id == two.person_id)
               .values(certified_on=date(2025, 7, 1)))
    payroll.run(db, month=date(2026, 8, 1), now=NOW)  # the second is overdue from July 2026: nothing for them
    assert (_award(db, one.id).paid_to_last_run, _award(db, two.id).paid_to_last_run) == (True, False)
    again = payroll.run(db, month=date(2026, 7, 1), now=NOW)  # certified in July 2025: July 2026 was still due
    assert again.paid == 1 and again.totals == {"220200": (1, again.amount)}
    assert (_award(db, one.id).paid_to_last_run, _award(db, two.id).paid_to_last_run) == (True, False)


def test_a_month_somehow_already_paid_to_a_pensioner_in_step_fails_the_run_instead_of_paying_it_twice(db):
    _, actor = retiree(db)
    award = awarded(db, actor, today=JUNE)
    payroll.run(db, month=date(2026, 7, 1), now=NOW)
    db.add(PensionPayment(person_id=award.person_id, award_id=award.id, month=date(2026, 8, 1),
                          run_month=date(2026, 7, 1), pension_fen=1, adjustment_fen=0, correction_fen=0, amount_fen=1,
                          region=award.region, bank_code=award.bank_code, paid_at=NOW))
    db.flush()
    with pytest.raises(IntegrityError):
        payroll.run(db, month=date(2026, 8, 1), now=NOW)


def test_a_run_rewrites_only_the_awards_whose_standing_changes(db):
    _, first = retiree(db, region="220100")
    _, second = retiree(db, region="220200", start=date(2000, 1, 1))
    _, third = retiree(db, region="220300", start=date(1998, 1, 1))
    awarded(db, first, today=JUNE, token="a")
    late = awarded(db, second, today=JUNE, token="b")
    awarded(db, third, today=JUNE, token="c")
    payroll.run(db, month=date(2026, 7, 1), now=NOW)  # all paid up: all in step
    db.execute(LifeCertification.__table__.update().where(LifeCertification.person_id == late.person_id)
               .values(certified_on=date(2025, 7, 1)))
    written = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("UPDATE pension_award"):
            written.append(cursor.rowcount)

    connection = db.connection()
    event.listen(connection, "after_cursor_execute", count)
    try:
        assert payroll.run(db, month=date(2026, 8, 1), now=NOW).paid == 2
    finally:
        event.remove(connection, "after_cursor_execute", count)
    assert sum(written) == 1  # the overdue pensioner fell behind; the two paid in step were not written
