"""The yearly adjustment, written for every pensioner in one statement: each part as the parameters give it (the
fixed amount, per full contribution year, the percentage rounded half up to the fen, the age band reached on
1 January), once a person a year, none for an award stopped before the year or a person retired during it."""

from __future__ import annotations

import json
from datetime import date

from sqlmodel import select

from portal.models import PensionAdjustment, PensionAward
from portal.services import payroll
from tests import factories
from tests.benefits.support import NOW

RETIRED = date(2020, 6, 1)


def pensioner(db, *, birth: date, monthly_fen: int = 300000, months: int = 360, retired: date = RETIRED,
              stopped_after: date | None = None) -> int:
    person = factories.person(db, birth=birth)
    db.add(PensionAward(code=f"T{person.id:09d}", person_id=person.id, region="220100", retirement_month=retired,
                        first_payment_month=retired, claim_date=retired, actual_months=months, deemed_months=0,
                        average_index="1.00", divisor_months="139", monthly_fen=monthly_fen, explanation_json="{}",
                        bank_code="ICBC", card_number="6222020200112233446", stopped_after=stopped_after,
                        awarded_at=NOW))
    db.flush()
    return person.id


def amounts(db) -> dict[int, int]:
    return {row.person_id: row.amount_fen for row in db.exec(select(PensionAdjustment)).all()}


def test_each_part_comes_from_the_parameters_with_the_age_band_reached_on_the_first_of_january(db):
    # 2027's parts (assumed): 25.00 fixed, 0.80 a full year, 0.5% of the pension; 10.00 from 70, 20.00 from 75.
    just_70 = pensioner(db, birth=date(1957, 1, 20))  # 70 on 1 January 2027 (counted from the birth month)
    not_yet = pensioner(db, birth=date(1957, 2, 3))  # 69 years and 11 months
    seventy_six = pensioner(db, birth=date(1950, 3, 9), months=359)  # 29 full years
    half_fen = pensioner(db, birth=date(1962, 5, 1), monthly_fen=300100)  # 0.5% is 15.005: 15.01
    done = payroll.adjust(db, year=2027, now=NOW)
    assert done.awards == 4 and done.assumed
    assert amounts(db) == {
        just_70: 2500 + 80 * 30 + 1500 + 1000,
        not_yet: 2500 + 80 * 30 + 1500,
        seventy_six: 2500 + 80 * 29 + 1500 + 2000,
        half_fen: 2500 + 80 * 30 + 1501,
    }
    assert done.amount * 100 == sum(amounts(db).values())
    parts = json.loads(db.exec(select(PensionAdjustment.parts_json)).first())
    assert parts["percent_of_pension"] == "0.0050" and parts["confidence"] == "low" and parts["source"]


def test_a_second_run_writes_nothing_and_nobody_retired_in_the_year_or_stopped_before_it_is_adjusted(db):
    kept = pensioner(db, birth=date(1960, 1, 1))
    pensioner(db, birth=date(1960, 1, 1), retired=date(2027, 1, 1))  # retired in the year: next year's
    pensioner(db, birth=date(1940, 1, 1), stopped_after=date(2026, 12, 1))  # died in December
    assert payroll.adjust(db, year=2027, now=NOW).awards == 1
    again = payroll.adjust(db, year=2027, now=NOW)
    assert (again.awards, again.amount, again.assumed) == (0, 0, False)
    assert list(amounts(db)) == [kept]


def test_a_thousand_pensioners_are_adjusted_in_one_go(db):
    people = [pensioner(db, birth=date(1940 + n % 25, 1 + n % 12, 1)) for n in range(1000)]
    assert payroll.adjust(db, year=2027, now=NOW).awards == 1000
    assert set(amounts(db)) == set(people)
