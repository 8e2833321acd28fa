"""The signed-in person's record (权益记录), its CSV, and the insurance certificate (参保证明).

    GET  /me/records                  the month grid, gaps, account by year, index and charts
    GET  /me/records.csv              the same months as a spreadsheet (UTF-8 with BOM, headers in the visitor's language)
    GET  /me/certificate              what the certificate is, the form to get one, the ones already issued
    POST /me/certificate              issues today's certificate (the same one again while the record is unchanged)
    GET  /me/certificate/{code}.pdf   one of the person's own certificates as a PDF
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass

from starlette.responses import Response
from starlette.routing import Route

from portal import i18n
from portal.documents import certificate as certificate_pdf
from portal.errors import N_, Msg, PortalError
from portal.policy.dates import fmt_month
from portal.services import certificates, transfers
from portal.services.records import person_record
from portal.web.access import PERSON
from portal.web.endpoint import Ctx, endpoint
from portal.web.public.policy import parameter_labels

log = logging.getLogger("portal.web")

STATES = {
    "paid": N_("Paid"),
    "unpaid": N_("Billed, not paid yet"),
    "arrears": N_("In arrears"),
    "deferred": N_("Deferred"),
    "transferred_in": N_("Transferred in"),
    "deemed": N_("Deemed (视同缴费)"),
    "gap": N_("No contribution"),
}
SOURCES = {
    "employer_filing": N_("Filed by the employer"),
    "flexible_payment": N_("Paid as a flexible worker"),
    "back_payment": N_("Back payment"),
    "transfer_in": N_("Transfer from another scheme"),
    "deemed": N_("Deemed service before the scheme"),
}
GAP_REASONS = {
    "not_insured": N_("Not insured: no employer and no flexible enrolment in these months"),
    "not_billed": N_("Insured, but no bill has been issued for these months yet"),
    "unpaid": N_("Billed, but not paid yet"),
    "arrears": N_("In arrears: the bill was not paid by its due date"),
    "deferred": N_("Payment deferred (缓缴) with permission"),
}
# The grid's CSS modifier per state (static/css/portal.css, .month-grid); gaps keep the plain cell.
CELL_CLASSES = {"paid": "paid", "unpaid": "unpaid", "arrears": "arrears", "deferred": "deferred",
                "transferred_in": "transferred", "deemed": "deemed"}
CSV_HEADINGS = (N_("Month"), N_("Status"), N_("Source or reason"), N_("Contribution base (yuan)"),
                N_("Employer part (yuan)"), N_("Individual part (yuan)"), N_("Credited to personal account (yuan)"))


def _words(table: dict[str, str], key: str | None) -> str:
    return i18n.gettext(table[key]) if key in table else (key or "")


def _chart_rows(record) -> tuple[list[dict], list[dict]]:
    _ = i18n.gettext
    bases = [{"label": str(year.year), "value": year.base_average,
              "display": i18n.format_money(year.base_average) if year.base_average is not None
              else _("No paid months")} for year in record.years]
    balances = [{"label": str(year.year), "value": year.closing_balance,
                 "display": i18n.format_money(year.closing_balance)} for year in record.account_years]
    return bases, balances


@dataclass(frozen=True)
class GridRun:
    """Months side by side in one year's row that read the same: one cell spanning them.

    A forty-year record is 480 months; one cell per month made the page 176 KB, most of it the same words
    repeated. A run keeps every month told (its first and last month, its state and source in words) at the
    cost of one cell. ``state`` is None for the months of the row outside the record."""

    first: str  # 2024-03
    last: str
    span: int
    state: str | None
    css: str = ""  # the .month-grid modifier, "" for a gap
    words: str = ""  # the months, their state and their source or reason, in the visitor's language


def _grid(record) -> list[tuple[int, list[GridRun]]]:
    """The grid's rows as runs with their words ready: done here, not in the template, because a per-cell
    macro was most of the page's time."""
    _ = i18n.gettext
    states = {key: _(text) for key, text in STATES.items()}
    details = {key: _(text) for key, text in (SOURCES | GAP_REASONS).items()}
    rows = []
    for year in record.years:
        runs: list[GridRun] = []
        key = start = None
        for index, cell in enumerate([*year.cells, False]):  # False closes the last run
            this = None if cell is None else (cell.state, cell.source or cell.gap_reason or "") if cell else False
            if index and this != key:
                runs.append(_run(year.year, year.cells[start:index], key, states, details))
            if index == 0 or this != key:
                key, start = this, index
        rows.append((year.year, runs))
    return rows


def _run(year: int, cells: list, key, states: dict, details: dict) -> GridRun:
    if key is None:
        return GridRun("", "", len(cells), None)
    state, reason = key
    first, last = cells[0].month, cells[-1].month
    if len(cells) == 12:
        months = i18n.gettext("All year")  # the row's header names the year
    elif first == last:
        months = i18n.format_month(first)
    else:
        months = i18n.gettext("%(first)s to %(last)s") % {"first": i18n.format_month(first),
                                                            "last": i18n.format_month(last)}
    told = states[state] if not details.get(reason) else i18n.gettext("%(state)s, %(detail)s") % {
        "state": states[state], "detail": details[reason]}
    words = i18n.gettext("%(months)s: %(state)s") % {"months": months, "state": told}
    return GridRun(fmt_month(first), fmt_month(last), len(cells), state, CELL_CLASSES.get(state, ""), words)


@endpoint(PERSON)
def records(ctx: Ctx):
    """The person's own record; the service reads the principal's person only."""
    record = person_record(ctx.db, actor=ctx.actor, today=ctx.today)
    bases, balances = _chart_rows(record)
    return ctx.render(
        "person/records.html", record=record, grid=_grid(record), periods=certificates.insured_periods(ctx.db, record=record),
        states=STATES, sources=SOURCES, gap_reasons=GAP_REASONS, cell_classes=CELL_CLASSES,
        base_rows=bases, balance_rows=balances, labels=parameter_labels(ctx.locale),
        transferred=transfers.sources_of(ctx.db, person_id=record.person.id), province_name=transfers.province_name)


@endpoint(PERSON)
def records_csv(ctx: Ctx):
    record = person_record(ctx.db, actor=ctx.actor, today=ctx.today)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([i18n.gettext(heading) for heading in CSV_HEADINGS])
    for cell in record.cells:
        reason = _words(SOURCES, cell.source) if cell.source else _words(GAP_REASONS, cell.gap_reason)
        money = ("" if value is None else str(value) for value in (
            cell.base, cell.employer_part, cell.individual_part, cell.personal_account))
        writer.writerow([fmt_month(cell.month), _words(STATES, cell.state), reason, *money])
    # The byte-order mark makes Excel (the usual reader in an office in Jilin) open UTF-8 as UTF-8.
    body = "\ufeff" + buffer.getvalue()
    return Response(body.encode("utf-8"), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="pension-record-{ctx.today.isoformat()}.csv"',
        "Cache-Control": "no-store"})


def _certificate_page(ctx: Ctx, *, status: int = 200):
    issued = certificates.own_certificates(ctx.db, actor=ctx.actor)
    months = certificates.insured_months(ctx.db, actor=ctx.actor, today=ctx.today)
    refusal = None if months else certificates.NO_INSURED_MONTH.render(i18n.gettext)
    return ctx.render("person/certificate.html", status=status, issued=issued, grouped=certificates.grouped_code,
                      refusal=refusal)


@endpoint(PERSON)
def certificate_page(ctx: Ctx):
    return _certificate_page(ctx)


@endpoint(PERSON)
def certificate_issue(ctx: Ctx):
    try:
        issued = certificates.issue(ctx.db, actor=ctx.actor, now=ctx.now)
    except certificates.NothingToCertify:
        return _certificate_page(ctx, status=409)
    return ctx.redirect(ctx.request.url_for("person_certificate_pdf", code=issued.code).path)


class CertificateUnavailable(PortalError):
    status_code = 503


def verify_url(ctx: Ctx, code: str) -> str:
    return f"{ctx.settings.base_url.rstrip('/')}/verify/{code}"


@endpoint(PERSON)
def certificate_pdf_download(ctx: Ctx):
    issued = certificates.own_certificate(ctx.db, actor=ctx.actor, code=ctx.path_params["code"])
    try:
        body = certificate_pdf.render(issued, verify_url=verify_url(ctx, issued.code))
    except certificate_pdf.FontMissing:
        log.exception("the insurance certificate cannot be drawn")
        raise CertificateUnavailable(Msg(N_(
            "The certificate cannot be produced at the moment. Please try again later, or ask your social "
            "insurance office."))) from None
    return Response(body, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="certificate-{issued.code}.pdf"',
        "Cache-Control": "no-store"})


routes = [
    Route("/me/records", records, name="person_records"),
    Route("/me/records.csv", records_csv, name="person_records_csv"),
    Route("/me/certificate", certificate_page, methods=["GET"], name="person_certificate"),
    Route("/me/certificate", certificate_issue, methods=["POST"], name="person_certificate_issue"),
    Route("/me/certificate/{code}.pdf", certificate_pdf_download, name="person_certificate_pdf"),
]
