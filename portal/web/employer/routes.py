"""Employer operators' pages (/employer)."""

from __future__ import annotations

from starlette.routing import Route

from portal.errors import ValidationFailed
from portal.services import accounts, declarations
from portal.web.access import EMPLOYER, EMPLOYER_ADMIN
from portal.web.endpoint import Ctx, endpoint


@endpoint(EMPLOYER)
def dashboard(ctx: Ctx):
    employer = declarations.employer_of(ctx.db, actor=ctx.actor)
    return ctx.render("employer/dashboard.html", employer=employer)


def _operators_page(ctx: Ctx, **extra):
    operators = accounts.list_operators(ctx.db, actor=ctx.actor)
    return ctx.render("employer/operators.html", operators=operators, **extra)


@endpoint(EMPLOYER_ADMIN)
def operators(ctx: Ctx):
    return _operators_page(ctx)


@endpoint(EMPLOYER_ADMIN)
def add_operator(ctx: Ctx):
    try:
        accounts.add_operator(
            ctx.db, actor=ctx.actor, username=ctx.value("username"), name=ctx.value("name"),
            mobile=ctx.value("mobile"), password=ctx.form.get("password") or "",
            password_confirm=ctx.form.get("password_confirm") or "", now=ctx.now,
        )
    except ValidationFailed as error:
        return ctx.fail("employer/operators.html", error.errors,
                        page=lambda: {"operators": accounts.list_operators(ctx.db, actor=ctx.actor)})
    ctx.flash("The operator was added. Give them their user name and password in person.")
    return ctx.redirect(ctx.request.url_for("employer_operators").path)


@endpoint(EMPLOYER_ADMIN)
def set_operator_active(ctx: Ctx):
    operator_id = ctx.path_params["operator_id"]
    active = ctx.value("active") == "1"
    accounts.set_operator_active(ctx.db, actor=ctx.actor, operator_id=operator_id, active=active,
                                 now=ctx.now)
    if active:
        ctx.flash("The operator was enabled.")
    else:
        ctx.flash("The operator was disabled and signed out.")
    return ctx.redirect(ctx.request.url_for("employer_operators").path)


routes = [
    Route("/employer", dashboard, name="employer_dashboard"),
    Route("/employer/operators", operators, methods=["GET"], name="employer_operators"),
    Route("/employer/operators", add_operator, methods=["POST"], name="employer_add_operator"),
    Route("/employer/operators/{operator_id:id}/active", set_operator_active, methods=["POST"], name="employer_set_operator_active"),
]
