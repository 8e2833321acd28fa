"""The yearly base declaration: every bad file refused by row and column with nothing saved; clean files of
every accepted kind previewed with the policy engine's figures and saved on confirmation."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook
from sqlmodel import select

from portal.errors import Conflict, Forbidden, NotFound
from portal.identifiers import make_resident_id
from portal.models import AuditEvent, BaseDeclaration, ContributionMonth, DeclarationDraft
from portal.policy.money import from_fen
from portal.policy.parameters import param
from portal.policy.rules.contribution import employee_contribution
from portal.services import billing, declarations
from portal.services.declarations import DeclarationRefused
from tests import factories
from tests.records.support import NOW, TODAY, employer_actor, spell

YEAR = 2026  # the contribution year containing TODAY (2026-11-28)
HEADER = "公民身份号码,姓名,月工资"


class Staffed:
    """An employer with three employees this year and an operator; another employer with one of its own."""

    def __init__(self, db):
        self.employer = factories.employer(db)
        self.operator = factories.operator(db, employer_row=self.employer)
        self.actor = employer_actor(self.operator)
        self.people = [factories.person(db, name=name, birth=date(1980 + i, 2, 3))
                       for i, name in enumerate(("王一", "李二", "张三"))]
        for person in self.people:
            spell(db, person=person, employer=self.employer, start=date(2024, 1, 1), wage_fen=600000)
        self.other_employer = factories.employer(db, name="吉林乙有限公司")
        self.other_operator = factories.operator(db, employer_row=self.other_employer, username="other")
        self.stranger = factories.person(db, name="赵外")
        spell(db, person=self.stranger, employer=self.other_employer, start=date(2024, 1, 1))

    def csv(self, *lines: str, header: str = HEADER) -> bytes:
        return "\n".join([header, *lines]).encode("utf-8")

    def line(self, index: int, wage: str = "8000") -> str:
        person = self.people[index]
        return f"{person.id_number},{person.name},{wage}"

    def clean_csv(self) -> bytes:
        return self.csv(self.line(0, "8000"), self.line(1, "3000"), self.line(2, "99999"))

    def prepare(self, db, data: bytes, *, filename: str = "declaration.csv", actor=None):
        rows = declarations.read_file(filename=filename, data=data)
        return declarations.prepare(db, actor=actor or self.actor, year=YEAR, rows=rows, source="csv", now=NOW,
                                    today=TODAY)


@pytest.fixture
def staffed(db):
    return Staffed(db)


def _refused(staffed, db, data: bytes, filename: str = "declaration.csv") -> list[tuple[int, str, str]]:
    with pytest.raises(DeclarationRefused) as refused:
        staffed.prepare(db, data, filename=filename)
    assert db.exec(select(DeclarationDraft)).all() == []
    assert db.exec(select(BaseDeclaration)).all() == []
    return [(p.row, p.column, p.message.text) for p in refused.value.problems]


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- Accepted files ---------------------------------------------------------------------------------------


def test_a_clean_utf8_file_becomes_a_draft_with_each_base_clamped_by_the_policy_engine(db, staffed):
    draft = staffed.prepare(db, staffed.clean_csv())
    rows = json.loads(draft.rows)
    floor, cap = param("base_floor").at(date(YEAR, 7, 1)).value, param("base_cap").at(date(YEAR, 7, 1)).value
    assert [(row[1], from_fen(row[2]), row[3]) for row in rows] == [
        (800000, Decimal("8000.00"), None), (300000, floor, "floor"), (9999900, cap, "cap")]
    assert draft.contribution_year == YEAR and draft.row_count == 3
    assert db.exec(select(BaseDeclaration)).all() == []  # nothing declared before confirmation


def test_a_utf8_file_with_a_byte_order_mark_and_english_headers_is_accepted(db, staffed):
    data = b"\xef\xbb\xbf" + staffed.csv(staffed.line(0), header="Identity number,Name,Monthly wage (yuan)")
    assert staffed.prepare(db, data).row_count == 1


def test_a_gbk_file_is_accepted(db, staffed):
    text = "\r\n".join(["公民身份号码 / Identity number,姓名 / Name,月工资（元）", staffed.line(0), staffed.line(1)])
    assert staffed.prepare(db, text.encode("gbk")).row_count == 2


def test_an_xlsx_file_is_accepted_with_columns_in_any_order_and_blank_rows_skipped(db, staffed):
    people = staffed.people
    data = _xlsx([["月工资", "姓名", "公民身份号码"], [8000, people[0].name, people[0].id_number], [],
                  [Decimal("7300.50"), people[1].name, people[1].id_number]])
    draft = staffed.prepare(db, data, filename="申报.xlsx")
    assert [row[1] for row in json.loads(draft.rows)] == [800000, 730050]


def test_the_downloaded_templates_list_the_employees_and_read_back(db, staffed):
    csv_bytes = declarations.template_csv(db, actor=staffed.actor, year=YEAR)
    assert csv_bytes.startswith(b"\xef\xbb\xbf")
    assert all(person.id_number in csv_bytes.decode("utf-8-sig") for person in staffed.people)
    workbook = load_workbook(io.BytesIO(declarations.template_xlsx(db, actor=staffed.actor, year=YEAR)))
    values = list(workbook.active.iter_rows(values_only=True))
    assert values[0] == declarations.TEMPLATE_HEADER
    assert {row[0] for row in values[1:]} == {person.id_number for person in staffed.people}
    # Filled in, the template is a valid declaration.
    filled = csv_bytes.decode("utf-8-sig").replace("\r\n", "\n").strip().split("\n")
    data = ("\n".join([filled[0]] + [line.rstrip(",") + ",6000" for line in filled[1:]])).encode("utf-8-sig")
    assert staffed.prepare(db, data).row_count == 3


# --- Refused files ----------------------------------------------------------------------------------------


def test_a_shift_jis_file_is_refused_and_nothing_is_saved(db, staffed):
    person = staffed.people[0]  # 王一: both characters exist in Shift-JIS, under other bytes than in GBK
    data = f"Identity number,Name,Monthly wage\n{person.id_number},{person.name},8000\n".encode("shift_jis")
    assert data.decode("gbk", errors="replace") != data.decode("shift_jis")
    problems = _refused(staffed, db, data)
    assert [(row, column) for row, column, _ in problems] in ([(2, "name")], [(0, "file")])


def test_a_utf16_file_is_refused_as_the_wrong_encoding(db, staffed):
    for data in (staffed.clean_csv().decode("utf-8").encode("utf-16"),
                 staffed.clean_csv().decode("utf-8").encode("utf-16-le")):
        assert [(row, column) for row, column, _ in _refused(staffed, db, data)] == [(0, "file")]


def test_a_bad_identity_number_is_named_by_row_and_column(db, staffed):
    bad = staffed.people[1].id_number[:17] + ("0" if staffed.people[1].id_number[17] != "0" else "1")
    data = staffed.csv(staffed.line(0), f"{bad},{staffed.people[1].name},8000", "12345,某人,8000")
    assert _refused(staffed, db, data) == [
        (3, "id_number", "This identity number is not valid: its last character does not match. Check each digit."),
        (4, "id_number", "An identity number has 18 characters.")]


def test_duplicate_rows_are_refused_naming_the_first_row(db, staffed):
    problems = _refused(staffed, db, staffed.csv(staffed.line(0), staffed.line(1), staffed.line(0, "9000")))
    assert problems == [(4, "id_number", "This identity number is already on row %(row)s.")]


@pytest.mark.parametrize("wage, message", [
    ("-5000", "The monthly wage must be more than zero."),
    ("0", "The monthly wage must be more than zero."),
    ("abc", "Enter the monthly wage in yuan, such as 5200 or 5200.50."),
    ("", "Enter the monthly wage in yuan, such as 5200 or 5200.50."),
    ("5200.555", "Enter the monthly wage in yuan, such as 5200 or 5200.50."),
    ("999999999", "This wage is implausibly high for a month. Enter the monthly wage, not the yearly one."),
    ("0.52", "This wage is implausibly low for a month. Enter the monthly wage in yuan, not in thousands or "
             "ten-thousands of yuan."),
    ("52", "This wage is implausibly low for a month. Enter the monthly wage in yuan, not in thousands or "
           "ten-thousands of yuan."),
])
def test_negative_missing_or_absurd_wages_are_refused(db, staffed, wage, message):
    problems = _refused(staffed, db, staffed.csv(staffed.line(0), staffed.line(1, wage)))
    assert problems == [(3, "wage", message)]


def test_a_person_not_employed_here_is_refused_without_saying_where_they_work(db, staffed):
    outsider = staffed.stranger
    unknown = make_resident_id("220102", date(1991, 1, 1), 77)
    data = staffed.csv(staffed.line(0), f"{outsider.id_number},{outsider.name},8000", f"{unknown},某人,8000")
    problems = _refused(staffed, db, data)
    assert [(row, column) for row, column, _ in problems] == [(3, "id_number"), (4, "id_number")]
    assert all("not employed by your employer" in text for _, _, text in problems)


def test_a_name_that_does_not_match_the_person_is_refused(db, staffed):
    person = staffed.people[0]
    assert _refused(staffed, db, staffed.csv(f"{person.id_number},王二,8000")) == [
        (2, "name", "The name does not match our records for this identity number.")]


def test_an_empty_file_a_header_only_file_and_a_headerless_file_are_refused(db, staffed):
    assert _refused(staffed, db, b"") == [(0, "file", "The file is empty.")]
    assert [p[:2] for p in _refused(staffed, db, HEADER.encode() + b"\n,,\n")] == [(0, "file")]
    assert [p[:2] for p in _refused(staffed, db, staffed.line(0).encode())] == [(1, "file")]


def test_a_huge_file_is_refused_by_size_and_by_row_count(db, staffed):
    too_big = staffed.csv(*[staffed.line(0)] * 200_000)
    assert len(too_big) > declarations.MAX_BYTES
    assert [p[:2] for p in _refused(staffed, db, too_big)] == [(0, "file")]
    too_many = staffed.csv(*[f"{staffed.people[0].id_number},,1"] * (declarations.MAX_ROWS + 1))
    assert len(too_many) < declarations.MAX_BYTES
    assert _refused(staffed, db, too_many)[0][2].startswith("The file has more than")


def test_a_damaged_workbook_is_refused(db, staffed):
    assert [p[:2] for p in _refused(staffed, db, b"PK\x03\x04 not really a workbook", "x.xlsx")] == [(0, "file")]


def test_every_problem_of_a_file_is_listed_not_only_the_first(db, staffed):
    data = staffed.csv(f"{staffed.people[0].id_number},,-1", "bad,王二,abc")
    assert [(row, column) for row, column, _ in _refused(staffed, db, data)] == [
        (2, "name"), (2, "wage"), (3, "id_number"), (3, "wage")]


# --- Preview and confirmation -----------------------------------------------------------------------------


def test_the_preview_shows_the_policy_engines_base_and_monthly_bill_for_each_employee(db, staffed):
    draft = staffed.prepare(db, staffed.clean_csv())
    shown = declarations.preview(db, actor=staffed.actor, token=draft.token, now=NOW)
    month = date(YEAR, 7, 1)
    for line, wage in zip(shown.lines, ("8000", "3000", "99999"), strict=True):
        expected = employee_contribution(Decimal(wage), month)
        assert (line.result.base, line.result.clamped, line.result.employer, line.result.individual,
                line.result.total) == (expected.base, expected.clamped, expected.employer, expected.individual,
                                       expected.total)
    expected = [employee_contribution(Decimal(w), month) for w in ("8000", "3000", "99999")]
    assert shown.employer_total == sum(e.employer for e in expected)
    assert shown.total == sum(e.total for e in expected)
    assert (shown.raised, shown.lowered, shown.not_declared, shown.replaces) == (1, 1, 0, 0)
    assert (shown.billed_until, shown.month) == (None, month)  # nothing billed yet this year: from July


def test_the_preview_says_the_new_bases_apply_from_the_first_month_not_yet_billed(db, staffed):
    from portal.services import billing

    for month in (date(YEAR, 7, 1), date(YEAR, 8, 1), date(YEAR, 9, 1)):
        billing.run_billing(db, month=month, now=NOW)
    draft = staffed.prepare(db, staffed.clean_csv())
    shown = declarations.preview(db, actor=staffed.actor, token=draft.token, now=NOW)
    assert (shown.billed_until, shown.month) == (date(YEAR, 9, 1), date(YEAR, 10, 1))


def test_confirming_saves_every_row_once_audits_it_and_forgets_the_draft(db, staffed):
    draft = staffed.prepare(db, staffed.clean_csv())
    assert declarations.confirm(db, actor=staffed.actor, token=draft.token, now=NOW) == (YEAR, 3)
    saved = db.exec(select(BaseDeclaration).order_by(BaseDeclaration.wage_fen)).all()
    assert [(row.person_id, row.wage_fen, row.clamped) for row in saved] == [
        (staffed.people[1].id, 300000, "floor"), (staffed.people[0].id, 800000, None),
        (staffed.people[2].id, 9999900, "cap")]
    assert db.exec(select(DeclarationDraft)).all() == []
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "declaration.submitted")).one()
    assert event.object_id == str(staffed.employer.id)
    with pytest.raises(NotFound):  # the same preview cannot be submitted twice
        declarations.confirm(db, actor=staffed.actor, token=draft.token, now=NOW)


def test_declaring_again_replaces_the_years_declaration_whole(db, staffed):
    first = staffed.prepare(db, staffed.clean_csv())
    declarations.confirm(db, actor=staffed.actor, token=first.token, now=NOW)
    second = staffed.prepare(db, staffed.csv(staffed.line(0, "9100")))
    assert declarations.preview(db, actor=staffed.actor, token=second.token, now=NOW).replaces == 3
    declarations.confirm(db, actor=staffed.actor, token=second.token, now=NOW)
    assert [(row.person_id, row.wage_fen) for row in db.exec(select(BaseDeclaration)).all()] == [
        (staffed.people[0].id, 910000)]


def test_the_declared_wage_is_what_billing_uses_for_the_years_months(db, staffed):
    draft = staffed.prepare(db, staffed.csv(staffed.line(0, "8000")))
    declarations.confirm(db, actor=staffed.actor, token=draft.token, now=NOW)
    billing.run_billing(db, month=date(2026, 12, 1), now=NOW)
    bases = {row.person_id: row.base_fen for row in db.exec(select(ContributionMonth)).all()}
    assert bases[staffed.people[0].id] == 800000  # declared
    assert bases[staffed.people[1].id] == 600000  # not declared: the wage given at enrolment


def test_an_expired_draft_cannot_be_previewed_or_confirmed(db, staffed):
    draft = staffed.prepare(db, staffed.clean_csv())
    later = NOW + declarations.DRAFT_LIFETIME + timedelta(minutes=1)
    with pytest.raises(NotFound):
        declarations.preview(db, actor=staffed.actor, token=draft.token, now=later)
    with pytest.raises(NotFound):
        declarations.confirm(db, actor=staffed.actor, token=draft.token, now=later)


def test_a_draft_is_refused_when_an_employee_left_before_the_year_since_the_check(db, staffed):
    draft = declarations.prepare(db, actor=staffed.actor, year=YEAR + 1, today=TODAY, now=NOW, source="csv",
                                 rows=declarations.read_file(filename="d.csv", data=staffed.csv(staffed.line(0))))
    leaving = db.exec(select(declarations.EmploymentSpell).where(
        declarations.EmploymentSpell.person_id == staffed.people[0].id)).one()
    leaving.end_month = date(2026, 12, 1)
    db.add(leaving)
    db.flush()
    with pytest.raises(Conflict):
        declarations.confirm(db, actor=staffed.actor, token=draft.token, now=NOW)
    assert db.exec(select(BaseDeclaration)).all() == []


# --- Ownership and year -----------------------------------------------------------------------------------


def test_another_employers_operator_can_neither_declare_for_these_employees_nor_see_the_draft(db, staffed):
    other = employer_actor(staffed.other_operator)
    with pytest.raises(DeclarationRefused) as refused:
        staffed.prepare(db, staffed.clean_csv(), actor=other)
    assert {p.column for p in refused.value.problems} == {"id_number"}
    draft = staffed.prepare(db, staffed.clean_csv())
    with pytest.raises(NotFound):
        declarations.preview(db, actor=other, token=draft.token, now=NOW)
    with pytest.raises(NotFound):
        declarations.confirm(db, actor=other, token=draft.token, now=NOW)
    assert {e.person_id for e in declarations.employees_in_year(db, actor=other, year=YEAR)} == {
        staffed.stranger.id}


def test_a_pending_employer_cannot_declare(db, staffed):
    pending = factories.employer(db, status="pending")
    operator = factories.operator(db, employer_row=pending, username="pending")
    actor = employer_actor(operator)
    with pytest.raises(Forbidden):
        staffed.prepare(db, staffed.clean_csv(), actor=actor)


def test_only_the_current_and_next_contribution_year_may_be_declared(db, staffed):
    from portal.errors import ValidationFailed

    rows = declarations.read_file(filename="d.csv", data=staffed.clean_csv())
    with pytest.raises(ValidationFailed):
        declarations.prepare(db, actor=staffed.actor, year=YEAR - 1, rows=rows, source="csv", now=NOW,
                             today=TODAY)
