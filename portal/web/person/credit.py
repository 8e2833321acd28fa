"""A person's credit page (/me/credit): the same page as the employer's (portal/web/employer/credit.py)."""

from __future__ import annotations

from starlette.routing import Route

from portal.services import credit
from portal.web.access import PERSON
from portal.web.employer.credit import credit_context, objection
from portal.web.endpoint import Ctx, endpoint


@endpoint(PERSON)
def credit_page(ctx: Ctx):
    return ctx.render("person/credit.html", **credit_context(ctx, credit.Subject(*ctx.principal.party)))


@endpoint(PERSON)
def credit_objection(ctx: Ctx):
    return objection(ctx, template="person/credit.html", subject=credit.Subject(*ctx.principal.party),
                     done_url=str(ctx.request.url_for("person_credit").path))


routes = [
    Route("/me/credit", credit_page, methods=["GET"], name="person_credit"),
    Route("/me/credit/objection", credit_objection, methods=["POST"], name="person_credit_objection"),
]
