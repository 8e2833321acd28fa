"""The pension award letter (养老金核定表) as a PDF: the person, the record's figures (years, deemed years, index,
bases, divisor), each component with how it was computed, the total, the yearly adjustments, the card paid to, and
the verification code (the certificate's mechanism: the same alphabet, QR code and /verify/{code} page).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fpdf import FPDF

from portal import i18n
from portal.documents.certificate import HEADINGS, MARGIN, _qr, cjk_font
from portal.policy.money import from_fen


@dataclass(frozen=True)
class Letter:
    award: Any  # portal.models.PensionAward
    person: Any  # portal.models.Person
    explanation: dict  # the award's stored explanation (steps with text_zh / text_en, parameters)
    bank: str
    adjustments: list = field(default_factory=list)  # portal.models.PensionAdjustment


def grouped(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def _param(explanation: dict, key: str, name: str) -> str:
    for step in explanation.get("steps", []):
        if step.get("key") == key and name in step.get("params", {}):
            return str(step["params"][name])
    return ""


def render(letter: Letter, *, verify_url: str) -> bytes:
    _ = i18n.gettext
    award, person, explanation = letter.award, letter.person, letter.explanation
    english = i18n.current_locale() == "en"
    pdf = FPDF(format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    pdf.set_creation_date(award.awarded_at)
    pdf.set_title(_("Basic pension award letter"))
    pdf.set_subject(f"{_('Verification code')} {award.code}")
    pdf.set_keywords(award.code)
    pdf.set_creator("Jilin Pension Service Portal")
    pdf.set_lang("en" if english else "zh-CN")
    pdf.add_font("cjk", fname=str(cjk_font()))
    pdf.add_page()
    width = pdf.epw

    pdf.set_font("cjk", size=18)
    pdf.cell(width, 11, _("Basic pension award letter"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    pdf.cell(width, 6, _("Jilin Province enterprise employees' basic pension insurance"), align="C",
             new_x="LMARGIN", new_y="NEXT")
    if award.provisional:
        pdf.set_font("cjk", size=10)
        pdf.multi_cell(width, 6, _("Provisional: computed with a figure not yet published or confirmed; it is "
                                   "recomputed when the figure is published, and any difference is paid or "
                                   "recovered."), border=1, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    pdf.set_font("cjk", size=10)
    years = Decimal(award.actual_months + award.deemed_months) / 12
    facts = (
        (_("Name"), person.name), (_("Identity number"), person.id_number),
        (_("Request reference"), award.case_reference), (_("Prefecture"), award.region),
        (_("Retirement month"), i18n.format_month(award.retirement_month)),
        (_("Paid from"), i18n.format_month(award.first_payment_month)),
        (_("Claim date"), i18n.format_date(award.claim_date)),
        (_("Contribution years (paid and deemed)"), f"{years.quantize(Decimal('0.01'))}"),
        (_("Paid months / deemed months"), f"{award.actual_months} / {award.deemed_months}"),
        (_("Average contribution index"), award.average_index),
        (_("Local base / provincial base"), f"{_param(explanation, 'pension.bases', 'local')} / "
                                             f"{_param(explanation, 'pension.bases', 'provincial')}"),
        (_("Personal account balance"), i18n.format_money(from_fen(award.account_balance_fen))),
        (_("Annuity divisor (months)"), award.divisor_months),
    )
    with pdf.table(col_widths=(60, 110), text_align=("LEFT", "LEFT"), first_row_as_headings=False) as table:
        for label, value in facts:
            table.row((label, str(value)))
    pdf.ln(4)

    pdf.set_font("cjk", size=12)
    pdf.cell(width, 8, _("Monthly pension"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    with pdf.table(col_widths=(50, 30), text_align=("LEFT", "RIGHT"), first_row_as_headings=True,
                   headings_style=HEADINGS) as table:
        table.row((_("Component"), _("Yuan a month")))
        for label, fen in ((_("Basic pension"), award.basic_fen), (_("Extra basic pension (Jilin)"), award.extra_fen),
                           (_("Transitional pension"), award.transitional_fen),
                           (_("Personal account pension"), award.account_fen), (_("Total"), award.monthly_fen)):
            table.row((label, i18n.format_money(from_fen(fen))))
    pdf.ln(3)
    for adjustment in letter.adjustments:
        note = _(" (assumed: Jilin's figures not yet published)") if adjustment.assumed else ""
        pdf.multi_cell(width, 6, _("Adjustment from %(month)s: %(amount)s a month", month=i18n.format_month(
            adjustment.effective_month), amount=i18n.format_money(from_fen(adjustment.amount_fen))) + note,
            new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(width, 6, _("Paid to: %(bank)s, card ending %(last)s", bank=letter.bank,
                               last=award.card_number[-4:]), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    pdf.set_font("cjk", size=12)
    pdf.cell(width, 8, _("How it was calculated"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    for number, step in enumerate(explanation.get("steps", []), start=1):
        pdf.multi_cell(width, 5, f"{number}. {step['text_en'] if english else step['text_zh']}",
                       new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.multi_cell(width, 5, _("Parameters used: %(names)s", names=", ".join(
        f"{used['name']} ({used['effective_from']}, {used['confidence']})" for used in explanation.get("parameters", []))),
        new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    top = pdf.get_y()
    if top + 50 > pdf.h - MARGIN:
        pdf.add_page()
        top = pdf.get_y()
    side = _qr(pdf, verify_url, pdf.w - MARGIN, top)
    pdf.set_xy(MARGIN, top)
    pdf.set_font("cjk", size=11)
    pdf.cell(width - side - 6, 7, _("Verification code"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "B", size=16)
    pdf.cell(width - side - 6, 9, grouped(award.code), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    pdf.multi_cell(width - side - 6, 5, _(
        "Anyone can check this letter without signing in: scan the QR code or open %(url)s. The check shows the "
        "award as issued, with the holder's name partly hidden.", url=verify_url), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
