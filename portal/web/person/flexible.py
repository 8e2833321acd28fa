"""A flexible worker's own contributions (/me/flexible): enrol, choose the base, pay, see missed months.

    GET  /me/flexible                      the page (enrolment or the year, gaps, orders)
    POST /me/flexible/enrol                enrol from this month or the next, with a base percent
    POST /me/flexible/base                 choose the percent for this or the next contribution year
    POST /me/flexible/pay                  a payment order for a month, the rest of the quarter or of the year
    GET  /me/flexible/orders/{reference}   one of the person's payment orders: how to pay, its status
"""

from __future__ import annotations

from starlette.routing import Route

from portal import i18n
from portal.errors import N_, Conflict, Msg, ValidationFailed
from portal.policy.dates import add_months, fmt_month, month_of, parse_month
from portal.services import enrolment, person_requests
from portal.services import flexible as service
from portal.web.access import PERSON
from portal.web.endpoint import Ctx, endpoint
from portal.web.parse import whole_number

TEMPLATE = "person/flexible.html"


def _page(ctx: Ctx, *, status: int = 200, errors: dict | None = None, problem: str | None = None, form: str = ""):
    view = service.overview(ctx.db, actor=ctx.actor, today=ctx.today)
    return ctx.render(TEMPLATE, status=status, view=view, errors=errors or {}, values=ctx.values() if errors else {},
                      problem=problem, failed_form=form,
                      eligibility=view.problem.render(i18n.gettext) if view.problem else None, start_options=_start_options(ctx),
                      month_options=[(fmt_month(month), i18n.format_month(month)) for month in view.payable_months],
                      all_gaps_change=_all_gaps_change(ctx, view),
                      exception_grounds=person_requests.exception_grounds(ctx.db, person=view.person,
                                                                          month=month_of(ctx.today))
                      if view.problem else None)


def _all_gaps_change(ctx: Ctx, view: service.FlexibleView):
    # What the months that can no longer be paid online would have added: the reason to ask the office.
    closed = [gap for gap in view.gaps if not gap.allowed]
    if not closed:
        return None
    return service.estimate_change(ctx.db, person=view.person, gaps=closed, today=ctx.today,
                                   percent=view.percent or view.bounds[0])


def _start_options(ctx: Ctx) -> list[tuple[str, str]]:
    this = month_of(ctx.today)
    return [(fmt_month(this), i18n.gettext("This month (%(month)s)", month=fmt_month(this))),
            (fmt_month(add_months(this, 1)),
             i18n.gettext("Next month (%(month)s)", month=fmt_month(add_months(this, 1))))]


def _percent(ctx: Ctx) -> int | None:
    text = ctx.value("base_percent").rstrip("%％").strip()
    return whole_number(text, low=0, high=9999)


def _failed(ctx: Ctx, error: Exception, form: str):
    if isinstance(error, ValidationFailed):
        errors = {name: message.render(i18n.gettext) for name, message in error.errors.items()}
        return ctx.refuse(_page, ctx, status=422, errors=errors, form=form)
    return ctx.refuse(_page, ctx, status=error.status_code, problem=error.message.render(i18n.gettext), form=form)


@endpoint(PERSON)
def page(ctx: Ctx):
    return _page(ctx)


@endpoint(PERSON)
def enrol(ctx: Ctx):
    percent = _percent(ctx)
    try:
        start = ctx.value("start_month")
        if start not in {value for value, _ in _start_options(ctx)}:
            raise ValidationFailed({"start_month": Msg(N_("Choose this month or next month."))})
        enrolment.enrol_flexible(ctx.db, actor=ctx.actor, start_month=parse_month(start),
                                 base_percent=percent if percent is not None else -1, now=ctx.now, today=ctx.today)
    except (ValidationFailed, Conflict) as error:
        return _failed(ctx, error, "enrol")
    ctx.flash(N_("You are enrolled as a flexible worker from %(month)s."), month=start)
    return ctx.redirect(ctx.request.url_for("person_flexible").path)


@endpoint(PERSON)
def choose_base(ctx: Ctx):
    percent = _percent(ctx)
    year = ctx.value("contribution_year")
    try:
        enrolment.set_flexible_base_percent(
            ctx.db, actor=ctx.actor, contribution_year_start=whole_number(year, low=0, high=9999) or -1,
            base_percent=percent if percent is not None else -1, now=ctx.now, today=ctx.today)
    except (ValidationFailed, Conflict) as error:
        return _failed(ctx, error, "base")
    ctx.flash(N_("Your base is %(percent)s%% of the average wage for the contribution year from July %(year)s."),
              percent=percent, year=year)
    return ctx.redirect(ctx.request.url_for("person_flexible").path)


@endpoint(PERSON)
def pay(ctx: Ctx):
    try:
        order = service.pay(ctx.db, actor=ctx.actor, period=ctx.value("period"), first_month=ctx.value("month"),
                            today=ctx.today, now=ctx.now)
    except (ValidationFailed, Conflict) as error:
        return _failed(ctx, error, "pay")
    ctx.flash(N_("Payment order %(reference)s is ready. Pay it by the date shown."), reference=order.reference)
    return ctx.redirect(ctx.request.url_for("person_flexible_order", reference=order.reference).path)


@endpoint(PERSON)
def order(ctx: Ctx):
    found = service.order(ctx.db, actor=ctx.actor, reference=ctx.path_params["reference"])
    return ctx.render("person/flexible_order.html", found=found, show_dev_hint=not ctx.settings.production)


routes = [
    Route("/me/flexible", page, methods=["GET"], name="person_flexible"),
    Route("/me/flexible/enrol", enrol, methods=["POST"], name="person_flexible_enrol"),
    Route("/me/flexible/base", choose_base, methods=["POST"], name="person_flexible_base"),
    Route("/me/flexible/pay", pay, methods=["POST"], name="person_flexible_pay"),
    Route("/me/flexible/orders/{reference:str}", order, methods=["GET"], name="person_flexible_order"),
]
