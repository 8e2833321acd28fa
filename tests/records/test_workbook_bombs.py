"""Hostile Excel uploads: the archive is checked before parsing, reading stops at the limits, memory stays small."""

from __future__ import annotations

import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from portal.services import declarations, workbooks
from portal.services.declarations import DeclarationRefused
from tests.helpers import snapshot
from tests.records import xlsx_bombs
from tests.records.test_employer_pages import Firm, _upload

PEAK_BUDGET = 64 * 1024 * 1024  # traced Python memory one upload may take while it is read


def refusal(build) -> tuple[str, int]:
    """The message a workbook is refused with, and the peak traced memory of reading it."""
    data = build()
    tracemalloc.start()
    try:
        with pytest.raises(DeclarationRefused) as refused:
            declarations.read_file(filename="declaration.xlsx", data=data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = refused.value.problems[0].message
    return message.text % message.params if message.params else message.text, peak


@pytest.mark.parametrize("name, expected", [
    ("a huge cell", "too large once unpacked"),
    ("huge shared strings", "too large once unpacked"),
    ("a long cell of random digits", "longer than 32767 characters"),
    ("many tiny shared strings", "more cells than a declaration needs"),
    ("rows without a dimension", "more than 21000 rows"),
    ("a dimension claiming the whole grid", "no employees in it"),
    ("too many rows", "more than 20000 rows"),
    ("many sheets", "more than 200 parts"),
])
def test_every_workbook_bomb_is_refused_with_a_message_and_little_memory(name, expected):
    message, peak = refusal(xlsx_bombs.FAMILY[name])
    assert expected in message
    assert peak < PEAK_BUDGET, f"{name}: {peak / 2**20:.1f} MiB"


# Reads the file in a fresh process and reports how much its peak resident memory (VmHWM) rose over the
# resident memory it had before: C buffers included, and without tracemalloc's slowdown on the largest file.
# Writing 5 to clear_refs resets the peak, so the imports' own peak does not hide the reading's.
MEASURE = """
import json, sys
from portal.services import declarations
def kib(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1])
data = open(sys.argv[1], "rb").read()
open("/proc/self/clear_refs", "w").write("5")
before = kib("VmRSS:")
try:
    declarations.read_file(filename="declaration.xlsx", data=data)
    outcome = "accepted"
except declarations.DeclarationRefused as refused:
    message = refused.problems[0].message
    outcome = message.text % message.params
print(json.dumps({"grew_kib": kib("VmHWM:") - before, "outcome": outcome}))
"""


def test_the_largest_workbook_the_limits_let_through_is_read_within_the_memory_budget(tmp_path):
    data = xlsx_bombs.worst_within_limits()
    workbooks.check_archive(data, declarations.WORKBOOK_LIMITS)  # it passes the archive check
    path = tmp_path / "worst.xlsx"
    path.write_bytes(data)
    run = subprocess.run([sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    found = json.loads(run.stdout)
    assert "more than 20000 rows" in found["outcome"]  # stopped by the row limit while streaming
    assert found["grew_kib"] * 1024 < PEAK_BUDGET, f"{found['grew_kib'] / 1024:.1f} MiB"


def test_more_sheets_than_allowed_is_refused_before_parsing_even_with_few_parts():
    limits = workbooks.WorkbookLimits(sheets=3)
    with pytest.raises(workbooks.WorkbookRefused) as refused:
        workbooks.check_archive(xlsx_bombs.many_sheets(4), limits)
    assert refused.value.message.params == {"count": 3}
    workbooks.check_archive(xlsx_bombs.many_sheets(3), limits)


@pytest.mark.parametrize("chunk", [5, 17, 256 * 1024])
def test_cells_are_counted_exactly_whatever_the_chunk_boundaries(monkeypatch, chunk):
    monkeypatch.setattr(workbooks, "_CHUNK", chunk)
    cells = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c><x:c r="B{n}"/></row>' for n in range(2, 7))
    data = xlsx_bombs.workbook([xlsx_bombs.sheet(xlsx_bombs.HEADER_ROW + cells)])  # 3 + 10 cells
    workbooks.check_archive(data, workbooks.WorkbookLimits(cells=13))
    with pytest.raises(workbooks.WorkbookRefused):
        workbooks.check_archive(data, workbooks.WorkbookLimits(cells=12))


def test_something_that_is_not_a_zip_archive_is_unreadable_not_an_error():
    with pytest.raises(DeclarationRefused) as refused:
        declarations.read_file(filename="declaration.xlsx", data=b"PK\x03\x04 not really a zip file")
    assert "could not be read as an Excel workbook" in refused.value.problems[0].message.text


@pytest.mark.parametrize("lang, message", [
    ("en", "The workbook is too large once unpacked."),
    ("zh_CN", "工作簿解压后过大"),
])
def test_a_bomb_uploaded_by_a_verified_employer_is_refused_in_their_language_and_saves_nothing(
        client, app, db, frozen_clock, lang, message):
    firm = Firm(db)
    firm.sign_in(client)
    before = snapshot(app.state.engine)
    response = _upload(client, xlsx_bombs.huge_cell(), filename="declaration.xlsx", lang=lang)
    assert response.status_code == 422 and message in response.text
    after = snapshot(app.state.engine)
    assert {k: v for k, v in after.items() if not k.startswith("audit_")} == {
        k: v for k, v in before.items() if not k.startswith("audit_")}


def test_an_employer_not_yet_verified_is_refused_before_its_file_is_opened(client, db, frozen_clock, monkeypatch):
    firm = Firm(db, status="pending")
    firm.sign_in(client)
    opened = []
    monkeypatch.setattr(workbooks, "check_archive", lambda *args: opened.append(args))
    response = _upload(client, xlsx_bombs.huge_cell(), filename="declaration.xlsx", lang="en")
    assert response.status_code == 403
    assert opened == []


VALID = xlsx_bombs.workbook([xlsx_bombs.sheet(
    xlsx_bombs.HEADER_ROW + '<row r="2"><c r="A2" t="inlineStr"><is><t>220102198503150111</t></is></c>'
    '<c r="B2" t="inlineStr"><is><t>王建国</t></is></c><c r="C2"><v>8000</v></c></row>')])


def read_or_refuse(filename: str, data: bytes) -> None:
    try:
        declarations.read_file(filename=filename, data=data)
    except DeclarationRefused:
        pass


@given(data=st.binary(max_size=4096), filename=st.sampled_from(["declaration.csv", "declaration.xlsx", "d"]))
@settings(max_examples=300, deadline=None)
def test_fuzzed_files_are_read_or_refused_never_an_error(data, filename):
    read_or_refuse(filename, data)


@example(changes=[(1392, 64)])  # a directory entry claiming zip version 6.4: zipfile raised NotImplementedError
@given(changes=st.lists(st.tuples(st.integers(min_value=0, max_value=len(VALID) - 1), st.integers(0, 255)),
                        min_size=1, max_size=8))
@settings(max_examples=300, deadline=None)
def test_a_workbook_damaged_anywhere_is_read_or_refused_never_an_error(changes):
    damaged = bytearray(VALID)
    for position, value in changes:
        damaged[position] = value
    read_or_refuse("declaration.xlsx", bytes(damaged))


def test_a_plain_workbook_built_the_same_way_is_read():
    (row,) = declarations.read_file(filename="declaration.xlsx", data=VALID)
    assert (row.id_number, row.name, row.wage) == ("220102198503150111", "王建国", "8000")
