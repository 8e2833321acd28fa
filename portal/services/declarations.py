"""The employer's yearly base declaration (缴费基数申报) for a contribution year (July-June).

Rows come from the page's form or from an uploaded CSV (UTF-8 with or without BOM, or GBK) or XLSX file.
Every row is checked; a file with any problem is refused whole and nothing is saved. A clean declaration is
kept server-side as a draft under a random token (the browser only ever carries the token), previewed with
the policy engine's figures, and saved on confirmation in one statement, replacing the employer's earlier
declaration for that year. Billing reads ``base_declaration.wage_fen`` for the year's months.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import and_, delete, insert, or_
from sqlmodel import Session, func, select

from portal import audit
from portal.auth.principal import Actor
from portal.errors import N_, Conflict, Msg, NotFound, ValidationFailed
from portal.faults import crash_point
from portal.identifiers import InvalidIdentifier, parse_resident_id
from portal.models import BaseDeclaration, Bill, DeclarationDraft, Employer, EmploymentSpell, Person
from portal.policy.contribution_year import contribution_year, first_month, last_month
from portal.policy.dates import add_months
from portal.policy.money import from_fen, to_fen
from portal.policy.rules.contribution import ContributionResult, contribution_base, employee_contribution
from portal.services import workbooks
from portal.services.accounts import ID_MESSAGES
from portal.services.enrolment import EmployeeRow, _operator_employer, parse_wage, wage_problem

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_CELL = 200  # characters of a cell kept for the error table; longer values are cut
DRAFT_LIFETIME = timedelta(hours=24)
FORM_LIMIT = 1_000  # above this many employees the page asks for a file instead of a form
# Header and blank rows on top of MAX_ROWS employees; anything larger is refused while it is read.
WORKBOOK_LIMITS = workbooks.WorkbookLimits(rows=MAX_ROWS + 1_000)
COLUMNS = ("id_number", "name", "wage")
# Header words recognised in any case, Chinese or English (the template writes both).
HEADER_WORDS = {
    "id_number": ("公民身份号码", "身份证号码", "身份证号", "identity number", "id number"),
    "wage": ("月工资", "monthly wage", "wage"),
    "name": ("姓名", "name"),
}
TEMPLATE_HEADER = ("公民身份号码 / Identity number", "姓名 / Name", "月工资（元） / Monthly wage (yuan)")


@dataclass(frozen=True)
class RowProblem:
    row: int  # the spreadsheet row (the header is row 1); 0 for the file as a whole
    column: str  # id_number | name | wage | file
    value: str
    message: Msg


class DeclarationRefused(ValidationFailed):
    """The declaration has problems; ``problems`` lists them by row and column. Nothing was saved."""

    def __init__(self, problems: list[RowProblem], field_name: str = "file"):
        count = len(problems)
        super().__init__({field_name: Msg(N_("Nothing was saved. Fix the problems listed below (%(count)s in "
                                             "all) and try again."), {"count": count})})
        self.problems = problems


@dataclass(frozen=True)
class InputRow:
    row: int
    id_number: str
    name: str
    wage: str


@dataclass(frozen=True)
class YearEmployee:
    person_id: int
    id_number: str
    name: str
    spell_wage: Decimal
    declared_wage: Decimal | None


def year_choices(today: date) -> list[int]:
    """The contribution years an employer may declare for: the current one and the next."""
    current = contribution_year(today.replace(day=1))
    return [current, current + 1]


def _check_year(year: int, today: date) -> None:
    if year not in year_choices(today):
        raise ValidationFailed({"year": Msg(N_("Choose the current or the next contribution year."))})


def _year_spells(employer_id: int, year: int):
    """Spells at the employer covering at least one month of the contribution year."""
    return and_(EmploymentSpell.employer_id == employer_id,
                EmploymentSpell.start_month <= date(year + 1, 6, 1),
                or_(EmploymentSpell.end_month.is_(None), EmploymentSpell.end_month >= first_month(year)))


def employees_in_year(session: Session, *, actor: Actor, year: int) -> list[YearEmployee]:
    """The employer's employees in the contribution year, with the wage already declared for it, if any."""
    employer = _operator_employer(session, actor)
    query = (
        select(Person.id, Person.id_number, Person.name, EmploymentSpell.wage_fen, BaseDeclaration.wage_fen)
        .join(Person, Person.id == EmploymentSpell.person_id)
        .outerjoin(BaseDeclaration, and_(BaseDeclaration.employer_id == employer.id,
                                         BaseDeclaration.person_id == Person.id,
                                         BaseDeclaration.contribution_year == year))
        .where(_year_spells(employer.id, year))
        .order_by(Person.name, Person.id_number, EmploymentSpell.start_month.desc())
    )
    seen: dict[int, YearEmployee] = {}
    for person_id, number, name, spell_fen, declared_fen in session.exec(query).all():
        if person_id not in seen:  # the latest spell's wage when there were two in the year
            seen[person_id] = YearEmployee(person_id, number, name, from_fen(spell_fen),
                                           from_fen(declared_fen) if declared_fen is not None else None)
    return list(seen.values())


def own_employee(session: Session, *, actor: Actor, spell_id: int) -> EmployeeRow:
    """One of the operator's own employer's spells (for the 减员 form); NotFound for anyone else's."""
    employer = _operator_employer(session, actor)
    found = session.exec(select(EmploymentSpell, Person).join(Person, Person.id == EmploymentSpell.person_id)
                         .where(EmploymentSpell.id == spell_id)).first()
    if found is None or found[0].employer_id != employer.id:
        raise NotFound()
    return EmployeeRow(*found)


# --- Reading files -----------------------------------------------------------------------------------------


def _file_problem(message: str, **params) -> DeclarationRefused:
    return DeclarationRefused([RowProblem(0, "file", "", Msg(message, params))])


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _file_problem(N_("The file is in UTF-16. Save it as “CSV UTF-8” or as an Excel workbook."))
    for encoding in ("utf-8-sig", "gbk"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:  # UTF-16 without a byte order mark decodes to text full of NULs
            return text
    raise _file_problem(N_("The file is not in UTF-8 or GBK. Save it as “CSV UTF-8” or as an Excel workbook."))


def _csv_rows(data: bytes):
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    try:
        yield from reader
    except csv.Error:
        raise _file_problem(N_("The file could not be read as CSV. Use the template.")) from None


def _xlsx_rows(data: bytes):
    """The first sheet's rows; the archive is checked before parsing and reading stops at WORKBOOK_LIMITS."""
    try:
        for values in workbooks.first_sheet_rows(data, WORKBOOK_LIMITS):
            yield [_cell_text(value) for value in values]
    except workbooks.WorkbookRefused as refused:
        raise DeclarationRefused([RowProblem(0, "file", "", refused.message)]) from None


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Excel keeps 15 significant digits: an identity number typed as a number has lost its last digits,
        # which the check character then catches; a wage keeps its value exactly as shown.
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    if isinstance(value, Decimal):
        return str(value)
    return str(value).strip()


def _header_columns(cells: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        text = " ".join(cell.lower().split())
        for column in ("id_number", "wage", "name"):  # "name" last: "monthly wage" holds no "name", but be safe
            if column not in found and any(word in text for word in HEADER_WORDS[column]):
                found[column] = index
                break
    return found


def read_upload(session: Session, *, actor: Actor, filename: str, data: bytes) -> list[InputRow]:
    """The rows of an employer's upload: read only for an operator of a verified employer, before any other work."""
    _operator_employer(session, actor)
    return read_file(filename=filename, data=data)


def read_file(*, filename: str, data: bytes) -> list[InputRow]:
    """The rows of an uploaded CSV or XLSX file; DeclarationRefused for a file that cannot be a declaration."""
    if not data:
        raise _file_problem(N_("The file is empty."))
    if len(data) > MAX_BYTES:
        raise _file_problem(N_("The file is larger than %(size)s MB. Split it or remove other columns."),
                            size=MAX_BYTES // (1024 * 1024))
    is_xlsx = filename.lower().endswith(".xlsx") or data.startswith(b"PK\x03\x04")
    raw = _xlsx_rows(data) if is_xlsx else _csv_rows(data)
    rows: list[InputRow] = []
    columns: dict[str, int] | None = None
    for number, cells in enumerate(raw, start=1):
        cells = [str(cell).strip() for cell in cells]
        if not any(cells):
            continue
        if columns is None:
            columns = _header_columns(cells)
            if len(columns) != len(COLUMNS):
                raise DeclarationRefused([RowProblem(number, "file", ", ".join(cells)[:MAX_CELL], Msg(N_(
                    "The first row must name the columns 公民身份号码 (identity number), 姓名 (name) and 月工资 "
                    "(monthly wage), as in the template.")))])
            continue
        if len(rows) >= MAX_ROWS:
            raise _file_problem(N_("The file has more than %(count)s rows. Split it into smaller files."),
                                count=MAX_ROWS)
        values = [cells[columns[column]] if columns[column] < len(cells) else "" for column in COLUMNS]
        rows.append(InputRow(number, *values))
    if not rows:
        raise _file_problem(N_("The file has no employees in it. Fill in one row per employee under the header."))
    return rows


# --- Checking and drafts -----------------------------------------------------------------------------------


def _wage_message(text: str, month: date) -> tuple[int | None, Msg | None]:
    cleaned = text.replace(",", "").strip()
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        number = None
    if number is not None and number.is_finite() and number <= 0:
        return None, Msg(N_("The monthly wage must be more than zero."))
    amount = parse_wage(cleaned)
    problem = wage_problem(amount, month)
    return (None, problem) if problem else (to_fen(amount), None)


def check_rows(session: Session, *, actor: Actor, year: int, rows: list[InputRow], today: date
               ) -> list[tuple[InputRow, int, int]]:
    """Checks every row; returns (row, person id, wage in fen) for each, or raises DeclarationRefused."""
    _check_year(year, today)
    staff = {e.id_number: e for e in employees_in_year(session, actor=actor, year=year)}
    month = first_month(year)
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    clean: list[tuple[InputRow, int, int]] = []
    for row in rows:
        before = len(problems)
        number = row.id_number.strip().upper()
        employee = None
        try:
            parse_resident_id(number, today=today)
        except InvalidIdentifier as error:
            problems.append(RowProblem(row.row, "id_number", row.id_number[:MAX_CELL], Msg(ID_MESSAGES[error.code])))
        else:
            if number in seen:
                problems.append(RowProblem(row.row, "id_number", number, Msg(
                    N_("This identity number is already on row %(row)s."), {"row": seen[number]})))
            else:
                seen[number] = row.row
                employee = staff.get(number)
                if employee is None:
                    problems.append(RowProblem(row.row, "id_number", number, Msg(
                        N_("This person is not employed by your employer in the contribution year %(year)s."),
                        {"year": f"{year}–{year + 1}"})))
        name = row.name.strip()
        if not name:
            problems.append(RowProblem(row.row, "name", "", Msg(N_("Enter the name as it is written on the "
                                                                    "identity card."))))
        elif employee is not None and name != employee.name:
            problems.append(RowProblem(row.row, "name", name[:MAX_CELL], Msg(
                N_("The name does not match our records for this identity number."))))
        wage_fen, wage_error = _wage_message(row.wage, month)
        if wage_error:
            problems.append(RowProblem(row.row, "wage", row.wage[:MAX_CELL], wage_error))
        if len(problems) == before and employee is not None:
            clean.append((row, employee.person_id, wage_fen))
    if problems:
        raise DeclarationRefused(problems)
    return clean


def _base_for(wage_fen: int, month: date, cache: dict[int, tuple[int, str | None]]) -> tuple[int, str | None]:
    if wage_fen not in cache:
        result = contribution_base(from_fen(wage_fen), month)
        cache[wage_fen] = (to_fen(result.base), result.clamped)
    return cache[wage_fen]


def prepare(session: Session, *, actor: Actor, year: int, rows: list[InputRow], source: str, now: datetime,
            today: date) -> DeclarationDraft:
    """Checks a declaration and keeps it as a draft for preview; raises DeclarationRefused, saving nothing."""
    employer = _operator_employer(session, actor)
    clean = check_rows(session, actor=actor, year=year, rows=rows, today=today)
    month = first_month(year)
    cache: dict[int, tuple[int, str | None]] = {}
    stored = [[person_id, wage_fen, *_base_for(wage_fen, month, cache)] for _, person_id, wage_fen in clean]
    # One draft per employer at a time: an earlier, unconfirmed check is replaced.
    session.execute(delete(DeclarationDraft).where(or_(DeclarationDraft.employer_id == employer.id,
                                                       DeclarationDraft.created_at < now - DRAFT_LIFETIME)))
    draft = DeclarationDraft(token=secrets.token_urlsafe(32), employer_id=employer.id,
                             operator_id=actor.principal.account_id, contribution_year=year, source=source,
                             row_count=len(stored), rows=json.dumps(stored, separators=(",", ":")), created_at=now)
    session.add(draft)
    session.flush()
    crash_point("declaration.draft")
    return draft


def _own_draft(session: Session, *, actor: Actor, token: str, now: datetime, lock: bool = False) -> DeclarationDraft:
    employer = _operator_employer(session, actor)
    query = select(DeclarationDraft).where(DeclarationDraft.token == token,
                                           DeclarationDraft.employer_id == employer.id)
    draft = session.exec(query.with_for_update() if lock else query).first()
    if draft is None or draft.created_at < now - DRAFT_LIFETIME:
        raise NotFound(Msg(N_("This preview has expired or was already submitted. Upload the declaration again.")))
    return draft


@dataclass(frozen=True)
class PreviewLine:
    person_id: int
    id_number: str
    name: str
    wage: Decimal
    result: ContributionResult

    @property
    def reason(self):
        return self.result.explanation.steps[0]


@dataclass
class Preview:
    draft: DeclarationDraft
    month: date
    lines: list[PreviewLine]
    page: int
    pages: int
    employer_total: Decimal
    individual_total: Decimal
    total: Decimal
    raised: int
    lowered: int
    not_declared: int  # employees in the year left out of this declaration (billed on their enrolment wage)
    replaces: int  # rows of an earlier declaration for the year that this one replaces
    per_page: int = field(default=100)
    billed_until: date | None = None  # the year's last month already billed (on the earlier bases), if any


def preview(session: Session, *, actor: Actor, token: str, now: datetime, page: int = 1, per_page: int = 100
            ) -> Preview:
    """The checked declaration with each base after clamping and the monthly bill it produces."""
    draft = _own_draft(session, actor=actor, token=token, now=now)
    # The new bases bill the months not billed yet; months already billed keep their bills.
    billed_until = session.exec(select(func.max(Bill.month)).where(
        Bill.payer_kind == "employer", Bill.payer_id == draft.employer_id,
        Bill.month >= first_month(draft.contribution_year),
        Bill.month < first_month(draft.contribution_year + 1))).one()
    last = last_month(draft.contribution_year)
    month = min(add_months(billed_until, 1), last) if billed_until else first_month(draft.contribution_year)
    stored = json.loads(draft.rows)
    results: dict[int, ContributionResult] = {}
    for _, wage_fen, _, _ in stored:
        if wage_fen not in results:
            results[wage_fen] = employee_contribution(from_fen(wage_fen), month)
    zero = Decimal("0.00")
    employer_total = sum((results[row[1]].employer for row in stored), zero)
    individual_total = sum((results[row[1]].individual for row in stored), zero)
    pages = max(1, -(-len(stored) // per_page))
    page = min(max(page, 1), pages)
    shown = stored[(page - 1) * per_page: page * per_page]
    people = {person.id: person for person in session.exec(
        select(Person).where(Person.id.in_([row[0] for row in shown]))).all()}
    lines = [PreviewLine(pid, people[pid].id_number, people[pid].name, from_fen(wage_fen), results[wage_fen])
             for pid, wage_fen, _, _ in shown]
    in_year = {e.person_id for e in employees_in_year(session, actor=actor, year=draft.contribution_year)}
    declared = {row[0] for row in stored}
    replaces = session.exec(select(func.count()).select_from(BaseDeclaration).where(
        BaseDeclaration.employer_id == draft.employer_id,
        BaseDeclaration.contribution_year == draft.contribution_year)).one()
    return Preview(
        draft=draft, month=month, lines=lines, page=page, pages=pages, employer_total=employer_total,
        individual_total=individual_total, total=employer_total + individual_total,
        raised=sum(1 for row in stored if row[3] == "floor"), lowered=sum(1 for row in stored if row[3] == "cap"),
        not_declared=len(in_year - declared), replaces=replaces, per_page=per_page, billed_until=billed_until,
    )


def confirm(session: Session, *, actor: Actor, token: str, now: datetime) -> tuple[int, int]:
    """Saves a checked draft as the employer's declaration for its year, replacing any earlier one in the same
    transaction. Returns (contribution year, rows saved)."""
    draft = _own_draft(session, actor=actor, token=token, now=now, lock=True)
    stored = json.loads(draft.rows)
    # Employment can have changed since the check (a spell ended before the year): check again, set-based.
    still = set(session.exec(select(EmploymentSpell.person_id).where(
        _year_spells(draft.employer_id, draft.contribution_year))).all())
    if any(row[0] not in still for row in stored):
        raise Conflict(Msg(N_("Your employees changed since this declaration was checked. Upload it again.")))
    replaced = session.execute(delete(BaseDeclaration).where(
        BaseDeclaration.employer_id == draft.employer_id,
        BaseDeclaration.contribution_year == draft.contribution_year)).rowcount or 0
    crash_point("declaration.replaced")
    # Core executemany on the table (one batched INSERT), not the ORM's per-object bulk path.
    session.execute(insert(BaseDeclaration.__table__), [
        {"employer_id": draft.employer_id, "contribution_year": draft.contribution_year, "person_id": pid,
         "wage_fen": wage_fen, "base_fen": base_fen, "clamped": clamped, "created_at": now}
        for pid, wage_fen, base_fen, clamped in stored
    ])
    session.delete(draft)
    session.flush()
    crash_point("declaration.saved")
    audit.record(session=session, actor=actor, action="declaration.submitted", now=now,
                 object_type="employer", object_id=draft.employer_id,
                 detail={"contribution_year": draft.contribution_year, "rows": len(stored), "replaced": replaced,
                         "source": draft.source})
    return draft.contribution_year, len(stored)


@dataclass(frozen=True)
class DeclarationSummary:
    year: int
    rows: int
    saved_at: datetime | None


def summary(session: Session, *, actor: Actor, year: int) -> DeclarationSummary:
    employer = _operator_employer(session, actor)
    count, saved_at = session.exec(select(func.count(), func.max(BaseDeclaration.created_at)).where(
        BaseDeclaration.employer_id == employer.id, BaseDeclaration.contribution_year == year)).one()
    return DeclarationSummary(year, count, saved_at)


# --- Templates ---------------------------------------------------------------------------------------------


def _template_rows(session: Session, actor: Actor, year: int) -> list[tuple[str, str, str]]:
    return [(e.id_number, e.name, "") for e in employees_in_year(session, actor=actor, year=year)]


def template_csv(session: Session, *, actor: Actor, year: int) -> bytes:
    """The declaration template as CSV, UTF-8 with a BOM so Excel opens the Chinese text correctly, listing the
    employer's employees for the year with the wage left to fill in."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(TEMPLATE_HEADER)
    writer.writerows(_template_rows(session, actor, year))
    return buffer.getvalue().encode("utf-8-sig")


def template_xlsx(session: Session, *, actor: Actor, year: int) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(f"{year}-{year + 1}")
    sheet.append(TEMPLATE_HEADER)
    for row in _template_rows(session, actor, year):
        sheet.append(row)  # strings: an identity number must stay text, never a number Excel rounds
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def employer_of(session: Session, *, actor: Actor) -> Employer | None:
    """The operator's employer whatever its status (pages explain a pending one instead of refusing)."""
    principal = actor.principal
    return session.get(Employer, principal.employer_id) if principal and principal.employer_id else None
