"""Layout that holds on a desktop and a phone: filter checkboxes beside their labels, and wide tables that become
one block per row on a phone, each cell under its column's name."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.test_plain_words import _signed_in, seed_demo_world

CSS = Path(__file__).resolve().parent.parent / "static" / "css" / "portal.css"


@pytest.fixture
def demo_world(db, frozen_clock, cheap_hashing):
    return seed_demo_world(db)


class _Shape(HTMLParser):
    """The class of each checkbox's parent, and the data-label of each cell of stacking tables."""

    def __init__(self):
        super().__init__()
        self.open: list[tuple[str, str]] = []
        self.checkbox_parents: list[str] = []
        self.cells: list[str | None] = []
        self.stacking = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = attributes.get("class") or ""
        if tag == "input" and attributes.get("type") in ("checkbox", "radio"):
            self.checkbox_parents.append(self.open[-1][1] if self.open else "")
            return
        if tag == "table" and "table--stack" in classes.split():
            self.stacking += 1
        if tag == "td" and self.stacking:
            self.cells.append(attributes.get("data-label"))
        if tag not in ("br", "img", "meta", "link", "input", "hr"):
            self.open.append((tag, classes))

    def handle_endtag(self, tag):
        if tag == "table" and self.stacking:
            self.stacking -= 1
        while self.open:
            if self.open.pop()[0] == tag:
                break


def shape(html: str) -> _Shape:
    found = _Shape()
    found.feed(html)
    return found


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_queue_filter_checkboxes_sit_in_their_item_beside_the_label(app, demo_world, language):
    browser = _signed_in(app, demo_world["handler"])
    browser.cookies.set("portal_lang", language)
    page = shape(browser.get("/staff/queue").text)
    assert len(page.checkbox_parents) >= 2
    assert all("checkboxes__item" in parent.split() or "radios__item" in parent.split()
               for parent in page.checkbox_parents), page.checkbox_parents


@pytest.mark.parametrize(("account", "address"), [("handler", "/staff/queue?state=all"),
                                                  ("employee", "/me/requests"), ("clerk", "/employer/requests"),
                                                  ("admin", "/employer/bills"),
                                                  (None, "/policy/parameters")])
@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_wide_tables_name_the_column_of_every_cell_for_the_phone_layout(app, demo_world, account, address,
                                                                        language):
    from tests.helpers import another_browser

    browser = another_browser(app) if account is None else _signed_in(app, demo_world[account])
    browser.cookies.set("portal_lang", language)
    page = shape(browser.get(address).text)
    assert page.cells, f"no stacking table on {address}"
    assert all(label and label.strip() for label in page.cells), address


def test_the_stylesheet_stacks_those_tables_on_a_phone_and_wraps_long_cells():
    css = CSS.read_text(encoding="utf-8")
    phone = re.search(r"@media \(max-width: 40rem\) \{\s*\.table--stack thead(.*?)\n\}", css, re.S)
    assert phone and "attr(data-label)" in phone.group(1) and "display: block" in phone.group(1)
    assert re.search(r"\.table--wrap td,\s*\.table--wrap th \{ overflow-wrap: anywhere;", css)
