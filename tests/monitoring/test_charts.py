"""The monitoring charts (horizontal bars by area, grouped bars, the age and sex pyramid): each an SVG image with
a title, a description and a pointer to the table of the same figures; a bar's length follows its value; no
values say so instead of drawing empty axes."""

from __future__ import annotations

import re
from decimal import Decimal

from portal import i18n
from portal.services.monitoring import PyramidRow
from portal.web.templating import environment

HBARS = ('{% from "staff/monitoring/_bars.html" import hbars %}'
         '{{ hbars("c", "Title", "Summary", rows, "table-c") }}')
GROUPED = ('{% from "staff/monitoring/_grouped.html" import grouped_bars %}'
           '{{ grouped_bars("g", "Title", "Summary", rows, ["Income", "Expenditure"], "table-g") }}')
PYRAMID = ('{% from "staff/monitoring/_pyramid.html" import pyramid_chart %}'
           '{{ pyramid_chart("p", "Title", "Summary", rows, "table-p") }}')


def draw(template: str, rows) -> str:
    i18n.set_locale("en")
    try:
        return environment().from_string(template).render(rows=rows)
    finally:
        i18n.set_locale(i18n.DEFAULT_LOCALE)


def widths(svg: str, css_class: str = "chart__bar") -> list[int]:
    return [int(width) for width in re.findall(rf'<rect class="{css_class}"[^>]* width="(\d+)"', svg)]


def test_horizontal_bars_scale_to_the_highest_value_and_point_to_their_table():
    rows = [{"label": "Changchun", "value": Decimal("80"), "display": "80.0%", "highlight": False},
            {"label": "Jilin City", "value": Decimal("40"), "display": "40.0%", "highlight": True},
            {"label": "Siping", "value": None, "display": "—", "highlight": False}]
    svg = draw(HBARS, rows)
    assert 'role="img"' in svg and 'aria-describedby="c-desc table-c"' in svg and "<title>Title</title>" in svg
    assert widths(svg) == [320] and widths(svg, "chart__bar chart__bar--highlight") == [160]
    assert "Siping: —" in svg  # no value: no bar, the dash still shown


def test_grouped_bars_draw_two_bars_a_label_with_a_legend_naming_both():
    rows = [{"label": "2025", "note": "", "a": Decimal(100), "b": Decimal(50), "a_display": "¥100",
             "b_display": "¥50", "highlight": False}]
    svg = draw(GROUPED, rows)
    heights = [int(h) for h in re.findall(r'<rect class="chart__bar[^"]*"[^>]* height="(\d+)"', svg)]
    assert heights == [180, 90]
    assert '<ul class="chart__legend">' in svg and "Expenditure" in svg


def test_the_pyramid_puts_men_left_women_right_youngest_at_the_bottom():
    rows = [PyramidRow(16, "16–19", 2, 1), PyramidRow(60, "60+", 1, 0)]
    svg = draw(PYRAMID, rows)
    assert 'aria-describedby="p-desc table-p"' in svg
    assert svg.index("60+: 1 men, 0 women") < svg.index("16–19: 2 men, 1 women")  # drawn top down: oldest first


def test_no_values_say_so():
    assert "There are no figures to show yet." in draw(HBARS, []) and "<svg" not in draw(HBARS, [])
    assert "There are no figures to show yet." in draw(GROUPED, []) and "<svg" not in draw(GROUPED, [])
