"""The employer's bills, the late fee before paying, and payment orders (/employer/bills)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from starlette.responses import Response
from starlette.routing import Route

from portal import i18n
from portal.errors import N_, ValidationFailed
from portal.policy.money import from_fen
from portal.services import bill_lines, billing
from portal.web.access import EMPLOYER
from portal.web.endpoint import Ctx, endpoint
from portal.web.parse import MAX_ID, MAX_PAGE, form_date, query_int, whole_number

if TYPE_CHECKING:  # types only: pages reach the tables through services (tests/test_structure.py)
    from portal.models import Bill


@dataclass(frozen=True)
class BillView:
    bill: Bill
    line_count: int  # employees (months) on the bill: the lines themselves are on the bill's own page
    today: billing.BillDue
    on_date: billing.BillDue  # what it costs on the chosen payment date

    @property
    def unpaid(self) -> bool:
        return self.bill.status != "paid"

    @property
    def overdue(self) -> bool:
        return self.unpaid and self.today.late_fee > 0

    @property
    def deferred(self) -> bool:
        return self.unpaid and self.today.deferral is not None


def _pay_on(ctx: Ctx) -> tuple[date, dict]:
    """The chosen payment date (today when none is given). A date that is not a real day, in the past or beyond
    the short life of a payment order is refused at the field, the typed text kept; the figures stay today's and
    no order is made."""
    raw = ctx.value("pay_on")
    if not raw:
        return ctx.today, {}
    try:
        return form_date(raw, "pay_on", low=ctx.today, high=billing.latest_pay_on(ctx.today)), {}
    except ValidationFailed as refused:
        return ctx.today, refused.errors


def _bill_views(ctx: Ctx, pay_on: date) -> list[BillView]:
    bills = billing.bills_for(ctx.db, actor=ctx.actor)
    approvals = billing.deferral_approvals(ctx.db, bills=[b for b in bills if b.status != "paid"])
    counts = bill_lines.line_counts(ctx.db, bills=bills)
    views = []
    for bill in bills:
        approved_on = approvals.get(bill.id)
        views.append(BillView(
            bill=bill, line_count=counts.get(bill.id, 0),
            today=billing.bill_due(bill, pay_on=ctx.today, approved_on=approved_on),
            on_date=billing.bill_due(bill, pay_on=pay_on, approved_on=approved_on)))
    return views


def _page(ctx: Ctx, *, status: int = 200, errors: dict | None = None, selected: set[int] | None = None):
    pay_on, date_errors = _pay_on(ctx)
    messages = {name: message.render(i18n.gettext) for name, message in {**date_errors, **(errors or {})}.items()}
    views = _bill_views(ctx, pay_on)
    unpaid = [view for view in views if view.unpaid]
    if selected is None:
        selected = {view.bill.id for view in unpaid}
    chosen = [view for view in unpaid if view.bill.id in selected]
    return ctx.render(
        "employer/bills.html", status=status, views=views, unpaid=unpaid, selected=selected, pay_on=pay_on,
        errors=messages, values={"pay_on": ctx.value("pay_on") or pay_on.isoformat()},
        to_pay_today=sum((v.today.total for v in chosen), Decimal("0.00")),
        to_pay_on_date=sum((v.on_date.total for v in chosen), Decimal("0.00")),
        orders=billing.pending_orders(ctx.db, actor=ctx.actor, today=ctx.today),
        explained=next((v for v in unpaid if v.on_date.explanation is not None), None), fen=from_fen,
    )


@endpoint(EMPLOYER)
def bills_page(ctx: Ctx):
    return _page(ctx)


@endpoint(EMPLOYER)
def pay(ctx: Ctx):
    """Create a payment order for the chosen bills, with the late fee to the chosen payment date."""
    pay_on, errors = _pay_on(ctx)
    bill_ids = []
    for raw in ctx.form.getlist("bill") if ctx.form is not None else []:
        bill_id = whole_number(raw, low=1, high=MAX_ID) if isinstance(raw, str) else None
        if bill_id is not None:
            bill_ids.append(bill_id)
    if errors:
        return _page(ctx, status=422, selected=set(bill_ids))
    try:
        order = billing.create_payment_order(ctx.db, actor=ctx.actor, bill_ids=bill_ids, pay_on=pay_on, now=ctx.now)
    except ValidationFailed as invalid:
        return ctx.refuse(_page, ctx, status=422, errors=invalid.errors, selected=set())
    ctx.flash("Payment order %(reference)s was created. Quote this reference when you pay.",
              reference=order.reference)
    return ctx.redirect(ctx.request.url_for("employer_bill_order", reference=order.reference).path)


def _order_context(ctx: Ctx) -> dict:
    order = billing.order_for(ctx.db, actor=ctx.actor, reference=ctx.path_params["reference"])
    return {"order": order, "bills": billing.bills_of_order(ctx.db, order=order), "fen": from_fen,
            "expired": order.status == "pending" and order.pay_by < ctx.today}


@endpoint(EMPLOYER)
def order_page(ctx: Ctx):
    return ctx.render("employer/bills_order.html", **_order_context(ctx))


@endpoint(EMPLOYER)
def order_status(ctx: Ctx):
    """htmx: the order's status panel alone, polled while the order waits for the collector."""
    return ctx.render("employer/bills_order_status.html", **_order_context(ctx))


LINES_PER_PAGE = 100
LINE_HEADINGS = (N_("Identity number"), N_("Employee"), N_("Base"), N_("Employer part"), N_("Individual part"),
                 N_("Amount"))


@endpoint(EMPLOYER)
def bill_lines_page(ctx: Ctx):
    """One bill's lines, a page at a time: an employer of thousands is never sent every line of every bill."""
    bill = bill_lines.own_bill(ctx.db, actor=ctx.actor, bill_id=ctx.path_params["bill_id"])
    total = bill_lines.line_counts(ctx.db, bills=[bill]).get(bill.id, 0)
    pages = max(1, -(-total // LINES_PER_PAGE))
    page = min(query_int(ctx.query, "page", default=1, low=1, high=MAX_PAGE), pages)
    rows = bill_lines.lines(ctx.db, bill=bill, offset=(page - 1) * LINES_PER_PAGE, limit=LINES_PER_PAGE)
    return ctx.render("employer/bill_lines.html", bill=bill, rows=rows, total=total, page=page, pages=pages,
                      first=(page - 1) * LINES_PER_PAGE + 1, fen=from_fen, headings=LINE_HEADINGS)


@endpoint(EMPLOYER)
def bill_lines_csv(ctx: Ctx):
    """Every line of one bill as a spreadsheet (UTF-8 with a byte-order mark, so Excel reads the names)."""
    bill = bill_lines.own_bill(ctx.db, actor=ctx.actor, bill_id=ctx.path_params["bill_id"])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([i18n.gettext(heading) for heading in LINE_HEADINGS])
    for line in bill_lines.lines(ctx.db, bill=bill):
        writer.writerow([line.id_number, line.name, *(str(from_fen(fen)) for fen in (
            line.base_fen, line.employer_part_fen, line.individual_part_fen, line.amount_fen))])
    name = f"bill-{bill.month:%Y-%m}" + (f"-part-{bill.part}" if bill.part > 1 else "") + ".csv"
    return Response(("\ufeff" + buffer.getvalue()).encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


routes = [
    Route("/employer/bills", bills_page, methods=["GET"], name="employer_bills"),
    Route("/employer/bills/pay", pay, methods=["POST"], name="employer_bills_pay"),
    Route("/employer/bills/{bill_id:id}", bill_lines_page, methods=["GET"], name="employer_bill_lines"),
    Route("/employer/bills/{bill_id:id}/lines.csv", bill_lines_csv, methods=["GET"], name="employer_bill_lines_csv"),
    Route("/employer/bills/orders/{reference:str}", order_page, methods=["GET"], name="employer_bill_order"),
    Route("/employer/bills/orders/{reference:str}/status", order_status, methods=["GET"],
          name="employer_bill_order_status"),
]
