"""Provincial staff pages (/staff)."""

from __future__ import annotations

from starlette.routing import Route

from portal.errors import ValidationFailed
from portal.services import accounts
from portal.web.access import STAFF
from portal.web.endpoint import Ctx, endpoint

ANY_STAFF = STAFF()
DECIDERS = STAFF("handler", "reviewer", "supervisor", "admin")


@endpoint(ANY_STAFF)
def dashboard(ctx: Ctx):
    pending = accounts.pending_employers(session=ctx.db)
    return ctx.render("staff/dashboard.html", pending_count=len(pending))


@endpoint(DECIDERS)
def employers(ctx: Ctx):
    return ctx.render("staff/employers.html", employers=accounts.pending_employers(session=ctx.db), failed_id=None)


@endpoint(DECIDERS)
def decide_employer(ctx: Ctx):
    employer_id = ctx.path_params["employer_id"]
    approve = ctx.value("decision") == "approve"
    try:
        employer = accounts.decide_employer(session=ctx.db, actor=ctx.actor, employer_id=employer_id,
                                            approve=approve, note=ctx.value("note"), now=ctx.now)
    except ValidationFailed as error:
        ctx.db.rollback()
        return ctx.render_invalid("staff/employers.html", error, employers=accounts.pending_employers(session=ctx.db),
                                  failed_id=employer_id)
    if approve:
        ctx.flash("%(name)s is verified.", name=employer.name)
    else:
        ctx.flash("%(name)s was rejected.", name=employer.name)
    return ctx.redirect("/staff/employers")


routes = [
    Route("/staff", dashboard, name="staff_dashboard"),
    Route("/staff/employers", employers, methods=["GET"], name="staff_employers"),
    Route("/staff/employers/{employer_id:int}/decision", decide_employer, methods=["POST"], name="staff_decide_employer"),
]

