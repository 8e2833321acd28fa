"""The service counter for pensioners (窗口): staff record a life certification (at the counter or on a home visit)
and a death found by a data match or reported in person.

    GET  /staff/counter/benefits                 the two forms
    POST /staff/counter/benefits/certification   certify the pensioner in front of them (or visited at home)
    POST /staff/counter/benefits/death           record a death: payments stop after its month
"""

from __future__ import annotations

from starlette.routing import Route

from portal import i18n
from portal.errors import N_, Conflict, Msg, ValidationFailed
from portal.services import certification, survivors
from portal.services import person_requests as requests
from portal.web.endpoint import Ctx, endpoint
from portal.web.staff.queue import CASE_WORKERS

CHANNELS = {"counter": N_("At the counter, the person present with their identity card"),
            "home_visit": N_("On a home visit, the person seen at home")}


def _page(ctx: Ctx) -> dict:
    return dict(channels=[(key, i18n.gettext(text)) for key, text in CHANNELS.items()])


@endpoint(CASE_WORKERS)
def counter(ctx: Ctx):
    return ctx.render("staff/counter_benefits.html", **_page(ctx))


@endpoint(CASE_WORKERS)
def certify(ctx: Ctx):
    channel = ctx.value("channel")
    try:
        if channel not in CHANNELS:
            raise ValidationFailed({"channel": Msg(N_("Choose how the person was seen."))})
        filing = requests.at_counter(ctx.db, staff=ctx.actor, id_number=ctx.value("id_number"), today=ctx.today)
        certification.certify(ctx.db, person_id=filing.person.id, channel=channel, actor=ctx.actor, now=ctx.now,
                              today=ctx.today, by_staff_id=ctx.principal.account_id)
    except ValidationFailed as error:
        return ctx.fail("staff/counter_benefits.html", error.errors, page=lambda: _page(ctx))
    except Conflict as refused:
        return ctx.fail("staff/counter_benefits.html", {"id_number": refused.message}, status=409,
                        page=lambda: _page(ctx))
    ctx.flash("The certification is recorded. Any month not paid while it was overdue is paid with the next payroll.")
    return ctx.redirect(ctx.request.url_for("staff_counter_benefits").path)


@endpoint(CASE_WORKERS)
def death(ctx: Ctx):
    try:
        survivors.report_death(ctx.db, reporter=None, id_number=ctx.value("death_id_number"),
                               date_of_death=ctx.value("date_of_death"), evidence="",
                               relationship="", commitment=False, actor=ctx.actor, now=ctx.now, today=ctx.today,
                               staff_id=ctx.principal.account_id)
    except ValidationFailed as error:
        errors = {("death_id_number" if name == "id_number" else name): message
                  for name, message in error.errors.items()}
        return ctx.fail("staff/counter_benefits.html", errors, page=lambda: _page(ctx))
    ctx.flash("The death is recorded. Payments stop from the month after it.")
    return ctx.redirect(ctx.request.url_for("staff_counter_benefits").path)


routes = [
    Route("/staff/counter/benefits", counter, methods=["GET"], name="staff_counter_benefits"),
    Route("/staff/counter/benefits/certification", certify, methods=["POST"], name="staff_counter_certification"),
    Route("/staff/counter/benefits/death", death, methods=["POST"], name="staff_counter_death"),
]
