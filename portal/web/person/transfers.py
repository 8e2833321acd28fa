"""Transfer continuation for the signed-in person (/me/transfers).

    GET  /me/transfers          every transfer with its legs and clocks, and where the person would claim today
    GET  /me/transfers/apply    apply to move the pension relationship into Jilin
    POST /me/transfers/apply    the application: the engine's account decision, the transfer and its case
    GET  /me/transfers/{reference}   one transfer: its tracker, the account decision and the amounts
    GET  /me/transfers/{reference}/record.pdf   the transfer record (参保缴费凭证) of a transfer out of Jilin
"""

from __future__ import annotations

import json
import logging
import secrets

from starlette.responses import Response
from starlette.routing import Route

from portal.documents import certificate as certificate_pdf
from portal.documents import transfer_record
from portal.errors import N_, Msg, PortalError, ValidationFailed
from portal.policy.dates import fmt_month
from portal.services import accounts, credit
from portal.services import transfers as service
from portal.web.access import PERSON
from portal.web.endpoint import Ctx, endpoint
from portal.web.shared.requests import checked_how

PERIOD_ROWS = 3
log = logging.getLogger("portal.web")


def _common(ctx: Ctx) -> dict:
    return dict(province_name=service.province_name, leg_names=service.LEG_NAMES, state_names=service.STATE_NAMES,
                jilin=service.JILIN)


@endpoint(PERSON)
def overview(ctx: Ctx):
    trackers = service.own_transfers(ctx.db, actor=ctx.actor, today=ctx.today)
    person = service.person_of(ctx.db, actor=ctx.actor)
    claim = service.claim_place_of(ctx.db, person=person, today=ctx.today)
    return ctx.render("person/transfers.html", trackers=trackers, claim=claim, **_common(ctx))


@endpoint(PERSON)
def detail(ctx: Ctx):
    tracker = service.own_transfer(ctx.db, actor=ctx.actor, reference=ctx.path_params["reference"], today=ctx.today)
    person = accounts.person_record(ctx.db, person_id=tracker.transfer.person_id)
    decision = service.decision_of(tracker.transfer, person) if tracker.transfer.direction == "in" else None
    claim = service.claim_place_of(ctx.db, person=person, today=ctx.today)
    return ctx.render("person/transfer_detail.html", tracker=tracker, decision=decision, claim=claim, **_common(ctx))


def _form_extra(ctx: Ctx) -> dict:
    person = service.person_of(ctx.db, actor=ctx.actor)
    return dict(token=ctx.value("token") or secrets.token_urlsafe(18), provinces=service.province_options(ctx.locale),
                all_provinces=service.province_options(ctx.locale, without_jilin=False), rows=range(1, PERIOD_ROWS + 1),
                **checked_how(ctx, subject=credit.Subject("person", person.id), kind="transfer"), **_common(ctx))


@endpoint(PERSON)
def apply_form(ctx: Ctx):
    person = service.person_of(ctx.db, actor=ctx.actor)
    earlier = [t.transfer for t in service.own_transfers(ctx.db, actor=ctx.actor, today=ctx.today)]
    hukou = next((t.hukou_province for t in earlier if t.hukou_province), person.id_number[:2] + "0000")
    values = {"hukou_province": hukou, "exemption": ""}
    # A transfer in that was not continued is asked again with what was given then.
    again = next((t for t in earlier if t.direction == "in" and t.state == "refused"), None)
    if again is not None:
        values.update(other_province=again.other_province, exemption=again.exemption)
        for number, period in enumerate(service.periods_of(again)[:PERIOD_ROWS], start=1):
            values[f"start_{number}"], values[f"end_{number}"] = fmt_month(period.start), fmt_month(period.end)
    return ctx.render("person/transfer_apply.html", values=values, **_form_extra(ctx))


@endpoint(PERSON)
def apply_submit(ctx: Ctx):
    rows = [(ctx.value(f"start_{n}"), ctx.value(f"end_{n}")) for n in range(1, PERIOD_ROWS + 1)]
    try:
        transfer = service.apply_in(ctx.db, actor=ctx.actor, other_province=ctx.value("other_province"),
                                    hukou_province=ctx.value("hukou_province"), exemption=ctx.value("exemption"),
                                    periods=rows, token=ctx.value("token"), now=ctx.now)
    except ValidationFailed as error:
        return ctx.fail("person/transfer_apply.html", error.errors, page=lambda: _form_extra(ctx))
    ctx.flash("Your transfer %(reference)s has started. Follow each step below.", reference=transfer.reference)
    return ctx.redirect(ctx.request.url_for("person_transfer", reference=transfer.reference).path)


class RecordUnavailable(PortalError):
    status_code = 503


@endpoint(PERSON)
def record_pdf(ctx: Ctx):
    """The transfer record (参保缴费凭证) of a transfer out of Jilin, verifiable at /verify by its code."""
    transfer, issued = service.own_transfer_record(ctx.db, actor=ctx.actor, reference=ctx.path_params["reference"])
    verify = f"{ctx.settings.base_url.rstrip('/')}/verify/{issued.code}"
    try:
        body = transfer_record.render(issued, to_province=service.province_name(transfer.other_province, ctx.locale),
                                      reference=transfer.reference, amounts=json.loads(transfer.amounts_json),
                                      verify_url=verify)
    except certificate_pdf.FontMissing:
        log.exception("the transfer record cannot be drawn")
        raise RecordUnavailable(Msg(N_(
            "The transfer record cannot be produced at the moment. Please try again later, or ask your social "
            "insurance office."))) from None
    return Response(body, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="transfer-record-{transfer.reference}.pdf"',
        "Cache-Control": "no-store"})


routes = [
    Route("/me/transfers", overview, methods=["GET"], name="person_transfers"),
    Route("/me/transfers/apply", apply_form, methods=["GET"], name="person_transfer_apply"),
    Route("/me/transfers/apply", apply_submit, methods=["POST"], name="person_transfer_apply_submit"),
    Route("/me/transfers/{reference}", detail, methods=["GET"], name="person_transfer"),
    Route("/me/transfers/{reference}/record.pdf", record_pdf, methods=["GET"], name="person_transfer_record"),
]
