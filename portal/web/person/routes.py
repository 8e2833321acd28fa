"""The signed-in person's own pages (/me)."""

from __future__ import annotations

from starlette.routing import Route

from portal.models import Person, PersonAccount
from portal.web.access import PERSON
from portal.web.endpoint import Ctx, endpoint


@endpoint(PERSON)
def dashboard(ctx: Ctx):
    person = ctx.db.get(Person, ctx.principal.person_id)
    account = ctx.db.get(PersonAccount, ctx.principal.account_id)
    return ctx.render("person/dashboard.html", person=person, account=account)


routes = [Route("/me", dashboard, name="person_dashboard")]
