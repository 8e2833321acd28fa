"""Charts are drawn at their own size for no, one and many values: no giant axis or text for one bar."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from portal import i18n
from portal.web.templating import environment

CSS = Path(__file__).resolve().parent.parent / "static" / "css" / "portal.css"
CHART = ('{% from "components/chart.html" import chart with context %}'
         '{{ chart("c", "Title", "Summary", rows, "Year", "Amount") }}')


def draw(count: int, locale: str = "en") -> str:
    i18n.set_locale(locale)
    try:
        rows = [{"label": str(2000 + n), "value": Decimal(1000 + 10 * n), "display": f"¥{1000 + 10 * n}"}
                for n in range(count)]
        return environment().from_string(CHART).render(rows=rows, locale=locale)
    finally:
        i18n.set_locale(i18n.DEFAULT_LOCALE)


def size(svg: str) -> tuple[int, int, int, int]:
    box = re.search(r'viewBox="0 0 (\d+) (\d+)" width="(\d+)" height="(\d+)"', svg)
    assert box, "the chart's SVG has no pixel size"
    return tuple(int(part) for part in box.groups())


@pytest.mark.parametrize(("locale", "sentence"), [("en", "There are no figures to show yet."),
                                                   ("zh_CN", "暂无可显示的数据。")])
def test_no_values_draw_no_empty_axes_but_say_so(locale, sentence):
    page = draw(0, locale)
    assert "<svg" not in page and "<table" not in page
    assert sentence in page


def test_one_value_is_drawn_at_its_own_small_size_not_stretched_to_the_column():
    view_width, view_height, width, height = size(draw(1))
    assert (width, height) == (view_width, view_height)
    assert width <= 200
    assert 'width="100%"' not in draw(1)
    assert 'class="chart__canvas" role="region"' not in draw(1)  # nothing to scroll


def test_many_values_get_narrower_slots_and_a_canvas_that_scrolls_by_keyboard():
    page = draw(30)
    view_width, _view_height, width, _height = size(page)
    assert width == view_width
    assert width < 84 + 96 * 30  # narrower slots than with a few bars
    assert 'class="chart__canvas" role="region" aria-label="Title" tabindex="0"' in page
    assert all(f">{2000 + n}<" in page for n in range(30))


def test_the_stylesheet_does_not_stretch_charts_to_the_column():
    rule = re.search(r"\.chart svg \{(.*?)\}", CSS.read_text(encoding="utf-8"), re.S).group(1)
    assert "width: 100%" not in rule and "min-width" not in rule


def test_labels_values_and_notes_drawn_in_the_chart_are_escaped():
    rows = [{"label": "<b>2001</b>", "value": Decimal(5), "display": "¥5 & more", "note": "<i>now</i>"},
            {"label": "2002", "value": None, "display": "<script>x</script>"}]
    page = environment().from_string(CHART).render(rows=rows, locale="en")
    svg = page.split("</svg>", 1)[0]
    assert "&lt;b&gt;2001&lt;/b&gt;" in svg and "¥5 &amp; more" in svg and "&lt;i&gt;now&lt;/i&gt;" in svg
    assert "&lt;script&gt;x&lt;/script&gt;" in svg and "<script>" not in page and "<b>" not in page
