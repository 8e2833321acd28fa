"""Staff's trust work: propose a serious-dishonesty listing (a second person decides it in the queue), remove a
listing, record a finding on a subject's credit record, and open a spot check of a decided case."""

from __future__ import annotations

from datetime import date

from starlette.routing import Route

from portal.errors import N_, Msg, ValidationFailed
from portal.queue import service
from portal.services import credit, supervision
from portal.web.access import STAFF
from portal.web.endpoint import Ctx, endpoint
from portal.web.parse import form_date

DECIDERS = STAFF("handler", "reviewer", "supervisor")


def _page(ctx: Ctx) -> dict:
    shown = credit.recent_listings(ctx.db, limit=200)
    listings = [listing for listing, _name, _identifier in shown]
    names = {listing.id: (name, identifier) for listing, name, identifier in shown}
    return dict(listings=listings, names=names, triggers=list(credit.TRIGGERS.items()), findings=credit.FINDING_KINDS,
                removal_reasons=list(credit.REMOVAL_REASONS.items()))


@endpoint(DECIDERS)
def trust_page(ctx: Ctx):
    return ctx.render("staff/trust.html", **_page(ctx))


def _subject(ctx: Ctx) -> credit.Subject:
    identifier = ctx.value("identifier").upper()
    subject = credit.subject_by_identifier(ctx.db, identifier=identifier)
    if subject is not None:
        return subject
    raise ValidationFailed({"identifier": Msg(N_("No person or employer with that identifier was found."))})


@endpoint(DECIDERS)
def propose(ctx: Ctx):
    try:
        listing = credit.propose_listing(ctx.db, actor=ctx.actor, subject=_subject(ctx), trigger=ctx.value("trigger"),
                                         finding=ctx.value("finding"), token=ctx.value("token"), now=ctx.now)
    except ValidationFailed as invalid:
        return ctx.fail("staff/trust.html", invalid.errors, page=lambda: _page(ctx))
    ctx.flash("The listing was proposed. The subject was told; another member of staff decides it in the queue.")
    return ctx.redirect(str(ctx.request.url_for("staff_trust").path) + f"#listing-{listing.id}")


@endpoint(DECIDERS)
def record_finding(ctx: Ctx):
    subject = credit.subject_by_identifier(ctx.db, identifier=ctx.value("finding_identifier").upper())
    try:
        occurred, date_error = form_date(ctx.value("occurred_on"), "occurred_on", low=date(ctx.today.year - 10, 1, 1),
                                         high=ctx.today), {}
    except ValidationFailed as invalid:  # shown with the other fields' messages
        occurred, date_error = None, invalid.errors
    try:
        credit.record_finding(ctx.db, actor=ctx.actor, subject=subject, kind=ctx.value("kind"), occurred_on=occurred,
                              note=ctx.value("note"), now=ctx.now)
    except ValidationFailed as invalid:
        errors = {("finding_identifier" if name == "identifier" else name): message
                  for name, message in {**invalid.errors, **date_error}.items()}
        return ctx.fail("staff/trust.html", errors, page=lambda: _page(ctx))
    ctx.flash("The finding is on the subject's credit record; they were told.")
    return ctx.redirect(str(ctx.request.url_for("staff_trust").path))


@endpoint(DECIDERS)
def remove(ctx: Ctx):
    try:
        credit.remove_listing(ctx.db, listing_id=ctx.path_params["listing_id"], reason=ctx.value("reason"),
                              actor=ctx.actor, now=ctx.now)
    except ValidationFailed as invalid:
        return ctx.fail("staff/trust.html", invalid.errors, page=lambda: _page(ctx))
    ctx.flash("The listing was removed. It stays in the subject's history.")
    return ctx.redirect(str(ctx.request.url_for("staff_trust").path))


@endpoint(DECIDERS)
def spot_check(ctx: Ctx):
    """A targeted spot check of a decided case (sampling opens the others: ``portal credit sample``)."""
    case = service.load_case(ctx.db, reference=ctx.path_params["reference"], actor=ctx.actor)
    if case.outcome != "approved":
        ctx.flash("Only an approved case can be checked afterwards.")
        return ctx.redirect(str(ctx.request.url_for("staff_case", reference=case.reference).path))
    spot = supervision.open_spot_check(ctx.db, case=case, now=ctx.now, actor=ctx.actor)
    ctx.flash("Spot check %(reference)s was opened.", reference=spot.reference)
    return ctx.redirect(str(ctx.request.url_for("staff_case", reference=spot.reference).path))


routes = [
    Route("/staff/trust", trust_page, methods=["GET"], name="staff_trust"),
    Route("/staff/trust/listings", propose, methods=["POST"], name="staff_trust_propose"),
    Route("/staff/trust/findings", record_finding, methods=["POST"], name="staff_trust_finding"),
    Route("/staff/trust/listings/{listing_id:id}/remove", remove, methods=["POST"], name="staff_trust_remove"),
    Route("/staff/cases/{reference}/spot-check", spot_check, methods=["POST"], name="staff_case_spot_check"),
]
