"""The signed-in person's own pages (/me)."""

from __future__ import annotations

from starlette.routing import Route

from portal.services import accounts, claims
from portal.web.access import PERSON
from portal.web.endpoint import Ctx, endpoint


@endpoint(PERSON)
def dashboard(ctx: Ctx):
    person = accounts.person_record(ctx.db, person_id=ctx.principal.person_id)
    account = accounts.person_account(ctx.db, account_id=ctx.principal.account_id)
    pension = claims.pension_summary(ctx.db, person_id=person.id, today=ctx.today)  # a pensioner's figures first
    return ctx.render("person/dashboard.html", person=person, account=account, pension=pension)


routes = [Route("/me", dashboard, name="person_dashboard")]
