"""The transfer record (参保缴费凭证) of a transfer out of Jilin as a PDF: the periods, what moves, the payment
instruction, and the verification code as text and as a QR code (checked at /verify like a certificate)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from fpdf import FPDF

from portal import i18n
from portal.documents.certificate import HEADINGS, LABEL_WIDTH, MARGIN, _period_kind, _qr, cjk_font

if TYPE_CHECKING:  # for the annotation only
    from portal.services.certificates import Issued


def render(issued: Issued, *, to_province: str, reference: str, amounts: dict, verify_url: str) -> bytes:
    """``amounts`` as the transfer keeps them (``sent``, ``total``, ``payment``); ``to_province`` in words."""
    _ = i18n.gettext
    certificate, person = issued.certificate, issued.person
    pdf = FPDF(format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    pdf.set_creation_date(certificate.issued_at)
    pdf.set_title(_("Transfer record of pension contributions"))
    pdf.set_subject(f"{_('Verification code')} {certificate.code}")
    pdf.set_keywords(f"{certificate.code} {reference}")
    pdf.set_creator("Jilin Pension Service Portal")
    pdf.set_lang("en" if i18n.current_locale() == "en" else "zh-CN")
    pdf.add_font("cjk", fname=str(cjk_font()))
    pdf.add_page()
    width = pdf.epw

    pdf.set_font("cjk", size=20)
    pdf.cell(width, 12, _("Transfer record of pension contributions"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=11)
    pdf.cell(width, 7, _("Jilin Province enterprise employees' basic pension insurance"), align="C",
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    sent = amounts.get("sent", {})
    rows = ((_("Name"), person.name), (_("Identity number"), person.id_number), (_("Transfer"), reference),
            (_("Transferred to"), to_province), (_("Date of issue"), i18n.format_date(certificate.issued_on)),
            (_("Cumulative contribution months"), str(certificate.cumulative_months)),
            (_("Personal account"), i18n.format_money(Decimal(sent.get("personal_account", "0")))),
            (_("Pooled fund"), i18n.format_money(Decimal(sent.get("pooled", "0")))),
            (_("Total transferred"), i18n.format_money(Decimal(amounts.get("total", "0")))),
            (_("Payment to the other province"), amounts.get("payment", {}).get("reference", "")))
    pdf.set_font("cjk", size=12)
    for label, value in rows:
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
    pdf.ln(6)
    top = pdf.get_y()
    if top + 50 > pdf.h - MARGIN:
        pdf.add_page()
        top = pdf.get_y()
    side = _qr(pdf, verify_url, pdf.w - MARGIN, top)
    pdf.set_xy(MARGIN, top)
    pdf.set_font("cjk", size=11)
    pdf.cell(width - side - 6, 7, _("Verification code"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "B", size=16)
    pdf.cell(width - side - 6, 9, issued.grouped_code, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    pdf.multi_cell(width - side - 6, 5, _(
        "Anyone can check this record without signing in: scan the QR code or open %(url)s. The check shows the "
        "periods as issued, with the holder's name partly hidden.", url=verify_url), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
