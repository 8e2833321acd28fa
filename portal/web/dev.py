"""Development only (never routed in production): the messages the development sink kept instead of sending."""

from __future__ import annotations

from starlette.routing import Route

from portal.errors import NotFound
from portal.notify.dev_sink import DevelopmentSink
from portal.web.access import PUBLIC
from portal.web.endpoint import Ctx, endpoint


@endpoint(PUBLIC)
def messages(ctx: Ctx):
    sink = ctx.notifier
    if ctx.settings.production or not isinstance(sink, DevelopmentSink):
        raise NotFound()
    to = ctx.value("to")
    return ctx.render("dev/messages.html", messages=sink.messages(to or None), to=to)


routes = [Route("/dev/messages", messages, methods=["GET"], name="dev_messages")]
