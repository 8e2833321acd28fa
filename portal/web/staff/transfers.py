"""Transfers for supervisors (/staff/transfers): every step past its time limit, and the transfers under way."""

from __future__ import annotations

from starlette.routing import Route

from portal.services import transfers
from portal.web.access import STAFF
from portal.web.endpoint import Ctx, endpoint

SUPERVISORS = STAFF("supervisor")


@endpoint(SUPERVISORS)
def overview(ctx: Ctx):
    return ctx.render("staff/transfers.html", overdue=transfers.overdue_for_supervisors(ctx.db, today=ctx.today),
                      under_way=transfers.open_transfers(ctx.db), province_name=transfers.province_name,
                      leg_names=transfers.LEG_NAMES, state_names=transfers.STATE_NAMES)


routes = [Route("/staff/transfers", overview, methods=["GET"], name="staff_transfers")]
