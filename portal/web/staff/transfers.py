"""Transfers for staff.

    GET /staff/transfers              supervisors: every step past its time limit, and the transfers under way
    GET /staff/transfers/{reference}  any member of staff: one transfer's legs, amounts and the messages exchanged
"""

from __future__ import annotations

from starlette.routing import Route

from portal.services import transfers
from portal.web.access import STAFF
from portal.web.endpoint import Ctx, endpoint

SUPERVISORS = STAFF("supervisor")
ANY_STAFF = STAFF()


@endpoint(SUPERVISORS)
def overview(ctx: Ctx):
    return ctx.render("staff/transfers.html", overdue=transfers.overdue_for_supervisors(ctx.db, today=ctx.today),
                      under_way=transfers.open_transfers(ctx.db), province_name=transfers.province_name,
                      leg_names=transfers.LEG_NAMES, state_names=transfers.STATE_NAMES)


@endpoint(ANY_STAFF)
def detail(ctx: Ctx):
    found = transfers.staff_transfer(ctx.db, reference=ctx.path_params["reference"], today=ctx.today)
    return ctx.render("staff/transfer.html", tracker=found, messages=transfers.messages_of(ctx.db, transfer=found.transfer),
                      province_name=transfers.province_name, leg_names=transfers.LEG_NAMES,
                      state_names=transfers.STATE_NAMES)


routes = [
    Route("/staff/transfers", overview, methods=["GET"], name="staff_transfers"),
    Route("/staff/transfers/{reference}", detail, methods=["GET"], name="staff_transfer"),
]
