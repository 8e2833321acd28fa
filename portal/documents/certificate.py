"""The certificate as a PDF: Chinese text in an embedded (subset) CJK font, the code as text and as a QR code.

fpdf2 cannot read a TrueType/OpenType *collection* (.ttc), which is how Debian ships Noto Sans CJK, so the
Simplified Chinese face is extracted once with fontTools into var/fonts/ and reused. No CJK font at all is a
set-up problem: ``FontMissing`` says what to install.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import segno
from fpdf import FPDF
from fpdf.fonts import FontFace

from portal import i18n
from portal.settings import VAR_DIR

if TYPE_CHECKING:  # for the annotation only: a document gets its content from the service, never imports it
    from portal.services.certificates import Issued

FONT_CACHE = VAR_DIR / "fonts" / "NotoSansCJKsc-Regular.otf"
# (file, face family inside a collection or None for a single font), tried in order.
FONT_SOURCES = (
    (Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"), "Noto Sans CJK SC"),
    (Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"), "Noto Serif CJK SC"),
    (Path("/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf"), None),
    (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), "WenQuanYi Micro Hei"),
)
MARGIN = 20  # mm
# One regular CJK face only (no bold in the collection we extract), so headings are set apart by a tint.
HEADINGS = FontFace(emphasis="", fill_color=(230, 230, 230))
QR_MODULE = 1  # mm per QR module: about 33 mm for a version-4 code, easy for a phone camera


class FontMissing(RuntimeError):
    """No font that can show Chinese is installed; the message says what to install."""


def _extract(collection: Path, family: str, target: Path) -> None:
    from fontTools.ttLib import TTCollection

    fonts = TTCollection(str(collection), lazy=True).fonts
    face = next((font for font in fonts if font["name"].getDebugName(1) == family), None)
    if face is None:
        raise FontMissing(f"{collection} has no face named {family!r}")
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target and rename: two workers extracting at once never leave a half-written font.
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    os.close(handle)
    try:
        face.save(temporary)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def cjk_font(cache: Path = FONT_CACHE, sources=FONT_SOURCES) -> Path:
    """A font file fpdf2 can embed that covers Chinese; extracted from a collection once, then cached."""
    if cache.exists():
        return cache
    for path, family in sources:
        if not path.exists():
            continue
        if family is None:
            return path
        _extract(path, family, cache)
        return cache
    raise FontMissing("No Chinese (CJK) font found for the insurance certificate. Install Debian's fonts-noto-cjk "
                      "(apt-get install fonts-noto-cjk), which provides "
                      "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc.")


def _period_kind(period) -> str:
    _ = i18n.gettext
    if period.kind == "employer":
        return _("Employed by %(employer)s", employer=period.employer)
    return {"flexible": _("Flexible employment (paid by the person)"),
            "transfer_in": _("Transferred in from another pension scheme"),
            "deemed": _("Deemed contribution months (视同缴费)")}.get(period.kind, period.kind)


def _qr(pdf: FPDF, url: str, right: int, y: int) -> int:
    """Draws the QR code as vector squares (no image library needed), ending at ``right``; returns its side in mm."""
    matrix = segno.make(url, error="m").matrix
    x = right - len(matrix) * QR_MODULE
    for row_number, row in enumerate(matrix):
        for column, dark in enumerate(row):
            if dark:
                pdf.rect(x + column * QR_MODULE, y + row_number * QR_MODULE, QR_MODULE, QR_MODULE, style="F")
    return len(matrix) * QR_MODULE


LABEL_WIDTH = 72  # mm: wide enough for the longest English label on one line


def render(issued: Issued, *, verify_url: str) -> bytes:
    """The certificate in the current language (i18n) as PDF bytes."""
    _ = i18n.gettext
    certificate, person = issued.certificate, issued.person
    code = issued.grouped_code
    pdf = FPDF(format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    pdf.set_creation_date(certificate.issued_at)
    pdf.set_title(_("Certificate of pension insurance"))
    pdf.set_subject(f"{_('Verification code')} {certificate.code}")
    pdf.set_keywords(certificate.code)
    pdf.set_creator("Jilin Pension Service Portal")
    pdf.set_lang("en" if i18n.current_locale() == "en" else "zh-CN")
    pdf.add_font("cjk", fname=str(cjk_font()))
    pdf.add_page()
    width = pdf.epw

    pdf.set_font("cjk", size=20)
    pdf.cell(width, 12, _("Certificate of pension insurance"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=11)
    pdf.cell(width, 7, _("Jilin Province enterprise employees' basic pension insurance"), align="C",
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)

    pdf.set_font("cjk", size=12)
    for label, value in ((_("Name"), person.name), (_("Identity number"), person.id_number),
                         (_("Date of issue"), i18n.format_date(certificate.issued_on)),
                         (_("Cumulative contribution months"), str(certificate.cumulative_months))):
        pdf.cell(LABEL_WIDTH, 8, label)
        pdf.cell(width - LABEL_WIDTH, 8, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    pdf.set_font("cjk", size=13)
    pdf.cell(width, 9, _("Insured periods"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    with pdf.table(col_widths=(22, 22, 14, 62), text_align=("LEFT", "LEFT", "RIGHT", "LEFT"),
                   first_row_as_headings=True, headings_style=HEADINGS) as table:
        table.row((_("From"), _("To"), _("Months"), _("Insured as")))
        for period in issued.periods:
            table.row((i18n.format_month(period.start), i18n.format_month(period.end), str(period.months),
                       _period_kind(period)))
        if not issued.periods:
            table.row(("", "", "0", _("No insured months on record")))
    pdf.ln(6)

    top = pdf.get_y()
    if top + 50 > pdf.h - MARGIN:  # keep the code block and its QR code together on one page
        pdf.add_page()
        top = pdf.get_y()
    side = _qr(pdf, verify_url, pdf.w - MARGIN, top)
    pdf.set_xy(MARGIN, top)
    pdf.set_font("cjk", size=11)
    pdf.cell(width - side - 6, 7, _("Verification code"), new_x="LMARGIN", new_y="NEXT")
    # The code in a core font: plain text in the file, so it can be found and copied.
    pdf.set_font("helvetica", "B", size=16)
    pdf.cell(width - side - 6, 9, code, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    pdf.multi_cell(width - side - 6, 5, _(
        "Anyone can check this certificate without signing in: scan the QR code or open %(url)s. The check "
        "shows what was issued on the date above, with the holder's name partly hidden.", url=verify_url),
        new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
