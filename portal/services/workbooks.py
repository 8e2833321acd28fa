"""Reading an uploaded Excel workbook (.xlsx) without letting it take the server's memory or time.

An .xlsx file is a ZIP archive of XML parts. A small upload can declare parts that inflate a thousand
times (a huge cell, a huge shared-strings table), rows far down the sheet that a reader would pad with
a million empty rows, or thousands of sheets. So the archive's directory is checked before anything is
parsed: the number of parts and sheets, each part's size, the total, and the compression ratio. Python's
``zipfile`` never inflates a part beyond the size its directory declares (it stops there and the part
fails its checksum), so checking the declared sizes bounds what parsing can inflate. Then the first
sheet is streamed (openpyxl's read-only mode) and reading stops at the row, column and cell limits.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from portal.errors import N_, Msg

MB = 1024 * 1024


@dataclass(frozen=True)
class WorkbookLimits:
    """What an uploaded workbook may hold. Technical limits of the server, not policy figures."""

    parts: int = 200  # files inside the archive (a template workbook has about 10)
    sheets: int = 20
    # One part inflated: a 20,000-row declaration sheet is 2-6 MB. The same for every part, whatever its name:
    # the workbook's relations, not the part's name, say which part is the shared-strings table.
    part_bytes: int = 12 * MB
    total_bytes: int = 32 * MB  # every part inflated
    ratio: int = 100  # inflated / compressed, for parts above ratio_floor (XML usually compresses 5-20 times)
    ratio_floor: int = 1 * MB
    rows: int = 25_000  # rows read from the first sheet, empty ones included
    columns: int = 50
    cell_chars: int = 32_767  # Excel's own limit for one cell
    # Elements counted in the inflated XML before parsing: parsing costs about 20 µs per cell or string,
    # so these bound the time a workbook can take (a declaration has three cells and strings per row).
    cells: int = 150_000
    strings: int = 75_000


class WorkbookRefused(ValueError):
    """The workbook exceeds a limit or is not a readable workbook; ``message`` says which, for the uploader."""

    def __init__(self, message: Msg):
        super().__init__(message.text)
        self.message = message


UNREADABLE = N_("The file could not be read as an Excel workbook (.xlsx). Use the template.")
# A cell (<c>) or a shared string (<si>), with or without a namespace prefix.
_ELEMENT = re.compile(rb"<(?:[A-Za-z_][A-Za-z0-9_.-]*:)?(c|si)[\s/>]")
_CHUNK = 256 * 1024
_OVERLAP = 80  # longer than any start tag the pattern matches, so none is lost between chunks


def check_archive(data: bytes, limits: WorkbookLimits) -> None:
    """Refuses an archive whose directory declares more than the limits; nothing is inflated."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except Exception:  # zipfile raises many kinds for a damaged archive (NotImplementedError for odd versions)
        raise WorkbookRefused(Msg(UNREADABLE)) from None
    if len(parts) > limits.parts:
        raise WorkbookRefused(Msg(N_("The workbook has more than %(count)s parts. Save it again from the template "
                                     "with only the declaration in it."), {"count": limits.parts}))
    sheets = [part for part in parts if part.filename.startswith("xl/worksheets/") and part.filename.endswith(".xml")]
    if len(sheets) > limits.sheets:
        raise WorkbookRefused(Msg(N_("The workbook has more than %(count)s sheets. Keep only the declaration "
                                     "sheet."), {"count": limits.sheets}))
    total = 0
    for part in parts:
        total += part.file_size
        too_big = part.file_size > limits.part_bytes
        inflates = part.file_size > limits.ratio_floor and part.file_size > limits.ratio * max(part.compress_size, 1)
        if too_big or inflates or total > limits.total_bytes:
            raise WorkbookRefused(Msg(N_("The workbook is too large once unpacked. Keep only the declaration "
                                         "columns, or save it as CSV.")))
    _count_elements(data, parts, limits)


def _count_elements(data: bytes, parts: list[zipfile.ZipInfo], limits: WorkbookLimits) -> None:
    """Counts cells and shared strings by scanning the inflated parts in chunks (their sizes already bounded)."""
    cells = strings = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for part in parts:
                tail = b""
                with archive.open(part) as stream:
                    while chunk := stream.read(_CHUNK):
                        window = tail + chunk
                        for found in _ELEMENT.finditer(window):
                            if found.end() <= len(tail):
                                continue  # wholly in the carried-over bytes: counted with the previous chunk
                            if found.group(1) == b"c":
                                cells += 1
                            else:
                                strings += 1
                        tail = window[-_OVERLAP:]
                        if cells > limits.cells or strings > limits.strings:
                            raise WorkbookRefused(Msg(N_(
                                "The workbook has more cells than a declaration needs (at most %(count)s). Keep "
                                "only the declaration columns, or split it into smaller files."),
                                {"count": limits.cells}))
    except WorkbookRefused:
        raise
    except Exception:  # a damaged part: bad CRC, unknown compression, encryption, truncated data
        raise WorkbookRefused(Msg(UNREADABLE)) from None


def first_sheet_rows(data: bytes, limits: WorkbookLimits) -> Iterator[list[object]]:
    """The first sheet's rows as lists of values, after ``check_archive``; stops at the row and cell limits."""
    check_archive(data, limits)
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        raise WorkbookRefused(Msg(UNREADABLE)) from None
    try:
        if not workbook.worksheets:
            raise WorkbookRefused(Msg(UNREADABLE))
        sheet = workbook.worksheets[0]
        # max_row and max_col, not the sheet's own dimension: a declared A1:XFD1048576, or none at all,
        # would otherwise be padded with empty rows and cells up to it.
        rows = sheet.iter_rows(max_row=limits.rows + 1, max_col=limits.columns, values_only=True)
        for number, values in enumerate(_parsed(rows), start=1):
            if number > limits.rows:
                raise WorkbookRefused(Msg(N_("The sheet has more than %(count)s rows. Split it into smaller "
                                             "files."), {"count": limits.rows}))
            for value in values:
                if isinstance(value, str) and len(value) > limits.cell_chars:
                    raise WorkbookRefused(Msg(N_("Row %(row)s has a cell longer than %(count)s characters."),
                                              {"row": number, "count": limits.cell_chars}))
            yield list(values)
    finally:
        workbook.close()


def _parsed(rows) -> Iterator[tuple]:
    """openpyxl's rows, with a part that fails while streaming (truncated, bad XML) refused like any other."""
    try:
        yield from rows
    except WorkbookRefused:
        raise
    except Exception:
        raise WorkbookRefused(Msg(UNREADABLE)) from None
