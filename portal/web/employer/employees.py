"""The employer's employees (/employer/employees): list and search, 增员 (add) and 减员 (end a spell)."""

from __future__ import annotations

from starlette.routing import Route

from portal import i18n
from portal.errors import N_, Conflict, Msg, ValidationFailed
from portal.services import declarations, enrolment
from portal.web.access import EMPLOYER
from portal.web.endpoint import Ctx, endpoint
from portal.web.parse import MAX_PAGE, form_month, query_int

PER_PAGE = 50


def month_value(ctx: Ctx, name: str):
    """A month typed as YYYY-MM (what <input type=month> sends) within the months an employment may start or end
    in; ValidationFailed at the field otherwise (the service checks the spell's own limits)."""
    low, high = enrolment.month_bounds(ctx.today)
    return form_month(ctx.value(name), name, low=low, high=high)


def _page_number(ctx: Ctx) -> int:
    return query_int(ctx.query, "page", default=1, low=1, high=MAX_PAGE)


def _list_page(ctx: Ctx, *, status: int = 200, **extra):
    employer = declarations.employer_of(ctx.db, actor=ctx.actor)
    search = ctx.query.get("q", "").strip()[:40]
    rows, total = [], 0
    if employer is not None and employer.status == "verified":
        total = enrolment.employee_count(ctx.db, actor=ctx.actor, search=search)
    pages = max(1, -(-total // PER_PAGE))
    page = min(_page_number(ctx), pages)
    if total:
        rows = enrolment.employees(ctx.db, actor=ctx.actor, search=search, offset=(page - 1) * PER_PAGE,
                                   limit=PER_PAGE)
    return ctx.render("employer/employees.html", status=status, employer=employer, search=search,
                      rows=rows, total=total, page=page, pages=pages, **extra)


@endpoint(EMPLOYER)
def employees(ctx: Ctx):
    return _list_page(ctx)


@endpoint(EMPLOYER)
def add_employee(ctx: Ctx):
    try:
        start = month_value(ctx, "start_month")
        spell = enrolment.add_employee(ctx.db, actor=ctx.actor, id_number=ctx.value("id_number"),
                                       name=ctx.value("name"), start_month=start, wage=ctx.value("wage"),
                                       mobile=ctx.value("mobile"), now=ctx.now, today=ctx.today)
    except ValidationFailed as error:
        return ctx.refuse(_invalid, ctx, error)
    except Conflict as error:
        return ctx.refuse(_invalid, ctx, ValidationFailed({"id_number": error.message}), status=409)
    billed = enrolment.already_billed(ctx.db, spell=spell)
    if billed is None:
        ctx.flash("%(name)s was added from %(month)s.", name=ctx.value("name"),
                  month=i18n.format_month(spell.start_month))
    elif billed[0] == billed[1]:
        ctx.flash(_ADDED_INTO_BILLED_MONTH, name=ctx.value("name"), month=i18n.format_month(spell.start_month),
                  first=i18n.format_month(billed[0]))
    else:
        ctx.flash(_ADDED_INTO_BILLED_MONTHS, name=ctx.value("name"), month=i18n.format_month(spell.start_month),
                  first=i18n.format_month(billed[0]), last=i18n.format_month(billed[1]))
    return ctx.redirect(ctx.request.url_for("employer_employees").path)


# On their own: Babel skips N_ nested inside flash(...).
_ADDED_INTO_BILLED_MONTH = N_(
    "%(name)s was added from %(month)s. The bill for %(first)s was already issued and does not change: this "
    "employee's contribution for %(first)s goes on a supplementary bill at the next billing run.")
_ADDED_INTO_BILLED_MONTHS = N_(
    "%(name)s was added from %(month)s. The bills for %(first)s to %(last)s were already issued and do not "
    "change: this employee's contributions for those months go on supplementary bills at the next billing run.")


def _invalid(ctx: Ctx, error: ValidationFailed, status: int = 422):
    """The list again with the add form showing the visitor's values and each field's message."""
    employer = declarations.employer_of(ctx.db, actor=ctx.actor)
    total = enrolment.employee_count(ctx.db, actor=ctx.actor)
    response = ctx.render_invalid("employer/employees.html", error, employer=employer, search="",
                                  rows=enrolment.employees(ctx.db, actor=ctx.actor, limit=PER_PAGE), total=total,
                                  page=1, pages=max(1, -(-total // PER_PAGE)))
    response.status_code = status
    return response


END_REASONS = enrolment.END_REASONS


def _end_page(ctx: Ctx, spell_id: int, error: ValidationFailed | None = None):
    row = declarations.own_employee(ctx.db, actor=ctx.actor, spell_id=spell_id)
    if error is not None:
        return ctx.render_invalid("employer/employees_end.html", error, row=row, reasons=END_REASONS)
    return ctx.render("employer/employees_end.html", row=row, reasons=END_REASONS)


@endpoint(EMPLOYER)
def end_form(ctx: Ctx):
    return _end_page(ctx, ctx.path_params["spell_id"])


@endpoint(EMPLOYER)
def end_spell(ctx: Ctx):
    spell_id = ctx.path_params["spell_id"]
    try:
        try:
            end = month_value(ctx, "end_month")
        except ValidationFailed as refused:
            errors = dict(refused.errors)
            if ctx.value("reason") not in END_REASONS:
                errors["reason"] = Msg(N_("Choose why the employment ends."))
            raise ValidationFailed(errors) from None
        spell = enrolment.end_spell(ctx.db, actor=ctx.actor, spell_id=spell_id, end_month=end,
                                    reason=ctx.value("reason"), now=ctx.now, today=ctx.today)
    except ValidationFailed as error:
        return ctx.refuse(_end_page, ctx, spell_id, error)
    ctx.flash("The employment ends after %(month)s.", month=i18n.format_month(spell.end_month))
    return ctx.redirect(ctx.request.url_for("employer_employees").path)


routes = [
    Route("/employer/employees", employees, methods=["GET"], name="employer_employees"),
    Route("/employer/employees", add_employee, methods=["POST"], name="employer_add_employee"),
    Route("/employer/employees/{spell_id:id}/end", end_form, methods=["GET"], name="employer_end_form"),
    Route("/employer/employees/{spell_id:id}/end", end_spell, methods=["POST"], name="employer_end_spell"),
]
