"""The bars, points and labels of the chart component (templates/components/chart.html), drawn here.

Why not in the template: one item is a dozen attributes worked out from Decimals, and a forty-year record has two
charts of forty items; drawn by the macro, item by item, they were a fifth of the record page's time under load.
The macro still draws the frame (axes, scale, title, the table of figures); what it gets from here is escaped.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

BAR = "#1d4f91"
HIGHLIGHT = "#0b0c0c"
BAR_MARGIN = 18  # each side of a bar inside its slot
BOLD = ' font-weight="bold"'


@dataclass(frozen=True)
class Drawing:
    items: Markup  # one <g class="chart__item"> a row
    points: list[str]  # "x,y" of each plotted value, for the line's polyline


def draw_items(rows, *, kind: str, left: int, slot: int, top: int, plot: int, peak) -> Drawing:
    """Each row as its bar (or point), its value above it and its label below; a None value draws its words."""
    items: list[str] = []
    points: list[str] = []
    base = top + plot
    for index, row in enumerate(rows):
        value = row["value"]
        highlight = bool(row.get("highlight"))
        x = left + slot * index
        centre = x + slot // 2
        bar = int(value * plot / peak) if (value is not None and peak) else 0
        y = base - bar
        parts = [f'<g class="chart__item{" chart__item--highlight" if highlight else ""}">']
        if value is not None:
            if kind == "line":
                points.append(f"{centre},{y}")
                parts.append(f'<circle class="chart__point" cx="{centre}" cy="{y}" r="{6 if highlight else 4}" '
                             f'fill="{HIGHLIGHT if highlight else BAR}"/>')
            else:
                parts.append(f'<rect class="chart__bar{" chart__bar--highlight" if highlight else ""}" '
                             f'x="{x + BAR_MARGIN}" y="{y}" width="{slot - 2 * BAR_MARGIN}" height="{bar}" '
                             f'fill="{HIGHLIGHT if highlight else BAR}"/>')
            parts.append(f'<text class="chart__value" x="{centre}" y="{y - 8}">{escape(row["display"])}</text>')
        else:
            parts.append(f'<text class="chart__value chart__value--missing" x="{centre}" y="{base - 8}" '
                         f'font-size="11">{escape(row["display"])}</text>')
        parts.append(f'<text class="chart__label" x="{centre}" y="{base + 20}"'
                     f'{BOLD if highlight else ""}>{escape(row["label"])}</text>')
        note = row.get("note")
        if note:
            parts.append(f'<text class="chart__label" x="{centre}" y="{base + 38}" font-size="11">{escape(note)}</text>')
        parts.append("</g>")
        items.append("".join(parts))
    return Drawing(Markup("\n    ".join(items)), points)
