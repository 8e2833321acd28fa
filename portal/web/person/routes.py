"""The signed-in person's own pages (/me)."""

from __future__ import annotations

from starlette.routing import Route

from portal.models import Person, PersonAccount
from portal.services import claims
from portal.web.access import PERSON
from portal.web.endpoint import Ctx, endpoint


@endpoint(PERSON)
def dashboard(ctx: Ctx):
    person = ctx.db.get(Person, ctx.principal.person_id)
    account = ctx.db.get(PersonAccount, ctx.principal.account_id)
    pension = claims.pension_summary(ctx.db, person_id=person.id, today=ctx.today)  # a pensioner's figures first
    return ctx.render("person/dashboard.html", person=person, account=account, pension=pension)


routes = [Route("/me", dashboard, name="person_dashboard")]
