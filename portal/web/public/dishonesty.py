"""The public serious-dishonesty list (社会保险领域严重失信人名单, 人社部规〔2019〕2号): no sign-in, persons masked."""

from __future__ import annotations

from starlette.routing import Route

from portal.services import credit
from portal.web.access import PUBLIC
from portal.web.endpoint import Ctx, endpoint


@endpoint(PUBLIC)
def dishonesty_list(ctx: Ctx):
    return ctx.render("public/dishonesty_list.html", entries=credit.public_list(ctx.db, on=ctx.today))


routes = [Route("/dishonesty-list", dishonesty_list, methods=["GET"], name="public_dishonesty_list")]
