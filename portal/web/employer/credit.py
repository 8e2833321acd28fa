"""The credit page (信用评级) of an employer (/employer/credit) and of a person (/me/credit, in portal/web/person):
the grade, the events behind it with their dates, what would raise it, listings, and objections."""

from __future__ import annotations

from starlette.routing import Route

from portal import i18n
from portal.errors import ValidationFailed
from portal.services import commitments, credit, supervision
from portal.web.access import EMPLOYER
from portal.web.endpoint import Ctx, endpoint


def credit_context(ctx: Ctx, subject: credit.Subject) -> dict:
    """What both credit pages show."""
    assessment = supervision.assess(ctx.db, subject=subject, kind="credit_objection", on=ctx.today)
    rating = assessment.rating
    return dict(rating=rating, tier=assessment.tier, improve=assessment.improve,
                eligibility=commitments.eligibility(ctx.db, subject=subject, on=ctx.today, rating=rating),
                stored_events=credit.stored_events(ctx.db, subject=subject),
                listings=credit.listings_of(ctx.db, subject=subject),
                say=lambda message: message.render(i18n.gettext))


def objection(ctx: Ctx, *, template: str, subject: credit.Subject, done_url: str):
    """Opens a ``credit_objection`` case from the objection form."""
    try:
        case = credit.submit_objection(ctx.db, actor=ctx.actor, statement=ctx.value("statement"),
                                       event_id=ctx.value("event_id"), listing_id=ctx.value("listing_id"),
                                       token=ctx.value("token"), now=ctx.now)
    except ValidationFailed as invalid:
        return ctx.fail(template, invalid.errors, page=lambda: credit_context(ctx, subject))
    ctx.flash("Your objection was filed as request %(reference)s. We will tell you when it is decided.",
              reference=case.reference)
    return ctx.redirect(done_url)


@endpoint(EMPLOYER)
def credit_page(ctx: Ctx):
    subject = credit.Subject(*ctx.principal.party)
    return ctx.render("employer/credit.html", **credit_context(ctx, subject))


@endpoint(EMPLOYER)
def credit_objection(ctx: Ctx):
    subject = credit.Subject(*ctx.principal.party)
    return objection(ctx, template="employer/credit.html", subject=subject,
                     done_url=str(ctx.request.url_for("employer_credit").path))


routes = [
    Route("/employer/credit", credit_page, methods=["GET"], name="employer_credit"),
    Route("/employer/credit/objection", credit_objection, methods=["POST"], name="employer_credit_objection"),
]
