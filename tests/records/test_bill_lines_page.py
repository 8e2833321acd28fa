"""A bill's lines have a page of their own, a hundred at a time, and a spreadsheet: the bills page of an employer
with thousands of employees lists its bills with a count, never every line of every bill."""

from __future__ import annotations

import csv
import io
from datetime import date

from sqlmodel import select

from portal.models import Bill, Employer
from portal.services import billing
from tests import factories
from tests.helpers import sign_in_operator
from tests.records.support import NOW, spell

NOVEMBER = date(2026, 11, 1)


def employer_with(db, employees: int, *, username="admin"):
    operator = factories.operator(db, username=username)
    employer = db.get(Employer, operator.employer_id)
    for n in range(employees):
        spell(db, employer=employer, person=factories.person(db, name=f"职工{n:03d}"), start=date(2026, 1, 1))
    billing.run_billing(db, month=NOVEMBER, now=NOW)
    bill = db.exec(select(Bill).where(Bill.payer_kind == "employer", Bill.payer_id == employer.id)).one()
    db.commit()
    return operator, employer, bill


def test_the_bills_page_gives_each_bill_s_count_and_a_link_instead_of_its_lines(client, db, frozen_clock):
    operator, employer, bill = employer_with(db, 3)
    sign_in_operator(client, operator, employer.credit_code)
    page = client.get("/employer/bills?lang=en")
    assert page.status_code == 200
    assert "See the lines of its 3 employees" in page.text
    assert f'href="/employer/bills/{bill.id}"' in page.text
    assert "职工000" not in page.text


def test_a_bill_s_lines_come_a_hundred_to_a_page_in_identity_number_order(client, db, frozen_clock):
    operator, employer, bill = employer_with(db, 105)
    sign_in_operator(client, operator, employer.credit_code)
    first = client.get(f"/employer/bills/{bill.id}?lang=en")
    assert first.status_code == 200
    assert first.text.count('<th scope="row">') == 100
    assert "Employees 1 to 100 of 105" in first.text and "Page 1 of 2" in first.text and 'rel="next"' in first.text
    second = client.get(f"/employer/bills/{bill.id}?page=2&lang=en")
    assert second.text.count('<th scope="row">') == 5 and "Employees 101 to 105 of 105" in second.text
    beyond = client.get(f"/employer/bills/{bill.id}?page=9&lang=en")
    assert "Page 2 of 2" in beyond.text  # a page past the end shows the last one


def test_the_spreadsheet_has_every_line_with_the_amounts_in_yuan(client, db, frozen_clock):
    operator, employer, bill = employer_with(db, 3)
    sign_in_operator(client, operator, employer.credit_code)
    answer = client.get(f"/employer/bills/{bill.id}/lines.csv?lang=en")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert answer.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0] == ["Identity number", "Employee", "Base", "Employer part", "Individual part", "Amount"]
    assert len(rows) == 4 and {row[1] for row in rows[1:]} == {"职工000", "职工001", "职工002"}
    total = sum(int(row[5].replace(".", "")) for row in rows[1:])
    assert total == bill.total_fen


def test_another_employer_s_bill_is_not_found_on_either_page(client, db, frozen_clock):
    _, _, theirs = employer_with(db, 1, username="theirs")
    operator, employer, _ = employer_with(db, 1, username="ours")
    sign_in_operator(client, operator, employer.credit_code)
    assert client.get(f"/employer/bills/{theirs.id}").status_code == 404
    assert client.get(f"/employer/bills/{theirs.id}/lines.csv").status_code == 404
    assert client.get("/employer/bills/99999999999").status_code == 404
