"""Money is Decimal: no float() call and no float literal anywhere in the portal package.

Tokens are scanned (not text), so a figure like 1.083 inside a docstring or comment is allowed; only
code counts.
"""

import io
import tokenize
from pathlib import Path

PORTAL = Path(__file__).resolve().parents[2] / "portal"


def _float_uses(path):
    tokens = list(tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline))
    for position, token in enumerate(tokens):
        if token.type == tokenize.NUMBER:
            text = token.string.lower().replace("_", "")
            is_int = text.startswith(("0x", "0o", "0b")) or not any(mark in text for mark in ".ej")
            if not is_int:
                yield token.start[0], token.string
        if token.type == tokenize.NAME and token.string == "float":
            following = tokens[position + 1] if position + 1 < len(tokens) else None
            if following is not None and following.string == "(":
                yield token.start[0], "float("


def test_no_float_call_or_float_literal_appears_under_portal():
    found = [
        f"{path.relative_to(PORTAL.parent)}:{line}: {text}"
        for path in sorted(PORTAL.rglob("*.py"))
        for line, text in _float_uses(path)
    ]
    assert not found, "floats found (use Decimal):\n" + "\n".join(found)


def test_the_scanner_catches_a_float_literal_and_a_float_call(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('rate = 0.16\nx = float("1")\ntext = "0.5 is fine in a string"\n', encoding="utf-8")
    assert [text for _, text in _float_uses(sample)] == ["0.16", "float("]
