"""Builders for the records tests: actors and rows the billing run works on."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from portal.auth.principal import Actor, Principal
from portal.models import EmploymentSpell, FlexibleBaseChoice, FlexibleEnrolment
from tests import factories

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
TODAY = date(2026, 11, 28)


def employer_actor(operator) -> Actor:
    return Actor(Principal(kind="employer", account_id=operator.id, display_name=operator.name,
                           employer_id=operator.employer_id, employer_status="verified", is_employer_admin=True),
                 address="127.0.0.1")


def person_actor(person) -> Actor:
    return Actor(Principal(kind="person", account_id=person.id, display_name=person.name, person_id=person.id),
                 address="127.0.0.1")


def spell(db, *, person=None, employer=None, start=date(2020, 1, 1), end=None, wage_fen=600000) -> EmploymentSpell:
    person = person or factories.person(db)
    employer = employer or factories.employer(db)
    row = EmploymentSpell(person_id=person.id, employer_id=employer.id, start_month=start, end_month=end,
                          wage_fen=wage_fen, created_at=NOW)
    db.add(row)
    db.flush()
    return row


def flexible(db, *, person=None, start=date(2024, 1, 1), end=None, percents=None) -> FlexibleEnrolment:
    person = person or factories.person(db)
    row = FlexibleEnrolment(person_id=person.id, start_month=start, end_month=end, created_at=NOW)
    db.add(row)
    db.flush()
    for year, percent in (percents or {}).items():
        db.add(FlexibleBaseChoice(enrolment_id=row.id, contribution_year=year, base_percent=percent, created_at=NOW))
    db.flush()
    return row


_RUN = re.compile(r'data-from="(\d{4})-(\d{2})" data-to="\d{4}-(\d{2})" data-state="([a-z_]+)"')


def months_told(page: str) -> dict[str, str]:
    """Each month of /me/records' grid and its state: a cell covers a run of months of one year."""
    told = {}
    for year, first, last, state in _RUN.findall(page):
        for month in range(int(first), int(last) + 1):
            told[f"{year}-{month:02d}"] = state
    return told
