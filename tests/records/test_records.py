"""The personal record: months from the first insured month, gaps with reasons, account and index."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portal.auth.principal import Actor, Principal
from portal.errors import Forbidden, NotFound
from portal.models import ContributionMonth, PersonalAccountYear
from portal.policy.rules.contribution_index import average_contribution_index
from portal.services.records import person_record
from tests import factories
from tests.records.support import NOW, person_actor, spell


def _month(db, person, month, *, status="paid", source="employer_filing", base=500000):
    db.add(ContributionMonth(person_id=person.id, month=month, base_fen=base, employer_part_fen=base * 16 // 100,
                             individual_part_fen=base * 8 // 100, personal_account_fen=base * 8 // 100,
                             source=source, status=status, created_at=NOW))


def test_the_record_lists_every_month_from_the_first_with_gaps_and_their_reasons(db):
    person = factories.person(db)
    spell(db, person=person, start=date(2024, 1, 1), end=date(2024, 6, 1))
    spell(db, person=person, start=date(2024, 9, 1))
    for number in range(1, 7):
        _month(db, person, date(2024, number, 1))
    _month(db, person, date(2024, 9, 1), status="arrears")
    _month(db, person, date(2024, 10, 1), status="billed")
    db.flush()
    record = person_record(db, actor=person_actor(person), today=date(2024, 11, 15))
    assert (record.first_month, record.last_month, record.cumulative_months) == (
        date(2024, 1, 1), date(2024, 11, 1), 6)
    assert [(gap.start, gap.months, gap.reason) for gap in record.gaps] == [
        (date(2024, 7, 1), 2, "not_insured"), (date(2024, 9, 1), 1, "arrears"), (date(2024, 10, 1), 1, "unpaid"),
        (date(2024, 11, 1), 1, "not_billed")]
    (year,) = record.years
    assert [cell.state if cell else None for cell in year.cells] == (
        ["paid"] * 6 + ["gap", "gap", "arrears", "unpaid", "gap", None])
    assert year.base_average == Decimal("5000.00")


def test_transferred_and_deemed_months_count_and_the_index_comes_from_the_policy(db):
    person = factories.person(db)
    _month(db, person, date(2023, 7, 1), source="transfer_in", base=665533)
    _month(db, person, date(2023, 8, 1), source="deemed", base=0)
    _month(db, person, date(2023, 9, 1), base=1331066)
    db.add(PersonalAccountYear(person_id=person.id, year=2023, opening_balance_fen=0, contributions_fen=100,
                               interest_fen=1, closing_balance_fen=101, interest_rate="0.0397", credited_at=NOW))
    db.flush()
    record = person_record(db, actor=person_actor(person), today=date(2023, 9, 30))
    assert [cell.state for cell in record.cells] == ["transferred_in", "deemed", "paid"]
    assert record.cumulative_months == 3
    expected = average_contribution_index([(date(2023, 7, 1), Decimal("6655.33")),
                                           (date(2023, 9, 1), Decimal("13310.66"))])
    assert record.average_index == expected.average_index == Decimal("1.50")
    assert record.account_balance == Decimal("1.01")
    assert record.csv_rows()[0][0] == "month" and record.csv_rows()[1][:3] == ("2023-07", "transferred_in",
                                                                                "transfer_in")


def test_a_person_reads_only_their_own_record(db):
    owner, stranger = factories.person(db), factories.person(db)
    _month(db, owner, date(2024, 1, 1))
    db.flush()
    with pytest.raises(NotFound):
        person_record(db, actor=person_actor(stranger), today=date(2024, 2, 1), person_id=owner.id)
    assert person_record(db, actor=person_actor(stranger), today=date(2024, 2, 1)).cumulative_months == 0
    operator = Actor(Principal(kind="employer", account_id=1, display_name="x", employer_id=1))
    with pytest.raises(Forbidden):
        person_record(db, actor=operator, today=date(2024, 2, 1), person_id=owner.id)
    staff = Actor(Principal(kind="staff", account_id=1, display_name="x", roles=frozenset({"handler"})))
    assert person_record(db, actor=staff, today=date(2024, 2, 1), person_id=owner.id).cumulative_months == 1
