"""Builders for transfer tests: a proven person applying, the two staff who issue the letter, the other province."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

from portal.auth.principal import Actor, Principal
from portal.models import Case, Person
from portal.queue import service as queue
from portal.queue import take
from portal.services import transfers
from tests import factories
from tests.queue.helpers import staff_actor

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Monday 30 November 2026, 10:00 in China
_keys = itertools.count(1)


def person_actor(account) -> Actor:
    return Actor(Principal(kind="person", account_id=account.id, display_name="p", person_id=account.person_id,
                           identity_proven=True))


def applicant(db, *, birth=date(1985, 3, 15), region="220102", sex="male"):
    account = factories.person_account(db, birth=birth, region=region)
    db.get(Person, account.person_id).sex = sex  # the identity number's sequence digit follows the test order
    db.flush()
    return account, person_actor(account)


def apply(db, actor, *, other="110000", hukou="220000", exemption="", periods=(("2008-03", "2015-06"),), now=NOW):
    return transfers.apply_in(db, actor=actor, other_province=other, hukou_province=hukou, exemption=exemption,
                              periods=list(periods), token=f"t{next(_keys)}", now=now)


def issue_letter(db, transfer, *, now=NOW, approve=True):
    """A handler recommends and a different reviewer decides: a transfer moves money, so two people."""
    handler = staff_actor(factories.staff(db, name="刘经办", roles="handler"))
    reviewer = staff_actor(factories.staff(db, name="陈复核", roles="reviewer"))
    case = db.get(Case, transfer.case_id)
    taken = take.take_next(db, staff=handler, now=now)
    assert taken is not None and taken.reference == case.reference
    case = queue.act(db, reference=case.reference, action="submit_for_review", actor=handler,
                     expected_version=taken.version, recommendation="approve" if approve else "reject",
                     reason_code="conditions_met" if approve else "not_eligible", now=now)
    return queue.act(db, reference=case.reference, action="review_approve", actor=reviewer,
                     expected_version=case.version, now=now)
