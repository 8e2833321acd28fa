"""Hostile workbooks, built byte by byte with zipfile: each is a small upload that would inflate or pad hugely."""

from __future__ import annotations

import io
import random
import zipfile

MB = 1024 * 1024
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
REL_NS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
SHEET_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
STRINGS_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
HEADER_ROW = ('<row r="1"><c r="A1" t="inlineStr"><is><t>公民身份号码</t></is></c>'
              '<c r="B1" t="inlineStr"><is><t>姓名</t></is></c><c r="C1" t="inlineStr"><is><t>月工资</t></is></c></row>')


def workbook(sheets: list[str], *, shared_strings: str | None = None) -> bytes:
    """A minimal, valid .xlsx whose sheets hold the given <sheetData> contents (and dimension, if any)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
            f'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' for n in range(1, len(sheets) + 1))
        if shared_strings is not None:
            overrides += ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                          'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>')
        archive.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
            'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            f'{overrides}</Types>'))
        archive.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        entries = "".join(f'<sheet name="S{n}" sheetId="{n}" r:id="rId{n}"/>' for n in range(1, len(sheets) + 1))
        archive.writestr("xl/workbook.xml", f'<?xml version="1.0" encoding="UTF-8"?><workbook {NS} {REL_NS}>'
                                            f'<sheets>{entries}</sheets></workbook>')
        rels = "".join(f'<Relationship Id="rId{n}" Type="{SHEET_TYPE}" Target="worksheets/sheet{n}.xml"/>'
                       for n in range(1, len(sheets) + 1))
        if shared_strings is not None:
            rels += f'<Relationship Id="rId{len(sheets) + 1}" Type="{STRINGS_TYPE}" Target="sharedStrings.xml"/>'
        archive.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0" encoding="UTF-8"?><Relationships '
                         f'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}</Relationships>')
        for n, body in enumerate(sheets, start=1):
            archive.writestr(f"xl/worksheets/sheet{n}.xml",
                             f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}>{body}</worksheet>')
        if shared_strings is not None:
            archive.writestr("xl/sharedStrings.xml", shared_strings)
    return buffer.getvalue()


def sheet(rows: str, dimension: str | None = None) -> str:
    prefix = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f"{prefix}<sheetData>{rows}</sheetData>"


def huge_cell(size: int = 40 * MB) -> bytes:
    """One inline string of ``size`` characters under the header."""
    return workbook([sheet(HEADER_ROW + f'<row r="2"><c r="A2" t="inlineStr"><is><t>{"9" * size}</t></is></c></row>')])


def long_cell(size: int = 2 * MB) -> bytes:
    """A cell of random digits: it compresses too little to trip the ratio, so the cell length limit refuses it."""
    digits = "".join(random.Random(1).choices("0123456789", k=size))
    return workbook([sheet(HEADER_ROW + f'<row r="2"><c r="A2" t="inlineStr"><is><t>{digits}</t></is></c></row>')])


def many_tiny_shared_strings(size: int = 11 * MB) -> bytes:
    """The worst case for memory that passes the archive check: a table just under the part limit, of
    short distinct strings (each a Python object once parsed), varied enough to compress under the ratio."""
    pick = random.Random(2).choices
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    strings, total, count = [], 0, 0
    while total < size - 200:
        item = f"<si><t>{''.join(pick(letters, k=3))}</t></si>"
        strings.append(item)
        total += len(item)
        count += 1
    table = (f'<?xml version="1.0" encoding="UTF-8"?><sst {NS} count="{count}" uniqueCount="{count}">'
             f'{"".join(strings)}</sst>')
    return workbook([sheet(HEADER_ROW + '<row r="2"><c r="A2" t="s"><v>0</v></c></row>')], shared_strings=table)


def huge_shared_strings(size: int = 60 * MB, count: int = 1) -> bytes:
    piece = "A" * (size // count)
    strings = "".join(f"<si><t>{piece}</t></si>" for _ in range(count))
    table = f'<?xml version="1.0" encoding="UTF-8"?><sst {NS} count="{count}" uniqueCount="{count}">{strings}</sst>'
    return workbook([sheet(HEADER_ROW + '<row r="2"><c r="A2" t="s"><v>0</v></c></row>')], shared_strings=table)


def rows_without_dimension() -> bytes:
    """No <dimension>, and the last row and column at Excel's far corner: a naive reader pads a million rows."""
    return workbook([sheet(HEADER_ROW + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')])


def rows_with_false_dimension() -> bytes:
    """A dimension claiming the whole grid, over a sheet of three rows."""
    return workbook([sheet(HEADER_ROW, dimension="A1:XFD1048576")])


def too_many_rows(count: int = 30_000) -> bytes:
    """Small, real rows past the row limit (each a few bytes, so the archive is within every size limit)."""
    body = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(2, count + 2))
    return workbook([sheet(HEADER_ROW + body)])


def many_sheets(count: int = 2_000) -> bytes:
    return workbook([sheet(HEADER_ROW)] * count)


FAMILY = {
    "a huge cell": huge_cell,
    "a long cell of random digits": long_cell,
    "many tiny shared strings": many_tiny_shared_strings,
    "huge shared strings": huge_shared_strings,
    "rows without a dimension": rows_without_dimension,
    "a dimension claiming the whole grid": rows_with_false_dimension,
    "too many rows": too_many_rows,
    "many sheets": many_sheets,
}


def worst_within_limits(strings: int = 74_000, rows: int = 20_990, columns: int = 7) -> bytes:
    """As much as the limits let through: the most shared strings and cells, every row full, no dimension."""
    pick = random.Random(3).choices
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    table = "".join(f"<si><t>{''.join(pick(letters, k=4))}</t></si>" for _ in range(strings))
    table = f'<?xml version="1.0" encoding="UTF-8"?><sst {NS} count="{strings}" uniqueCount="{strings}">{table}</sst>'
    letters_of = "ABCDEFG"
    body = "".join(
        f'<row r="{n}">' + "".join(f'<c r="{letters_of[k]}{n}" t="s"><v>{(n * columns + k) % strings}</v></c>'
                                   for k in range(columns)) + "</row>"
        for n in range(2, rows + 2))
    return workbook([sheet(HEADER_ROW + body)], shared_strings=table)
