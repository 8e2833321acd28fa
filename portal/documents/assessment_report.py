"""A prefecture's assessment report (考核报告) for a year as a PDF: the score, the rank, each indicator with its
achieved share, weight and points, the worst indicator and whether it is under targeted supervision; the same
figures as the assessment page."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from fpdf import FPDF

from portal import i18n
from portal.documents.certificate import HEADINGS, LABEL_WIDTH, MARGIN, cjk_font


def _percent(value: Decimal | None) -> str:
    if value is None:
        return i18n.gettext("no records")
    return i18n.gettext("%(number)s%%", number=i18n.format_number(value * 100, places=1))


def render(*, area_name: str, area: str, year: int, through, score, labels: dict[str, str], weights_source: str,
           weights_provisional: bool, computed_at: datetime | None) -> bytes:
    """``score``: the area's AreaScore (portal/policy/assessment.py); ``labels``: indicator code → words."""
    _ = i18n.gettext
    title = _("Assessment report")
    pdf = FPDF(format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    if computed_at is not None:
        pdf.set_creation_date(computed_at)
    pdf.set_title(f"{title} {area_name} {year}")
    pdf.set_keywords(f"{area} {year} {score.score if score.score is not None else ''}")
    pdf.set_creator("Jilin Pension Service Portal")
    pdf.set_lang("en" if i18n.current_locale() == "en" else "zh-CN")
    pdf.add_font("cjk", fname=str(cjk_font()))
    pdf.add_page()
    width = pdf.epw

    pdf.set_font("cjk", size=20)
    pdf.cell(width, 12, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=11)
    pdf.cell(width, 7, _("Jilin Province enterprise employees' basic pension insurance"), align="C",
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    rows = ((_("Area"), area_name), (_("Year"), str(year)), (_("Through"), i18n.format_month(through)),
            (_("Score"), i18n.format_number(score.score, places=2) if score.score is not None else "—"),
            (_("Rank"), str(score.rank) if score.rank is not None else "—"),
            (_("Worst indicator"), _(labels[score.worst]) if score.worst else "—"),
            (_("Targeted supervision"), _("yes") if score.supervise else _("no")))
    pdf.set_font("cjk", size=12)
    for label, value in rows:
        pdf.cell(LABEL_WIDTH, 8, label)
        pdf.cell(width - LABEL_WIDTH, 8, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("cjk", size=10)
    with pdf.table(col_widths=(60, 30, 20, 20), text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
                   first_row_as_headings=True, headings_style=HEADINGS) as table:
        table.row((_("Indicator"), _("Achieved"), _("Weight"), _("Points")))
        for item in score.indicators:
            table.row((_(labels[item.code]), _percent(item.achieved), i18n.format_number(item.weight),
                       i18n.format_number(item.points, places=2) if item.points is not None else "—"))
    pdf.ln(4)
    pdf.set_font("cjk", size=9)
    note = _("Each indicator's achieved share, counted up to the full target, times its weight, over the indicators "
             "with records, scaled to 100.")
    pdf.multi_cell(width, 5, note, new_x="LMARGIN", new_y="NEXT")
    if weights_provisional:
        pdf.multi_cell(width, 5, _("The weights are provisional: %(source)s", source=weights_source),
                       new_x="LMARGIN", new_y="NEXT")
    if computed_at is not None:
        pdf.multi_cell(width, 5, _("Figures computed on %(when)s.", when=i18n.format_datetime(computed_at)),
                       new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
