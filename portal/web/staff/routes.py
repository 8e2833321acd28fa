"""Provincial staff pages (/staff)."""

from __future__ import annotations

from starlette.routing import Route

from portal.services import accounts, anomalies
from portal.web.access import STAFF
from portal.web.endpoint import Ctx, endpoint

ANY_STAFF = STAFF()
VERIFICATION_QUEUE = "/staff/queue?kind=employer_verification"


@endpoint(ANY_STAFF)
def dashboard(ctx: Ctx):
    pending = accounts.pending_employers(ctx.db)
    supervising = "supervisor" in ctx.principal.roles
    open_anomalies = anomalies.open_count(ctx.db, area=ctx.principal.region or "") if supervising else 0
    return ctx.render("staff/dashboard.html", pending_count=len(pending), verification_queue=VERIFICATION_QUEUE,
                      supervising=supervising, open_anomalies=open_anomalies)


@endpoint(ANY_STAFF)
def employers(ctx: Ctx):
    """The pre-queue address: employer verification is decided in the handling queue like every request."""
    return ctx.redirect(VERIFICATION_QUEUE, status=301)


routes = [
    Route("/staff", dashboard, name="staff_dashboard"),
    Route("/staff/employers", employers, methods=["GET"], name="staff_employers"),
]
