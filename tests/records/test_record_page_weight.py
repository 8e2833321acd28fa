"""A forty-year record stays light enough for a phone: /me/records under 60 KB of HTML, every month still told."""

from __future__ import annotations

from datetime import date

from sqlalchemy import insert, select

from portal.models import ContributionMonth, Employer, Person, PersonalAccountYear
from tests import factories
from tests.helpers import new_person, sign_in_person
from tests.records.support import NOW, months_told

FIRST = date(1986, 12, 1)
MONTHS = 480
LIMIT = 60 * 1024


def _month(index: int) -> date:
    number = FIRST.year * 12 + FIRST.month - 1 + index
    return date(number // 12, number % 12 + 1, 1)


def _forty_years(db, person_id: int, employer_id: int) -> None:
    rows = []
    for index in range(MONTHS):
        if 300 <= index < 306:
            continue  # half a year out of work: a gap the page must explain
        base = 150000 + 2000 * index
        flexible = 120 <= index < 180
        rows.append({"person_id": person_id, "month": _month(index), "base_fen": base,
                     "employer_part_fen": base * 16 // 100, "individual_part_fen": base * 8 // 100,
                     "personal_account_fen": base * 8 // 100,
                     "source": "flexible_payment" if flexible else "employer_filing", "status": "paid",
                     "employer_id": None if flexible else employer_id, "created_at": NOW})
    db.execute(insert(ContributionMonth), rows)
    balance = 0
    for year in range(FIRST.year, 2026):
        paid = sum(row["personal_account_fen"] for row in rows if row["month"].year == year)
        db.execute(insert(PersonalAccountYear).values(
            person_id=person_id, year=year, opening_balance_fen=balance, contributions_fen=paid,
            interest_fen=0, closing_balance_fen=balance + paid, interest_rate="0.03", credited_at=NOW))
        balance += paid


def test_a_forty_year_record_page_is_under_60_kb_and_still_names_every_month(client, db, cheap_hashing,
                                                                               frozen_clock):
    number = new_person(db, birth=date(1966, 5, 4))
    person_id = db.execute(select(Person.id).where(Person.id_number == number)).scalar_one()
    employer: Employer = factories.employer(db)
    _forty_years(db, person_id, employer.id)
    db.commit()
    assert sign_in_person(client, number).status_code == 303

    page = client.get("/me/records")

    assert page.status_code == 200
    size = len(page.content)
    assert size <= LIMIT, f"{size} bytes"
    told = months_told(page.text)
    assert len(told) == MONTHS and told["2012-05"] == "gap" and told["2012-06"] == "paid" and told["1986-12"] == "paid"
    assert "2012年1月至2012年5月：未缴费" in page.text  # a run of months, told in words with Chinese punctuation

