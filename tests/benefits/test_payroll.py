"""The payroll, the yearly adjustment, suspension and back pay, deaths and survivors' claims."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import select

from portal.errors import Conflict
from portal.models import LifeCertification, PensionPayment
from portal.policy.money import from_fen
from portal.services import payroll, survivors
from portal.services.commitments import Offer
from portal.services.person_requests import online
from tests import factories
from tests.benefits.support import CARD, KINSHIP, NOW, PDF, TODAY, awarded, decide, retiree
from tests.queue.helpers import person_actor
from tests.trust_support import face, offer

JUNE = date(2026, 6, 15)


def two_pensioners(db):
    _, first = retiree(db, region="220100")
    _, second = retiree(db, region="220200", base_fen=450000, start=date(2000, 1, 1))
    return awarded(db, first, today=JUNE, token="a"), awarded(db, second, today=JUNE, token="b")


def test_a_payroll_pays_each_month_once_and_its_totals_by_prefecture_add_up_to_the_awards(db):
    one, two = two_pensioners(db)
    first = payroll.run(db, month=date(2026, 7, 1), now=NOW)
    assert first.paid == 2
    assert first.amount == from_fen(one.monthly_fen + two.monthly_fen)
    assert first.totals == {"220100": (1, from_fen(one.monthly_fen)), "220200": (1, from_fen(two.monthly_fen))}
    again = payroll.run(db, month=date(2026, 7, 1), now=NOW)
    assert again.paid == 0 and again.totals == first.totals
    files = payroll.payment_files(db, month=date(2026, 7, 1))
    assert list(files) == ["ICBC"] and files["ICBC"].count("\r\n") == 3


def test_the_first_payroll_after_a_late_award_pays_every_month_since_the_first_payment_month(db):
    one, _ = two_pensioners(db)
    run = payroll.run(db, month=date(2026, 10, 1), now=NOW)
    assert run.paid == 8  # July to October, for two people
    assert run.totals["220100"] == (4, from_fen(one.monthly_fen) * 4)


def test_an_overdue_certification_suspends_payment_and_certifying_pays_it_back(db):
    person, actor = retiree(db)
    award = awarded(db, actor, today=JUNE)
    db.execute(LifeCertification.__table__.update().values(certified_on=date(2025, 9, 10)))
    # Due 2026-09-10: certified at the start of September, so July to September are paid.
    assert payroll.run(db, month=date(2026, 9, 1), now=NOW).paid == 3
    assert payroll.run(db, month=date(2026, 10, 1), now=NOW).paid == 0  # overdue since 2026-09-10
    assert payroll.run(db, month=date(2026, 11, 1), now=NOW).paid == 0
    from portal.services import certification

    status = certification.status(db, person_id=person.id, today=TODAY)
    assert status.overdue and [m.month for m in status.unpaid_months] == [10]
    certification.certify(db, person_id=person.id, channel="counter", actor=actor, now=NOW, today=TODAY)
    back = payroll.run(db, month=date(2026, 12, 1), now=NOW)
    assert back.paid == 3  # October to December
    assert back.totals["220100"] == (3, from_fen(award.monthly_fen) * 3)
    rows = db.exec(select(PensionPayment).where(PensionPayment.run_month == date(2026, 12, 1))).all()
    assert sorted(row.month.month for row in rows) == [10, 11, 12]


def test_certification_reminders_go_30_and_7_days_before_each_once(db):
    person, actor = retiree(db)
    awarded(db, actor, today=JUNE)  # certified by the claim on 2026-11-28: due 2027-11-28
    from portal.services import certification

    assert certification.send_reminders(db, today=date(2027, 10, 20), now=NOW) == 0
    assert certification.send_reminders(db, today=date(2027, 10, 29), now=NOW) == 1
    assert certification.send_reminders(db, today=date(2027, 10, 30), now=NOW) == 0
    assert certification.send_reminders(db, today=date(2027, 11, 21), now=NOW) == 1
    assert certification.send_reminders(db, today=date(2027, 11, 22), now=NOW) == 0


def test_the_yearly_adjustment_is_assumed_and_paid_from_january(db):
    person, actor = retiree(db)
    award = awarded(db, actor, today=JUNE)
    done = payroll.adjust(db, year=2027, now=NOW)
    assert done.awards == 1 and done.assumed
    assert payroll.adjust(db, year=2027, now=NOW).awards == 0
    amount = payroll.adjustments_of(db, person_id=person.id)[0].amount_fen
    # 25.00 fixed + 0.80 × 30 years + 0.5% of the pension (people are 60: no age supplement)
    assert from_fen(amount) == Decimal("25.00") + Decimal("24.00") + (from_fen(award.monthly_fen)
                                                                        * Decimal("0.0050")).quantize(Decimal("0.01"))
    run = payroll.run(db, month=date(2027, 1, 1), now=NOW)
    january = db.exec(select(PensionPayment).where(PensionPayment.month == date(2027, 1, 1))).one()
    assert january.adjustment_fen == amount and run.paid == 7


def test_a_death_reported_after_payments_continued_stops_them_and_makes_later_ones_recoverable(db):
    person, actor = retiree(db)
    award = awarded(db, actor, today=JUNE)
    payroll.run(db, month=date(2026, 11, 1), now=NOW)  # July to November paid
    child = factories.person_account(db, name="王小华", birth=date(1990, 5, 6))
    report = survivors.report_death(db, reporter=online(db, actor=person_actor(child)).person, id_number=person.id_number,
                                    date_of_death="2026-09-03", offer=offer("death_report"), relationship="child",
                                    actor=face(person_actor(child)), now=NOW,
                                    today=TODAY)
    assert report.recoverable_fen == award.monthly_fen * 2  # October and November
    recoverable = db.exec(select(PensionPayment.month).where(PensionPayment.recoverable.is_(True))).all()
    assert sorted(month.month for month in recoverable) == [10, 11]
    assert payroll.run(db, month=date(2026, 12, 1), now=NOW).paid == 0


def test_a_survivors_claim_follows_the_schedule_is_paid_once_and_a_second_is_refused_with_the_first_reference(db):
    person, actor = retiree(db)
    awarded(db, actor, today=JUNE)
    child = factories.person_account(db, name="王小华", birth=date(1990, 5, 6))
    family = online(db, actor=person_actor(child))
    survivors.report_death(db, reporter=family.person, id_number=person.id_number, date_of_death="2026-09-03",
                           offer=Offer(mode="proof", uploads=(PDF,)), relationship="child",
                           actor=family.actor, now=NOW, today=TODAY)
    found = survivors.claimable(db, deceased=person)
    # 366 months (30.5 years, capped at 30: 24 months) less one month a year drawn (3 months, 0.25) = 23.75.
    assert found.retired and found.months_drawn == 3 and found.result.months == Decimal("23.75")
    assert found.result.funeral_grant == Decimal("6802.84")
    case = survivors.submit_claim(db, filing=family, id_number=person.id_number, relationship="child",
                                  bank_code="BOC", card_number=CARD, mode="proof", uploads=[KINSHIP], token="s1",
                                  now=NOW, today=TODAY)
    with pytest.raises(Conflict) as refused:
        survivors.submit_claim(db, filing=family, id_number=person.id_number, relationship="child", bank_code="BOC",
                               card_number=CARD, mode="proof", uploads=[KINSHIP], token="s2", now=NOW, today=TODAY)
    assert refused.value.message.params["reference"] == case.reference
    decide(db, case)
    from portal.models import SurvivorAward

    paid = db.exec(select(SurvivorAward)).one()
    assert paid.case_reference == case.reference and from_fen(paid.total_fen) == found.total
