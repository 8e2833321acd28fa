"""A pensioner's pages: the retirement claim, the award letter, payments, life certification, survivors' claims.

    GET  /me/claims/retirement               eligibility, window, what-if table and chart, the draft and the claim
    POST /me/claims/retirement/draft         save the draft (fixes the claim date)
    POST /me/claims/retirement               submit the claim (card sign-in with the face check)
    GET  /me/pension/{code}.pdf              the award letter (养老金核定表)
    GET  /me/payments, /me/payments.csv      every month paid, with its parts
    GET  /me/certification                   the last certification, the due date, the history
    POST /me/certification                   certify now (card sign-in with the face check)
    POST /me/certification/family            certify a family member who receives a pension (a request that links;
                                             a commitment confirmed with the card's face check, or documents)
    POST /me/certification/family/{id}       certify for a linked family member (亲情服务), without a request (the
                                             commitment confirmed with the card's face check)
    GET  /me/claims/survivor                 report a death, claim the survivors' benefits
    POST /me/claims/survivor/death           report a death (a commitment confirmed with the card's face check, or the
                                             death certificate attached)
    GET  /me/claims/survivor/death/{id}/certificate   the certificate attached, for the person who reported it
    POST /me/claims/survivor                 claim (card sign-in with the face check)
"""

from __future__ import annotations

import csv
import io
import logging
import secrets
from urllib.parse import quote

from starlette.responses import Response
from starlette.routing import Route

from portal import i18n
from portal.documents import award as award_pdf
from portal.documents.certificate import FontMissing
from portal.errors import N_, Conflict, Msg, ValidationFailed
from portal.policy import commitments as commitment_catalogue
from portal.policy.dates import fmt_month, parse_month
from portal.policy.money import from_fen
from portal.queue import attachments
from portal.services import certification, claims, commitments, credit, payroll, survivors, upload_limits
from portal.services.accounts import person_of
from portal.services.person_requests import online
from portal.web.access import PERSON, PERSON_FACE
from portal.web.endpoint import Ctx, endpoint
from portal.web.limits import upload_refusal
from portal.web.person.records import CertificateUnavailable, verify_url
from portal.web.public.policy import parameter_labels
from portal.web.shared.requests import checked_how, commitment_form, offer_from, refused_commitment

log = logging.getLogger("portal.web")

OPTIONS = {
    "continue_paying": N_("Keep paying after the statutory age (as a flexible worker if you have no employer) until "
                          "the minimum is reached, then receive a monthly pension."),
    "reform_extend_or_lump_sum": N_("As you reach the statutory age from 2025, you may also pay the missing months in "
                                    "one lump sum, as the state provides."),
    "resident_scheme": N_("Or move your record to the urban and rural residents' pension scheme and receive its "
                          "pension (Social Insurance Law, Article 16)."),
}
RELATIONSHIPS = {"spouse": N_("Spouse"), "child": N_("Child"), "parent": N_("Parent"),
                 "sibling": N_("Brother or sister"), "other": N_("Other family member")}
CHANNELS = {"claim": N_("With the pension claim"), "face": N_("By yourself, with the card's face check"),
            "counter": N_("At a service counter"), "family": N_("By a family member"),
            "home_visit": N_("At a home visit by staff")}
PAYMENT_HEADINGS = (N_("Month"), N_("Paid with the payroll of"), N_("Pension (yuan)"), N_("Adjustment (yuan)"),
                    N_("Correction (yuan)"), N_("Amount paid (yuan)"), N_("Bank"), N_("To recover"))


def _token(ctx: Ctx) -> str:
    return ctx.value("token") or secrets.token_urlsafe(18)


def _bank_options() -> list[tuple[str, str]]:
    return [(bank.code, bank.name) for bank in claims.banks()]


def _words(table: dict, key: str) -> str:
    return i18n.gettext(table[key]) if key in table else key


# --- the retirement claim --------------------------------------------------------------------------------------


def _what_if_rows(here) -> list[dict]:
    _ = i18n.gettext
    rows = []
    for row in here.estimate.what_if if here.estimate else ():
        rows.append({"label": i18n.format_month(row.retirement_month), "value": row.total,
                     "display": i18n.format_money(row.total) if row.total is not None else _("Minimum not met"),
                     "highlight": row.is_chosen, "row": row})
    return rows


def _claim_page(ctx: Ctx, *, chosen=None) -> dict:
    person = person_of(ctx.db, actor=ctx.actor)
    here = claims.position(ctx.db, person=person, today=ctx.today, chosen_month=chosen)
    months = []
    month = here.rules.earliest_month
    while month <= here.rules.latest_month:
        months.append((fmt_month(month), i18n.format_month(month)))
        month = month.replace(year=month.year + (month.month // 12), month=month.month % 12 + 1)
    return dict(here=here, rows=_what_if_rows(here), months=months, bank_options=_bank_options(), token=_token(ctx),
                award_monthly=from_fen(here.award.monthly_fen) if here.award else None,
                commitment=claims.COMMITMENT, options=OPTIONS, labels=parameter_labels(ctx.locale),
                first_payment=(claims.first_payment_month(here.claim.retirement_month, here.claim.claim_date)
                               if here.claim else None),
                face_verified=bool(ctx.principal and ctx.principal.face_verified),
                **checked_how(ctx, subject=credit.Subject("person", person.id), kind="retirement_claim"))


@endpoint(PERSON)
def retirement(ctx: Ctx):
    chosen = None
    if ctx.value("month"):
        try:
            chosen = parse_month(ctx.value("month"))
        except ValueError:
            chosen = None
    return ctx.render("person/claims_retirement.html", **_claim_page(ctx, chosen=chosen))


@endpoint(PERSON)
def retirement_draft(ctx: Ctx):
    person = person_of(ctx.db, actor=ctx.actor)
    try:
        claims.save_draft(ctx.db, person=person, retirement_month=ctx.value("retirement_month"), actor=ctx.actor,
                          now=ctx.now, today=ctx.today)
    except ValidationFailed as error:
        return ctx.fail("person/claims_retirement.html", error.errors, page=lambda: _claim_page(ctx))
    except Conflict as refused:
        return ctx.fail("person/claims_retirement.html", {"retirement_month": refused.message}, status=409,
                        page=lambda: _claim_page(ctx))
    ctx.flash("Your draft is saved. Your claim date is fixed from today.")
    return ctx.redirect(ctx.request.url_for("person_retirement").path)


@endpoint(PERSON_FACE)
def retirement_submit(ctx: Ctx):
    try:
        case = claims.submit_claim(ctx.db, filing=online(ctx.db, actor=ctx.actor), bank_code=ctx.value("bank_code"),
                                   card_number=ctx.value("card_number"),
                                   commitment=ctx.value("commitment") == "yes", token=ctx.value("token"),
                                   now=ctx.now, today=ctx.today)
    except ValidationFailed as error:
        return ctx.fail("person/claims_retirement.html", error.errors, page=lambda: _claim_page(ctx))
    except Conflict as refused:
        return ctx.fail("person/claims_retirement.html", {"bank_code": refused.message}, status=409,
                        page=lambda: _claim_page(ctx))
    ctx.flash("Your request %(reference)s was submitted. We will tell you when it is decided.",
              reference=case.reference)
    return ctx.redirect(ctx.request.url_for("person_request", reference=case.reference).path)


@endpoint(PERSON)
def award_letter(ctx: Ctx):
    award = claims.award_of(ctx.db, actor=ctx.actor, code=ctx.path_params["code"])
    person = person_of(ctx.db, actor=ctx.actor)
    adjustments = payroll.adjustments_of(ctx.db, person_id=person.id)
    try:
        body = award_pdf.render(award_pdf.Letter(award=award, person=person, explanation=claims.explanation_of(award),
                                                 bank=claims.bank_name(award.bank_code), adjustments=adjustments),
                                verify_url=verify_url(ctx, award.code))
    except FontMissing:
        log.exception("the award letter cannot be drawn")
        raise CertificateUnavailable(Msg(N_(
            "The award letter cannot be produced at the moment. Please try again later, or ask your social "
            "insurance office."))) from None
    return Response(body, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="pension-award-{award.code}.pdf"', "Cache-Control": "no-store"})


# --- payments ------------------------------------------------------------------------------------------------------


@endpoint(PERSON)
def payments(ctx: Ctx):
    person = person_of(ctx.db, actor=ctx.actor)
    award = claims.current_award(ctx.db, person_id=person.id)
    return ctx.render("person/payments.html", award=award, payments=payroll.payments_of(ctx.db, person_id=person.id),
                      adjustments=payroll.adjustments_of(ctx.db, person_id=person.id), from_fen=from_fen,
                      bank_name=claims.bank_name)


@endpoint(PERSON)
def payments_csv(ctx: Ctx):
    person = person_of(ctx.db, actor=ctx.actor)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([i18n.gettext(heading) for heading in PAYMENT_HEADINGS])
    for row in payroll.payments_of(ctx.db, person_id=person.id):
        writer.writerow([fmt_month(row.month), fmt_month(row.run_month), str(from_fen(row.pension_fen)),
                         str(from_fen(row.adjustment_fen)), str(from_fen(row.correction_fen)),
                         str(from_fen(row.amount_fen)), claims.bank_name(row.bank_code),
                         i18n.gettext("Yes") if row.recoverable else ""])
    return Response(("\ufeff" + buffer.getvalue()).encode("utf-8"), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="pension-payments-{ctx.today.isoformat()}.csv"',
        "Cache-Control": "no-store"})


# --- life certification ------------------------------------------------------------------------------------------


def _certification_page(ctx: Ctx) -> dict:
    person = person_of(ctx.db, actor=ctx.actor)
    links = [(link, pensioner, certification.status(ctx.db, person_id=pensioner.id, today=ctx.today))
             for link, pensioner in certification.links_of(ctx.db, family_id=person.id)]
    return dict(cert=certification.status(ctx.db, person_id=person.id, today=ctx.today), channels=CHANNELS,
                links=links, links_max=certification.links_max(ctx.today),
                relationships=[(key, i18n.gettext(text)) for key, text in RELATIONSHIPS.items()],
                token=_token(ctx), face_verified=bool(ctx.principal and ctx.principal.face_verified),
                **commitment_form(ctx, person=person, kind="certification_exception",
                                  item=certification.FAMILY_COMMITMENT, route="person_certification"))


@endpoint(PERSON)
def certification_page(ctx: Ctx):
    return ctx.render("person/certification.html", **_certification_page(ctx))


@endpoint(PERSON_FACE)
def certification_self(ctx: Ctx):
    person = person_of(ctx.db, actor=ctx.actor)
    try:
        certification.certify(ctx.db, person_id=person.id, channel="face", actor=ctx.actor, now=ctx.now,
                              today=ctx.today)
    except Conflict as refused:
        return ctx.fail("person/certification.html", {"certify": refused.message}, status=409,
                        page=lambda: _certification_page(ctx))
    ctx.flash("You are certified. Any month not paid while certification was overdue is paid with the next payroll.")
    return ctx.redirect(ctx.request.url_for("person_certification").path)


@endpoint(PERSON)
def certification_family(ctx: Ctx):
    try:
        case = certification.submit_family(
            ctx.db, filing=online(ctx.db, actor=ctx.actor), id_number=ctx.value("id_number"),
            relationship=ctx.value("relationship"), seen_on=ctx.value("seen_on"), offer=offer_from(ctx),
            token=ctx.value("token"), now=ctx.now, today=ctx.today)
    except ValidationFailed as error:
        return refused_commitment(ctx, error, route="person_certification") or ctx.fail(
            "person/certification.html", error.errors, page=lambda: _certification_page(ctx))
    ctx.flash("Your request %(reference)s was submitted. We will tell you when it is decided.",
              reference=case.reference)
    return ctx.redirect(ctx.request.url_for("person_request", reference=case.reference).path)


@endpoint(PERSON)
def certification_linked(ctx: Ctx):
    person = person_of(ctx.db, actor=ctx.actor)
    link_id = int(ctx.path_params["link_id"])
    try:
        certification.certify_linked(ctx.db, family=person, link_id=link_id, seen_on=ctx.value("seen_on"),
                                     notice_version=ctx.value("notice_version"), locale=ctx.locale,
                                     actor=ctx.actor, now=ctx.now, today=ctx.today)
    except ValidationFailed as error:  # the errors go to this link's form, not to the request form below
        stepping_up = refused_commitment(ctx, error, route="person_certification")
        if stepping_up is not None:
            return stepping_up
        errors = {f"linked-{link_id}-{name}": message for name, message in error.errors.items()}
        return ctx.fail("person/certification.html", errors, page=lambda: _certification_page(ctx))
    except Conflict as refused:
        return ctx.fail("person/certification.html", {f"linked-{link_id}-seen_on": refused.message}, status=409,
                        page=lambda: _certification_page(ctx))
    ctx.flash("The certification is recorded. Any month not paid while it was overdue is paid with the next payroll.")
    return ctx.redirect(ctx.request.url_for("person_certification").path)


# --- survivors -----------------------------------------------------------------------------------------------------


def _survivor_page(ctx: Ctx, looked_up: tuple | None = None) -> dict:
    person = person_of(ctx.db, actor=ctx.actor)
    reports = survivors.reports_by(ctx.db, person_id=person.id)
    with_certificate = {report.id for report, _, _ in reports
                        if survivors.certificate_of(ctx.db, report=report) is not None}
    if looked_up is not None and all(report.id != looked_up[0].id for report, _, _ in reports):
        reports.append(looked_up)  # a death another family member reported: this person may claim too
    claimable = {deceased.id: survivors.claimable(ctx.db, deceased=deceased) for _, deceased, _ in reports}
    reported = commitments.record_evidence(ctx.db, record_kind="death_report",
                                           record_ids=[report.id for report, _, _ in reports])
    return dict(reports=reports, claimable=claimable, with_certificate=with_certificate, from_fen=from_fen,
                bank_options=_bank_options(), token=_token(ctx), reported_evidence=reported,
                relationships=[(key, i18n.gettext(text)) for key, text in RELATIONSHIPS.items()],
                claimants=[(key, i18n.gettext(RELATIONSHIPS[key])) for key in survivors.CLAIMANTS],
                death_notice=commitment_catalogue.notice(survivors.DEATH_COMMITMENT, ctx.today),
                face_verified=bool(ctx.principal and ctx.principal.face_verified),
                **commitment_form(ctx, person=person, kind="survivor_claim", item=survivors.KINSHIP_COMMITMENT,
                                  route="person_survivor"))


@endpoint(PERSON)
def survivor(ctx: Ctx):
    lookup = ctx.request.query_params.get("lookup", "").strip()
    if not lookup:
        return ctx.render("person/claims_survivor.html", **_survivor_page(ctx))
    try:
        found = survivors.reported_death(ctx.db, id_number=lookup, today=ctx.today)
    except ValidationFailed as error:
        errors = {name: message.render(i18n.gettext) for name, message in error.errors.items()}
        return ctx.render("person/claims_survivor.html", errors=errors, values={"lookup": lookup},
                          **_survivor_page(ctx))
    return ctx.render("person/claims_survivor.html", values={"lookup": lookup}, **_survivor_page(ctx, found))


def _claimed_death(ctx: Ctx) -> tuple | None:
    """The death the refused claim form was for, so its card is shown again even when another person reported it."""
    try:
        return survivors.reported_death(ctx.db, id_number=ctx.value("deceased"), today=ctx.today)
    except ValidationFailed:
        return None


DEATH_FIELDS = "death_"  # the death report's commitment choice, named apart from the claim's on the same page


@endpoint(PERSON)
def survivor_death(ctx: Ctx):
    person = person_of(ctx.db, actor=ctx.actor)
    offer = offer_from(ctx, prefix=DEATH_FIELDS)
    if offer.mode == "proof" and offer.uploads:
        throttled = upload_refusal(ctx)
        if throttled is not None:
            return throttled
        upload_limits.note(ctx.db, actor=ctx.actor, now=ctx.now, what="death_certificate", accepted=True)
    try:
        survivors.report_death(ctx.db, reporter=person, id_number=ctx.value("id_number"),
                               date_of_death=ctx.value("date_of_death"), relationship=ctx.value("relationship"),
                               offer=offer, actor=ctx.actor, now=ctx.now, today=ctx.today)
    except ValidationFailed as error:
        stepping_up = refused_commitment(ctx, error, route="person_survivor")
        if stepping_up is not None:
            return stepping_up

        def page() -> dict:
            if offer.mode == "proof" and offer.uploads:  # the refused file still counts against the upload limit
                upload_limits.note(ctx.db, actor=ctx.actor, now=ctx.now, what="death_certificate", accepted=False)
            return _survivor_page(ctx)

        renamed = {"mode": f"{DEATH_FIELDS}mode", attachments.FIELD: f"{DEATH_FIELDS}{attachments.FIELD}"}
        errors = {renamed.get(name, name): message for name, message in error.errors.items()}
        return ctx.fail("person/claims_survivor.html", errors, page=page)
    ctx.flash("The death is recorded. Payments stop from the month after it; you may now claim the survivors' "
              "benefits.")
    return ctx.redirect(ctx.request.url_for("person_survivor").path)


@endpoint(PERSON)
def survivor_certificate(ctx: Ctx):
    person = person_of(ctx.db, actor=ctx.actor)
    stored = survivors.reported_certificate(ctx.db, reporter=person, report_id=int(ctx.path_params["report_id"]))
    ascii_name = stored.filename.encode("ascii", "ignore").decode().replace('"', "").replace("\\", "") or "document"
    return Response(stored.content, media_type=stored.content_type, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(stored.filename)}",
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


@endpoint(PERSON_FACE)
def survivor_claim(ctx: Ctx):
    offer = offer_from(ctx)
    try:
        case = survivors.submit_claim(
            ctx.db, filing=online(ctx.db, actor=ctx.actor), id_number=ctx.value("deceased"),
            relationship=ctx.value("claim_relationship"), bank_code=ctx.value("bank_code"),
            card_number=ctx.value("card_number"), mode=offer.mode, notice_version=offer.notice_version,
            locale=offer.locale, uploads=list(offer.uploads) if offer.mode == "proof" else [],
            token=ctx.value("token"), now=ctx.now, today=ctx.today)
    except ValidationFailed as error:
        # The form names the claimant's relationship apart from the death report's.
        errors = {("claim_relationship" if name == "relationship" else name): message
                  for name, message in error.errors.items()}
        return ctx.fail("person/claims_survivor.html", errors, page=lambda: _survivor_page(ctx, _claimed_death(ctx)))
    except Conflict as refused:
        return ctx.fail("person/claims_survivor.html", {"deceased": refused.message}, status=409,
                        page=lambda: _survivor_page(ctx, _claimed_death(ctx)))
    ctx.flash("Your request %(reference)s was submitted. We will tell you when it is decided.",
              reference=case.reference)
    return ctx.redirect(ctx.request.url_for("person_request", reference=case.reference).path)


routes = [
    Route("/me/claims/retirement", retirement, methods=["GET"], name="person_retirement"),
    Route("/me/claims/retirement/draft", retirement_draft, methods=["POST"], name="person_retirement_draft"),
    Route("/me/claims/retirement", retirement_submit, methods=["POST"], name="person_retirement_submit"),
    Route("/me/pension/{code}.pdf", award_letter, name="person_award_pdf"),
    Route("/me/payments", payments, name="person_payments"),
    Route("/me/payments.csv", payments_csv, name="person_payments_csv"),
    Route("/me/certification", certification_page, methods=["GET"], name="person_certification"),
    Route("/me/certification", certification_self, methods=["POST"], name="person_certification_self"),
    Route("/me/certification/family", certification_family, methods=["POST"], name="person_certification_family"),
    Route("/me/certification/family/{link_id:id}", certification_linked, methods=["POST"],
          name="person_certification_linked"),
    Route("/me/claims/survivor", survivor, methods=["GET"], name="person_survivor"),
    Route("/me/claims/survivor/death", survivor_death, methods=["POST"], name="person_survivor_death"),
    Route("/me/claims/survivor/death/{report_id:id}/certificate", survivor_certificate,
          name="person_survivor_certificate"),
    Route("/me/claims/survivor", survivor_claim, methods=["POST"], name="person_survivor_claim"),
]
