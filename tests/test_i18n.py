"""The catalogs: the committed template matches the code, and Chinese (the default) is complete."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
I18N = ROOT / "i18n"


def _ids(path: Path) -> set:
    with path.open("rb") as handle:
        catalog = read_po(handle)
    return {message.id if isinstance(message.id, str) else tuple(message.id) for message in catalog if message.id}


def test_the_committed_message_template_matches_the_strings_in_the_code(tmp_path):
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "N_", "-k", "flash",
         "--no-location", "--sort-output", "-o", str(fresh), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    committed, current = _ids(I18N / "messages.pot"), _ids(fresh)
    missing, stale = current - committed, committed - current
    assert not missing and not stale, (
        f"i18n/messages.pot is stale: run `make i18n`. New: {sorted(map(str, missing))[:10]} "
        f"Gone: {sorted(map(str, stale))[:10]}")


def test_every_message_is_translated_into_chinese():
    with (I18N / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    untranslated = [message.id for message in catalog if message.id and (
        not message.string or (isinstance(message.string, tuple) and not all(message.string)) or message.fuzzy)]
    assert not untranslated, f"{len(untranslated)} messages lack a Chinese translation, e.g. {untranslated[:5]}"


def test_both_catalogs_carry_every_message_of_the_template():
    template = _ids(I18N / "messages.pot")
    for locale in ("zh_CN", "en"):
        assert template <= _ids(I18N / locale / "LC_MESSAGES" / "messages.po"), f"{locale} catalog: run `make i18n`"


def test_chinese_translations_keep_their_placeholders():
    import re

    placeholder = re.compile(r"%\((\w+)\)s")
    with (I18N / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    for message in catalog:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(placeholder.findall(ids[0]))
        for string in strings:
            assert set(placeholder.findall(string)) <= expected | set(placeholder.findall(ids[-1])), message.id
