"""The service counter for pensioners (窗口): staff record a life certification (at the counter or on a home visit)
and a death found by a data match or reported in person, and file a retirement or a survivors' claim for the person
in front of them, who signs on paper. The claims are the same requests as online (the same service functions); the
member of staff who files one never handles it.

    GET  /staff/counter/benefits                 the forms
    POST /staff/counter/benefits/certification   certify the pensioner in front of them (or visited at home)
    POST /staff/counter/benefits/death           record a death: payments stop after its month
    POST /staff/counter/benefits/death/withdraw  withdraw a death recorded in error: the pension is paid again
    POST /staff/counter/benefits/retirement      a retirement claim (the draft and the claim at once)
    POST /staff/counter/benefits/survivor        a survivors' claim, kinship seen on the documents
"""

from __future__ import annotations

import secrets

from starlette.routing import Route

from portal import i18n
from portal.errors import N_, Conflict, Msg, ValidationFailed
from portal.services import certification, claims, survivors
from portal.services import person_requests as requests
from portal.web.endpoint import Ctx, endpoint
from portal.web.staff.queue import CASE_WORKERS

CHANNELS = {"counter": N_("At the counter, the person present with their identity card"),
            "home_visit": N_("On a home visit, the person seen at home")}


RELATIONSHIPS = {"spouse": N_("Spouse"), "child": N_("Child"), "parent": N_("Parent"),
                 "sibling": N_("Brother or sister"), "other": N_("Other family member")}


def _page(ctx: Ctx) -> dict:
    return dict(channels=[(key, i18n.gettext(text)) for key, text in CHANNELS.items()],
                banks=[(bank.code, bank.name) for bank in claims.banks()],
                relationships=[(key, i18n.gettext(text)) for key, text in RELATIONSHIPS.items()],
                retirement_commitment=claims.COMMITMENT, survivor_commitment=survivors.CLAIM_COMMITMENT,
                token=ctx.value("token") or secrets.token_urlsafe(18))


def _renamed(errors: dict, names: dict[str, str]) -> dict:
    return {names.get(name, name): message for name, message in errors.items()}


def _submitted(ctx: Ctx, case):
    ctx.flash("Request %(reference)s is filed for the person at the counter. Another member of staff decides it.",
              reference=case.reference)
    return ctx.redirect(ctx.request.url_for("staff_counter_benefits").path)


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
                               date_of_death=ctx.value("date_of_death"), relationship="", actor=ctx.actor,
                               now=ctx.now, today=ctx.today,
                               staff_id=ctx.principal.account_id)
    except ValidationFailed as error:
        errors = {("death_id_number" if name == "id_number" else name): message
                  for name, message in error.errors.items()}
        return ctx.fail("staff/counter_benefits.html", errors, page=lambda: _page(ctx))
    ctx.flash("The death is recorded. Payments stop from the month after it.")
    return ctx.redirect(ctx.request.url_for("staff_counter_benefits").path)


@endpoint(CASE_WORKERS)
def death_withdrawn(ctx: Ctx):
    try:
        survivors.withdraw_death(ctx.db, id_number=ctx.value("alive_id_number"), reason=ctx.value("alive_reason"),
                                 actor=ctx.actor, now=ctx.now, today=ctx.today)
    except ValidationFailed as error:
        return ctx.fail("staff/counter_benefits.html",
                        _renamed(error.errors, {"id_number": "alive_id_number", "reason": "alive_reason"}),
                        page=lambda: _page(ctx))
    except Conflict as refused:
        return ctx.fail("staff/counter_benefits.html", {"alive_id_number": refused.message}, status=409,
                        page=lambda: _page(ctx))
    ctx.flash("The death recorded in error is withdrawn. The pension is paid again, with the months held back, from "
              "the next payroll.")
    return ctx.redirect(ctx.request.url_for("staff_counter_benefits").path)


RETIREMENT_FIELDS = {"id_number": "claim_id_number", "bank_code": "claim_bank_code", "card_number": "claim_card_number",
                     "commitment": "claim_signed"}


@endpoint(CASE_WORKERS)
def retirement(ctx: Ctx):
    try:
        filing = requests.at_counter(ctx.db, staff=ctx.actor, id_number=ctx.value("claim_id_number"), today=ctx.today)
        claims.save_draft(ctx.db, person=filing.person, retirement_month=ctx.value("retirement_month"),
                          actor=ctx.actor, now=ctx.now, today=ctx.today)
        case = claims.submit_claim(ctx.db, filing=filing, bank_code=ctx.value("claim_bank_code"),
                                   card_number=ctx.value("claim_card_number"),
                                   commitment=ctx.value("claim_signed") == "yes", token=ctx.value("token"),
                                   now=ctx.now, today=ctx.today)
    except ValidationFailed as error:
        return ctx.fail("staff/counter_benefits.html", _renamed(error.errors, RETIREMENT_FIELDS),
                        page=lambda: _page(ctx))
    except Conflict as refused:
        return ctx.fail("staff/counter_benefits.html", {"claim_id_number": refused.message}, status=409,
                        page=lambda: _page(ctx))
    return _submitted(ctx, case)


SURVIVOR_FIELDS = {"id_number": "deceased_id_number", "deceased": "deceased_id_number",
                   "relationship": "survivor_relationship", "bank_code": "survivor_bank_code",
                   "card_number": "survivor_card_number", "signed": "survivor_signed"}


@endpoint(CASE_WORKERS)
def survivor(ctx: Ctx):
    try:
        filing = requests.at_counter(ctx.db, staff=ctx.actor, id_number=ctx.value("claimant_id_number"),
                                     today=ctx.today)
    except ValidationFailed as error:
        return ctx.fail("staff/counter_benefits.html", _renamed(error.errors, {"id_number": "claimant_id_number"}),
                        page=lambda: _page(ctx))
    try:
        case = survivors.submit_claim(ctx.db, filing=filing, id_number=ctx.value("deceased_id_number"),
                                      relationship=ctx.value("survivor_relationship"),
                                      bank_code=ctx.value("survivor_bank_code"),
                                      card_number=ctx.value("survivor_card_number"), mode="",
                                      signed_on_paper=ctx.value("survivor_signed") == "yes",
                                      token=ctx.value("token"), now=ctx.now, today=ctx.today)
    except ValidationFailed as error:
        return ctx.fail("staff/counter_benefits.html", _renamed(error.errors, SURVIVOR_FIELDS),
                        page=lambda: _page(ctx))
    except Conflict as refused:
        return ctx.fail("staff/counter_benefits.html", {"deceased_id_number": refused.message}, status=409,
                        page=lambda: _page(ctx))
    return _submitted(ctx, case)


routes = [
    Route("/staff/counter/benefits", counter, methods=["GET"], name="staff_counter_benefits"),
    Route("/staff/counter/benefits/certification", certify, methods=["POST"], name="staff_counter_certification"),
    Route("/staff/counter/benefits/death", death, methods=["POST"], name="staff_counter_death"),
    Route("/staff/counter/benefits/death/withdraw", death_withdrawn, methods=["POST"],
          name="staff_counter_death_withdrawn"),
    Route("/staff/counter/benefits/retirement", retirement, methods=["POST"], name="staff_counter_retirement"),
    Route("/staff/counter/benefits/survivor", survivor, methods=["POST"], name="staff_counter_survivor"),
]
