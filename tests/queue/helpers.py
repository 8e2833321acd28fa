"""Builders for queue tests: actors for accounts made with tests.factories, and a submitted case."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from portal.auth.principal import Actor, Principal
from portal.queue import service
from tests import factories

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Monday 10:00 in China
_keys = itertools.count(1)


def person_actor(account) -> Actor:
    return Actor(Principal(kind="person", account_id=account.id, display_name="p", person_id=account.person_id))


def operator_actor(operator) -> Actor:
    return Actor(Principal(kind="employer", account_id=operator.id, display_name="o",
                           employer_id=operator.employer_id, is_employer_admin=operator.is_admin))


def staff_actor(staff) -> Actor:
    return Actor(Principal(kind="staff", account_id=staff.id, display_name=staff.name, roles=staff.role_set,
                           region=staff.region))


def default_payload(kind: str) -> dict:
    """A correction that passes its automatic check (a month of its own, so two never overlap); other kinds get
    a payload their checks may refuse, which is what the tests of checks want."""
    if kind != "enrolment_correction":
        return {"months": 3}
    n = next(_keys)
    return {"months": [f"{2000 + n // 12}-{n % 12 + 1:02d}"], "what": "missing"}


def submit(db, actor, *, kind="enrolment_correction", key=None, prefecture="220100", now=NOW, tier="B", payload=None):
    return service.submit(db, kind=kind, applicant=actor, payload=payload or default_payload(kind),
                          prefecture=prefecture, channel="web", idempotency_key=key or f"k{next(_keys)}",
                          now=now, tier=tier)


def people(db):
    """An applicant, two handlers, a reviewer and a supervisor."""
    applicant = factories.person_account(db)
    return {
        "applicant": person_actor(applicant),
        "handler": staff_actor(factories.staff(db, name="刘经办", roles="handler")),
        "handler2": staff_actor(factories.staff(db, name="王经办", roles="handler")),
        "reviewer": staff_actor(factories.staff(db, name="陈复核", roles="reviewer")),
        "supervisor": staff_actor(factories.staff(db, name="周主管", roles="supervisor")),
    }
