"""What a visitor reads on a page, and the internal names (snake_case codes) that must never be among it.

Used by the page walk in ``tests/test_plain_words.py`` and by the browser suite's check of every page it
visits (``e2e/a11y.py``), so both look for the same thing.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# A code such as ``no_duplicate`` or ``late_fee_daily_rate``: lower-case words joined by underscores, not part
# of a longer word. Chinese characters count as word characters for ``\b``, so the edges are spelled out.
INTERNAL_NAME = re.compile(r"(?<![A-Za-z0-9_])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![A-Za-z0-9_])")

# Attributes people read or hear: tooltips, screen-reader names, placeholders, image descriptions.
READ_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")
SKIPPED = {"script", "style", "template", "noscript"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if not self.skipping:
            self.parts.extend(attributes[name] for name in READ_ATTRIBUTES if attributes.get(name))
            if tag == "input" and attributes.get("type") in ("submit", "button") and attributes.get("value"):
                self.parts.append(attributes["value"])
        if tag in SKIPPED and tag not in VOID:
            self.skipping.append(tag)

    def handle_endtag(self, tag):
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """The page's text and read-out attributes, without markup, scripts or styles."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return " ".join(" ".join(reader.parts).split())


def internal_names(text: str) -> list[str]:
    """The snake_case words in a text, each once, in the order they appear."""
    return list(dict.fromkeys(INTERNAL_NAME.findall(text)))
