"""Builders for the benefits tests: a person with a real contribution history, a claim decided by two people."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

from portal.identifiers import make_resident_id
from portal.models import ContributionMonth, EmploymentSpell, Person
from portal.policy.dates import add_months
from portal.queue import service, take
from portal.queue.attachments import Upload
from portal.services import claims
from portal.services.person_requests import online
from tests import factories
from tests.queue.helpers import person_actor, staff_actor

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
TODAY = date(2026, 11, 28)
# A card number with a right Luhn digit, and one with a wrong one.
CARD = "6222020200112233446"
BAD_CARD = "6222020200112233445"
_serial = itertools.count(11, 2)  # odd sequence digits: men
# Documents as a family member sends them: a scanned death certificate, a photo of the household register.
PDF = Upload(filename="死亡证明.pdf", content=b"%PDF-1.4\n% a death certificate\n%%EOF\n")
KINSHIP = Upload(filename="户口簿.jpg", content=b"\xff\xd8\xff\xe0 a household register page")


def history(db, person, *, start: date, end: date, base_fen: int = 600000, employer=None, deemed_until=None):
    """Paid months from ``start`` to ``end`` (inclusive) at ``base_fen``, 8% to the personal account; months before
    ``deemed_until`` are deemed (视同缴费) instead."""
    employer = employer or factories.employer(db)
    db.add(EmploymentSpell(person_id=person.id, employer_id=employer.id, start_month=start, end_month=end,
                           end_reason="retired", wage_fen=base_fen, created_at=NOW))
    month = start
    while month <= end:
        deemed = deemed_until is not None and month < deemed_until
        db.add(ContributionMonth(
            person_id=person.id, month=month, base_fen=0 if deemed else base_fen,
            employer_part_fen=0 if deemed else base_fen * 16 // 100,
            individual_part_fen=0 if deemed else base_fen * 8 // 100,
            personal_account_fen=0 if deemed else base_fen * 8 // 100,
            source="deemed" if deemed else "employer_filing", status="paid",
            employer_id=None if deemed else employer.id, created_at=NOW))
        month = add_months(month, 1)
    db.flush()
    return employer


def retiree(db, *, birth=date(1966, 3, 10), start=date(1996, 1, 1), region="220100", base_fen=600000,
            id_number=None, name="王小明"):
    """A man whose statutory month has come (born 1966-03: 60 years 4 months, 2026-07) with paid months from
    ``start`` to the month before; returns (person, actor)."""
    account = factories.person_account(db, birth=birth, region="220102", name=name,
                                       id_number=id_number or make_resident_id("220102", birth, next(_serial)))
    owner = db.get(Person, account.person_id)
    history(db, owner, start=start, end=date(2026, 6, 1), base_fen=base_fen,
            employer=factories.employer(db, region=region))
    return owner, person_actor(account)


def decide(db, case, *, approve=True, now=NOW):
    """A handler recommends, a different reviewer decides (the money kinds' route)."""
    handler = staff_actor(factories.staff(db, name="刘经办", roles="handler"))
    reviewer = staff_actor(factories.staff(db, name="陈复核", roles="reviewer"))
    taken = take.take_next(db, staff=handler, now=now)
    assert taken is not None and taken.reference == case.reference
    case = service.act(db, reference=case.reference, action="submit_for_review", actor=handler,
                       expected_version=taken.version, recommendation="approve" if approve else "reject",
                       reason_code="conditions_met" if approve else "not_eligible", now=now)
    return service.act(db, reference=case.reference, action="review_approve", actor=reviewer,
                       expected_version=case.version, now=now)


def awarded(db, actor, *, month="2026-07", now=NOW, today=TODAY, token="claim-1"):
    """Draft, submit and approve a retirement claim; returns the award."""
    filing = online(db, actor=actor)
    claims.save_draft(db, person=filing.person, retirement_month=month, actor=actor, now=now, today=today)
    case = claims.submit_claim(db, filing=filing, bank_code="ICBC", card_number=CARD, commitment=True, token=token,
                               now=now, today=today)
    decide(db, case, now=now)
    return claims.current_award(db, person_id=filing.person.id)
