"""The employer's employees and base declaration pages, through the app, in Chinese and English."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from portal.identifiers import make_resident_id
from portal.models import BaseDeclaration, DeclarationDraft, Employer, EmploymentSpell, Person
from tests import factories
from tests.conftest import csrf_token
from tests.helpers import error_links, field_error, html_lang, snapshot, token_from
from tests.records.support import spell

NEW_NUMBER = make_resident_id("220102", date(1992, 4, 9), 215)


@dataclass(frozen=True)
class Someone:
    id: int
    id_number: str
    name: str


class Firm:
    """An employer with two employees. Plain values only: touching ORM rows would open a transaction in the test's
    session and hold SQLite's write lock while the app answers."""

    def __init__(self, db, *, status="verified", username="admin"):
        employer = factories.employer(db, status=status)
        operator = factories.operator(db, employer_row=employer, username=username)
        people = [factories.person(db, name=name, birth=date(1982 + i, 6, 1))
                  for i, name in enumerate(("王一", "李二"))]
        spells = [spell(db, person=p, employer=employer, start=date(2024, 1, 1)) for p in people]
        self.employer_id, self.credit_code, self.username = employer.id, employer.credit_code, operator.username
        self.people = [Someone(p.id, p.id_number, p.name) for p in people]
        self.spell_ids = [row.id for row in spells]
        db.commit()

    def sign_in(self, client):
        data = {"account_type": "employer", "username": self.username, "password": factories.PASSWORD,
                "employer_code": self.credit_code, "csrf_token": token_from(client, "/login?account_type=employer")}
        assert client.post("/login", data=data).status_code == 303
        return client

    def csv(self, *wages: str) -> bytes:
        lines = ["公民身份号码,姓名,月工资"] + [f"{p.id_number},{p.name},{w}" for p, w in zip(self.people, wages, strict=False)]
        return "\n".join(lines).encode("utf-8")


def rows(db, statement) -> list:
    """Read, then end the test session's transaction so the app can write again."""
    found = db.exec(statement).all()
    db.rollback()
    return found


@pytest.fixture
def firm(db, frozen_clock):
    return Firm(db)


def _upload(client, data: bytes, *, filename="declaration.csv", lang="zh_CN"):
    page = client.get(f"/employer/declarations?lang={lang}")
    return client.post("/employer/declarations/upload", data={"csrf_token": csrf_token(page.text), "year": "2026"},
                       files={"file": (filename, data, "text/csv")})


# --- Employees --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang, heading", [("zh_CN", "zh-CN"), ("en", "en")])
def test_the_employee_list_shows_and_searches_the_employers_employees(client, firm, lang, heading):
    firm.sign_in(client)
    page = client.get(f"/employer/employees?lang={lang}")
    assert page.status_code == 200 and html_lang(page.text) == heading
    assert "王一" in page.text and "李二" in page.text
    found = client.get("/employer/employees?q=李")
    assert "李二" in found.text and "王一" not in found.text
    by_number = client.get(f"/employer/employees?q={firm.people[0].id_number[:14]}")
    assert "王一" in by_number.text


def test_adding_an_employee_opens_a_spell_and_says_so(client, db, firm):
    firm.sign_in(client)
    token = csrf_token(client.get("/employer/employees?lang=en").text)
    response = client.post("/employer/employees", data={"csrf_token": token, "id_number": NEW_NUMBER, "name": "周明",
                                                        "start_month": "2026-12", "wage": "6200"})
    assert response.status_code == 303
    [row] = rows(db, select(EmploymentSpell.employer_id, EmploymentSpell.start_month, EmploymentSpell.wage_fen)
                 .join(Person, Person.id == EmploymentSpell.person_id).where(Person.id_number == NEW_NUMBER))
    assert tuple(row) == (firm.employer_id, date(2026, 12, 1), 620000)
    assert "周明 was added from December 2026." in client.get("/employer/employees").text


def test_bad_input_keeps_the_values_and_names_the_fields(client, app, firm):
    firm.sign_in(client)
    token = csrf_token(client.get("/employer/employees?lang=en").text)
    before = snapshot(app.state.engine)
    bad = NEW_NUMBER[:17] + ("1" if NEW_NUMBER[17] != "1" else "2")
    response = client.post("/employer/employees", data={"csrf_token": token, "id_number": bad, "name": "周明",
                                                        "start_month": "next year", "wage": "-5"})
    assert response.status_code == 422
    assert error_links(response.text) == ["start_month"]
    assert f'value="{bad}"' in response.text and 'value="-5"' in response.text
    response = client.post("/employer/employees", data={"csrf_token": token, "id_number": bad, "name": "周明",
                                                        "start_month": "2026-12", "wage": "-5"})
    assert error_links(response.text) == ["id_number", "wage"]
    assert "last character does not match" in field_error(response.text, "id_number")
    assert snapshot(app.state.engine) == before


def test_a_person_employed_elsewhere_is_refused_naming_only_the_start_month(client, db, firm):
    elsewhere = factories.employer(db, name="吉林乙有限公司")
    person = factories.person(db, name="周明", id_number=NEW_NUMBER)
    spell(db, person=person, employer=elsewhere, start=date(2025, 3, 1))
    db.commit()
    firm.sign_in(client)
    token = csrf_token(client.get("/employer/employees?lang=en").text)
    response = client.post("/employer/employees", data={"csrf_token": token, "id_number": NEW_NUMBER, "name": "周明",
                                                        "start_month": "2026-12", "wage": "6200"})
    assert response.status_code == 409
    message = field_error(response.text, "id_number")
    assert "March 2025" in message and "吉林乙" not in response.text
    assert f'value="{NEW_NUMBER}"' in response.text


def test_ending_a_spell_records_the_month_and_reason(client, db, firm):
    firm.sign_in(client)
    spell_id = firm.spell_ids[0]
    page = client.get(f"/employer/employees/{spell_id}/end?lang=en")
    assert page.status_code == 200 and "王一" in page.text
    token = csrf_token(page.text)
    refused = client.post(f"/employer/employees/{spell_id}/end", data={"csrf_token": token, "end_month": "x"})
    assert refused.status_code == 422 and error_links(refused.text) == ["end_month", "reason"]
    done = client.post(f"/employer/employees/{spell_id}/end",
                       data={"csrf_token": token, "end_month": "2026-11", "reason": "resigned"})
    assert done.status_code == 303
    [ended] = rows(db, select(EmploymentSpell.end_month, EmploymentSpell.end_reason)
                   .where(EmploymentSpell.id == spell_id))
    assert tuple(ended) == (date(2026, 11, 1), "resigned")


def test_another_employers_operator_cannot_see_or_end_these_spells(client, db, firm):
    other = Firm(db, username="other")
    other.sign_in(client)
    listed = client.get("/employer/employees").text
    assert all(p.id_number not in listed for p in firm.people)
    assert client.get(f"/employer/employees/{firm.spell_ids[0]}/end").status_code == 404
    token = csrf_token(client.get("/employer/employees").text)
    response = client.post(f"/employer/employees/{firm.spell_ids[0]}/end",
                           data={"csrf_token": token, "end_month": "2026-11", "reason": "resigned"})
    assert response.status_code == 404
    assert rows(db, select(EmploymentSpell.end_month).where(EmploymentSpell.id == firm.spell_ids[0])) == [None]


def test_a_pending_employer_sees_why_it_cannot_file(client, db, frozen_clock):
    pending = Firm(db, status="pending")
    pending.sign_in(client)
    for path in ("/employer/employees?lang=en", "/employer/declarations?lang=en"):
        page = client.get(path)
        assert page.status_code == 200 and "You cannot file for employees yet" in page.text
        assert 'action="/employer/employees"' not in page.text and 'type="file"' not in page.text
    token = csrf_token(page.text)
    refused = client.post("/employer/employees", data={"csrf_token": token, "id_number": NEW_NUMBER, "name": "周明",
                                                       "start_month": "2026-12", "wage": "6200"})
    assert refused.status_code == 403 and "has not been verified" in refused.text


def test_a_person_and_staff_cannot_open_the_employer_pages(client, db, frozen_clock):
    from tests.helpers import new_person, sign_in_person

    sign_in_person(client, new_person(db))
    assert client.get("/employer/employees").status_code == 403
    assert client.get("/employer/declarations").status_code == 403


# --- Declarations -----------------------------------------------------------------------------------------


def test_the_declaration_page_offers_a_form_an_upload_and_templates(client, firm):
    firm.sign_in(client)
    page = client.get("/employer/declarations?lang=en")
    assert page.status_code == 200
    assert 'name="file" type="file"' in page.text
    assert f'name="wage_{firm.people[0].id}"' in page.text
    csv_file = client.get("/employer/declarations/template.csv?year=2026")
    assert csv_file.status_code == 200 and csv_file.content.startswith(b"\xef\xbb\xbf")
    assert firm.people[0].id_number in csv_file.content.decode("utf-8-sig")
    xlsx = client.get("/employer/declarations/template.xlsx")
    workbook = load_workbook(io.BytesIO(xlsx.content), read_only=True)
    assert next(workbook.worksheets[0].iter_rows(values_only=True))[0].startswith("公民身份号码")


@pytest.mark.parametrize("lang, column, message", [
    ("zh_CN", "姓名", "公民身份号码为18位。"),
    ("en", "Identity number", "An identity number has 18 characters."),
])
def test_a_bad_file_is_listed_by_row_and_column_in_the_visitors_language(client, app, firm, lang, column, message):
    firm.sign_in(client)
    before = snapshot(app.state.engine)
    data = firm.csv("8000") + "\n12345,某人,9000".encode()
    response = _upload(client, data, lang=lang)
    assert response.status_code == 422
    assert error_links(response.text) == ["file"]
    table = response.text.split('id="problems"')[1].split("</table>")[0]
    cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", table, re.S)]
    assert cells[:4] == ["3", "Identity number" if lang == "en" else cells[1], "12345", message]
    assert column in response.text
    after = snapshot(app.state.engine)
    # Nothing changed but the audit log, which counts the refused upload against the account's upload rate.
    assert {name: rows for name, rows in after.items() if not name.startswith("audit_")} == {
        name: rows for name, rows in before.items() if not name.startswith("audit_")}
    assert len(after["audit_event"]) == len(before["audit_event"]) + 1
    assert any("upload.received" in row for row in after["audit_event"])


def test_a_clean_upload_previews_then_saves_on_confirmation(client, db, firm):
    firm.sign_in(client)
    response = _upload(client, firm.csv("8000", "3000"), lang="en")
    assert response.status_code == 303
    preview_url = response.headers["location"]
    assert preview_url.startswith("/employer/declarations/preview/")
    preview = client.get(preview_url)
    assert preview.status_code == 200
    assert "Raised to the floor" in preview.text and "8,000.00" in preview.text
    assert rows(db, select(BaseDeclaration)) == []
    done = client.post(preview_url, data={"csrf_token": csrf_token(preview.text)})
    assert done.status_code == 303 and done.headers["location"] == "/employer/declarations?year=2026"
    assert sorted(rows(db, select(BaseDeclaration.wage_fen))) == [300000, 800000]
    assert "2 employees" in client.get(done.headers["location"]).text


def test_the_form_declares_the_wages_typed_on_the_page(client, db, firm):
    firm.sign_in(client)
    page = client.get("/employer/declarations?lang=en")
    first, second = firm.people
    data = {"csrf_token": csrf_token(page.text), "year": "2026", f"wage_{first.id}": "7000",
            f"wage_{second.id}": "-1"}
    refused = client.post("/employer/declarations/form", data=data)
    assert refused.status_code == 422 and re.findall(r'<a href="#field-(wage_\d+)">', refused.text) == [f"wage_{second.id}"]
    assert 'value="-1"' in refused.text and 'value="7000"' in refused.text
    data[f"wage_{second.id}"] = "7100.50"
    response = client.post("/employer/declarations/form", data=data)
    assert response.status_code == 303
    client.post(response.headers["location"], data={"csrf_token": data["csrf_token"]})
    assert sorted(rows(db, select(BaseDeclaration.wage_fen))) == [700000, 710050]


def test_another_employers_operator_cannot_open_or_submit_the_preview(client, app, db, firm):
    firm.sign_in(client)
    preview_url = _upload(client, firm.csv("8000", "9000")).headers["location"]
    from tests.helpers import another_browser

    other = Firm(db, username="other")
    browser = other.sign_in(another_browser(app))
    assert browser.get(preview_url).status_code == 404
    token = csrf_token(browser.get("/employer/declarations").text)
    assert browser.post(preview_url, data={"csrf_token": token}).status_code == 404
    assert rows(db, select(BaseDeclaration)) == []
    assert len(rows(db, select(DeclarationDraft))) == 1
    # Nor can they declare for these employees by file.
    refused = _upload(browser, firm.csv("8000", "9000"), lang="en")
    assert refused.status_code == 422 and "not employed by your employer" in refused.text


def test_choosing_no_file_names_the_file_field(client, firm):
    firm.sign_in(client)
    page = client.get("/employer/declarations?lang=en")
    response = client.post("/employer/declarations/upload", data={"csrf_token": csrf_token(page.text)},
                           files={"file": ("", b"", "application/octet-stream")})
    assert response.status_code == 422 and error_links(response.text) == ["file"]


def test_a_long_employee_list_comes_a_page_at_a_time_and_keeps_the_search_on_each_link(client, db, firm):
    employer = db.get(Employer, firm.employer_id)
    for n in range(60):
        spell(db, person=factories.person(db, name=f"张{n:02d}", birth=date(1970 + n % 30, 1, 1)), employer=employer,
              start=date(2024, 1, 1))
    db.commit()
    firm.sign_in(client)
    first = client.get("/employer/employees?q=张&lang=en")
    assert "Page 1 of 2" in first.text
    assert 'href="/employer/employees?q=%E5%BC%A0&amp;page=2" rel="next"' in first.text
    second = client.get("/employer/employees?q=张&page=2&lang=en")
    assert "Page 2 of 2" in second.text and 'rel="prev"' in second.text and 'rel="next"' not in second.text
