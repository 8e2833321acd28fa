"""A provisional award recomputed when the parameter is published: what was paid too little comes with the next
payment, what was paid too much is deducted from the next payments (never more than a month's pension at a time,
never twice on a rerun), and the pensioner is told which; also through the command line."""

from __future__ import annotations

import json
from datetime import date

from sqlmodel import select

from portal.models import Notice, PensionPayment
from portal.services import claims, payroll
from tests.benefits.support import NOW, awarded, retiree
from tests.records.test_batch_crashes import portal_command

JUNE = date(2026, 6, 15)


def overpaid(db, *, extra_per_month: int):
    """An award paid July to November at ``extra_per_month`` fen more than the published figures give."""
    person, actor = retiree(db)
    award = awarded(db, actor, today=JUNE)
    award.monthly_fen += extra_per_month  # as if the provisional base had been higher
    db.add(award)
    db.flush()
    payroll.run(db, month=date(2026, 11, 1), now=NOW)
    return person, award.monthly_fen - extra_per_month


def corrections(db, person_id: int) -> list[tuple[int, int, int]]:
    rows = db.exec(select(PensionPayment).where(PensionPayment.person_id == person_id, PensionPayment.month
                                                >= date(2026, 12, 1)).order_by(PensionPayment.month)).all()
    return [(row.month.month, row.correction_fen, row.amount_fen) for row in rows]


def test_an_overpaid_difference_is_deducted_a_month_at_most_each_run_and_never_twice(db):
    person, published = overpaid(db, extra_per_month=150000)
    [done] = claims.recompute_provisional(db, now=NOW)
    owed = -150000 * 5  # five months paid 1,500.00 yuan too much each: more than one month's pension
    assert -owed > published
    assert done.difference * 100 == owed
    title = db.exec(select(Notice.title).where(Notice.recipient_id == person.id).order_by(Notice.id.desc())).first()
    assert "overpaid is deducted from the next payments" in title
    december = payroll.run(db, month=date(2026, 12, 1), now=NOW)
    assert december.paid == 1 and december.amount == 0  # the whole month's pension is kept back
    assert payroll.run(db, month=date(2026, 12, 1), now=NOW).paid == 0  # a rerun deducts nothing twice
    payroll.run(db, month=date(2027, 1, 1), now=NOW)
    payroll.run(db, month=date(2027, 2, 1), now=NOW)
    payroll.run(db, month=date(2027, 3, 1), now=NOW)
    rows = corrections(db, person.id)
    assert sum(correction for _, correction, _ in rows) == owed
    assert all(amount >= 0 for _, _, amount in rows)
    assert rows[-1] == (3, 0, published)  # settled: March is paid in full
    assert claims.current_award(db, person_id=person.id).difference_run_month is not None


def test_an_underpaid_difference_comes_with_the_next_payment(db):
    person, published = overpaid(db, extra_per_month=-1000)  # 10 yuan a month too little
    [done] = claims.recompute_provisional(db, now=NOW)
    assert done.difference * 100 == 5000
    title = db.exec(select(Notice.title).where(Notice.recipient_id == person.id).order_by(Notice.id.desc())).first()
    assert "still owed for the months already paid comes with the next payment" in title
    payroll.run(db, month=date(2026, 12, 1), now=NOW)
    assert corrections(db, person.id) == [(12, 5000, published + 5000)]


def test_recomputing_twice_before_a_payroll_keeps_the_difference_not_yet_settled(db):
    person, _ = overpaid(db, extra_per_month=-1000)
    [first] = claims.recompute_provisional(db, now=NOW)
    award = claims.current_award(db, person_id=person.id)
    award.monthly_fen -= 500  # as if the figures moved again, by 5 yuan, before any payroll paid the difference
    award.provisional = True
    db.add(award)
    db.flush()
    [second] = claims.recompute_provisional(db, now=NOW)
    assert (first.difference * 100, second.difference * 100) == (5000, 5000)  # no month paid under the second award
    assert claims.current_award(db, person_id=person.id).difference_fen == 5000


def test_the_recompute_command_recomputes_and_tells_the_pensioner(db, database_url):
    person, _ = overpaid(db, extra_per_month=-1000)
    db.commit()
    done = portal_command(database_url, "pension", "recompute")
    assert done.returncode == 0, done.stderr
    assert "recomputed 1 award(s)" in done.stdout and "difference 50.00 for 5 month(s)" in done.stdout
    db.expire_all()
    notice = db.exec(select(Notice).where(Notice.recipient_id == person.id).order_by(Notice.id.desc())).first()
    assert "comes with the next payment" in notice.title and json.loads(notice.params)["difference"] == "50.00"
    db.rollback()  # every read ends its transaction: the command writes to the same database
    again = portal_command(database_url, "pension", "recompute")
    assert again.returncode == 0 and "recomputed 0 award(s)" in again.stdout
