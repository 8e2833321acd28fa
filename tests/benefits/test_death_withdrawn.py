"""A death recorded in error is withdrawn at the counter when the person comes in alive: the pension is payable
again, the next payroll pays the months held back, nothing is to be recovered; refused while a survivors' claim for
the death stands."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from portal.errors import Conflict, ValidationFailed
from portal.models import DeathCertificate, DeathReport, Notice, PensionPayment
from portal.services import payroll, survivors
from portal.services.commitments import Offer
from portal.services.person_requests import online
from tests import factories
from tests.benefits.support import CARD, KINSHIP, NOW, PDF, TODAY, awarded, retiree
from tests.queue.helpers import person_actor, staff_actor

JUNE = date(2026, 6, 15)


def wrongly_reported(db):
    person, actor = retiree(db)
    award = awarded(db, actor, today=JUNE)
    payroll.run(db, month=date(2026, 10, 1), now=NOW)  # July to October paid
    child = online(db, actor=person_actor(factories.person_account(db, name="王小华", birth=date(1990, 5, 6))))
    survivors.report_death(db, reporter=child.person, id_number=person.id_number, date_of_death="2026-08-20",
                           offer=Offer(mode="proof", uploads=(PDF,)), relationship="child",
                           actor=child.actor, now=NOW, today=TODAY)
    return person, award, child


def test_withdrawing_a_death_recorded_in_error_pays_the_held_back_months_and_recovers_nothing(db):
    person, award, _ = wrongly_reported(db)
    assert payroll.run(db, month=date(2026, 11, 1), now=NOW).paid == 0  # stopped after August
    staff = staff_actor(factories.staff(db, roles="handler"))
    with pytest.raises(ValidationFailed) as refused:
        survivors.withdraw_death(db, id_number=person.id_number, reason=" ", actor=staff, now=NOW, today=TODAY)
    assert set(refused.value.errors) == {"reason"}
    survivors.withdraw_death(db, id_number=person.id_number, reason="本人持身份证到窗口", actor=staff, now=NOW,
                             today=TODAY)
    assert db.exec(select(DeathReport)).all() == [] and db.exec(select(DeathCertificate)).all() == []
    assert not any(db.exec(select(PensionPayment.recoverable)).all())
    paid = payroll.run(db, month=date(2026, 11, 1), now=NOW)
    assert paid.paid == 1 and paid.amount * 100 == award.monthly_fen  # November, held back, now paid
    title = db.exec(select(Notice.title).where(Notice.recipient_id == person.id).order_by(Notice.id.desc())).first()
    assert "recorded for you in error" in title
    with pytest.raises(Conflict):  # nothing left to withdraw
        survivors.withdraw_death(db, id_number=person.id_number, reason="again", actor=staff, now=NOW, today=TODAY)


def test_a_death_with_a_survivors_claim_standing_is_not_withdrawn(db):
    person, _, child = wrongly_reported(db)
    case = survivors.submit_claim(db, filing=child, id_number=person.id_number, relationship="child",
                                  bank_code="BOC", card_number=CARD, mode="proof", uploads=[KINSHIP], token="s1",
                                  now=NOW, today=TODAY)
    staff = staff_actor(factories.staff(db, roles="handler"))
    with pytest.raises(Conflict) as refused:
        survivors.withdraw_death(db, id_number=person.id_number, reason="本人到窗口", actor=staff, now=NOW,
                                 today=TODAY)
    assert refused.value.message.params == {"reference": case.reference}
