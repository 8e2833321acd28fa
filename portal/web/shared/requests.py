"""An applicant's requests and notices, the same pages for persons and employers.

The page functions take the area (portal/web/person/requests.py: /me, portal/web/employer/requests.py:
/employer), which gives the address prefix, the templates' folder and the routes' names (``<folder>_request``,
``<folder>_notices_read``, ...), so each area declares only its endpoints, access and routes.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from portal import i18n
from portal.errors import N_, ValidationFailed
from portal.policy import commitments as commitment_catalogue
from portal.queue import attachments, cases, notices, parties, queries, reasons, service
from portal.queue.errors import ActionRefused, StaleCase
from portal.queue.states import Action, State
from portal.services import commitments, credit, supervision, upload_limits
from portal.web.access import FACE_STEP
from portal.web.attachments import attachment_download
from portal.web.endpoint import Ctx
from portal.web.limits import upload_refusal
from portal.web.parse import MAX_ID, MAX_PAGE, query_int, whole_number
from portal.web.staff import payload as payload_display


@dataclass(frozen=True)
class Area:
    prefix: str  # /me or /employer
    folder: str  # templates/<folder>/

    def url(self, reference: str = "", tail: str = "") -> str:
        base = f"{self.prefix}/requests"
        return f"{base}/{reference}{tail}" if reference else base


def _page(ctx: Ctx) -> int:
    return query_int(ctx.query, "page", default=1, low=1, high=MAX_PAGE)


def _labels(ctx: Ctx) -> dict:
    return {"reason_label": lambda code: reasons.label(code, ctx.locale) if code in reasons.BY_CODE
            else i18n.gettext("Another reason")}


def request_list(ctx: Ctx, area: Area):
    page = _page(ctx)
    cases, total = queries.applicant_cases(ctx.db, applicant=parties.applicant_of(ctx.principal), page=page)
    pages = max(1, -(-total // queries.PAGE_SIZE))
    return ctx.render(f"{area.folder}/requests.html", cases=cases, total=total, page=page, pages=pages, area=area)


def _detail_context(ctx: Ctx, area: Area, case) -> dict:
    events = cases.events_of(ctx.db, case=case)
    allowed = parties.actions_for(case, ctx.actor)
    payload = cases.payload_of(case)
    # What was asked for, shown with the same partials as the staff case page (the commitment has its own panel).
    details = {key: value for key, value in payload.items() if key != "commitment"}
    return dict(case=case, events=events, area=area, asked=cases.last_return(events),
                attachments=attachments.listed(ctx.db, case=case),
                payload=details, payload_view=payload_display.view(case.kind, details),
                commitment=attachments.commitment_of(payload),
                can_resubmit=Action.RESUBMIT in allowed, can_withdraw=Action.WITHDRAW in allowed,
                paused=case.state == State.WAITING_FOR_APPLICANT, **_labels(ctx))


def _case(ctx: Ctx):
    return service.load_case(ctx.db, reference=ctx.path_params["reference"], actor=ctx.actor)


def request_detail(ctx: Ctx, area: Area, *, case=None, status: int = 200, problem: str | None = None,
                   errors: dict | None = None, values: dict | None = None):
    case = case or _case(ctx)
    return ctx.render(f"{area.folder}/requests_detail.html", status=status, problem=problem, errors=errors or {},
                      values=values or {}, **_detail_context(ctx, area, case))


def request_status(ctx: Ctx, area: Area):
    """htmx: the state panel alone, polled every 10 seconds while the page is open."""
    case = service.load_case(ctx.db, reference=ctx.path_params["reference"], actor=ctx.actor)
    return ctx.render(f"{area.folder}/requests_status.html", **_detail_context(ctx, area, case))


def _version(ctx: Ctx) -> int | None:
    return whole_number(ctx.value("version"), low=0, high=MAX_ID)


def _applicant_action(ctx: Ctx, area: Area, do, done_message: str):
    reference = ctx.path_params["reference"]
    try:
        case = do(reference)
    except StaleCase as stale:
        return ctx.refuse(request_detail, ctx, area, status=409, problem=stale.message.render(i18n.gettext))
    except ActionRefused as refused:
        return ctx.refuse(request_detail, ctx, area, status=refused.status_code,
                          problem=refused.message.render(i18n.gettext))
    except ValidationFailed as invalid:
        return ctx.fail(f"{area.folder}/requests_detail.html", invalid.errors, problem=None,
                        page=lambda: _detail_context(ctx, area, _case(ctx)))
    ctx.flash(done_message, reference=case.reference)
    return ctx.redirect(area.url(case.reference))


def uploads_from(ctx: Ctx, name: str = attachments.FIELD) -> list[attachments.Upload]:
    """The file sent in the form's file field, read up to one byte past the limit (so "too large" is known)."""
    upload = ctx.form.get(name) if ctx.form is not None else None
    if upload is None or isinstance(upload, str) or not upload.filename:
        return []
    return [attachments.Upload(filename=upload.filename, content=upload.file.read(attachments.MAX_BYTES + 1))]


def checked_how(ctx: Ctx, *, subject: credit.Subject, kind: str) -> dict:
    """What a request form shows before it is sent: how the request will be checked, why, and how to be checked
    more lightly (portal/services/supervision.py; the page shows it with ``supervision_panel``)."""
    return dict(assessment=supervision.assess(ctx.db, subject=subject, kind=kind, on=ctx.today),
                say=lambda message: message.render(i18n.gettext))


def commitment_form(ctx: Ctx, *, person, kind: str, item: str, route: str) -> dict:
    """What a person's form offering a catalogue item shows (``person_commitment_choice``): how it will be
    checked, whether they may commit, the notice in force, and the card's face check that brings them back to the
    page of ``route``."""
    shown = checked_how(ctx, subject=credit.Subject("person", person.id), kind=kind)
    return shown | dict(eligibility=shown["assessment"].eligibility,
                        notice=commitment_catalogue.notice(item, ctx.today),
                        face_step=FACE_STEP + quote(str(ctx.request.url_for(route).path), safe=""))


def offer_from(ctx: Ctx, *, prefix: str = "") -> commitments.Offer:
    """The commitment choice a person's form sent (its fields named with ``prefix`` when the page has two)."""
    return commitments.Offer(mode=ctx.value(f"{prefix}mode"), notice_version=ctx.value(f"{prefix}notice_version"),
                             locale=ctx.locale, uploads=tuple(uploads_from(ctx, f"{prefix}attachment")))


def refused_commitment(ctx: Ctx, error: ValidationFailed, *, route: str):
    """A person's form refused only because committing needs the card's face check: off to that step-up at this
    moment, back to the form of ``route`` with what was typed (None for any other refusal, which the form shows)."""
    if not commitments.needs_face(error):
        return None
    return ctx.refuse(ctx.face_step_up, page=ctx.request.url_for(route).path)


def resubmit(ctx: Ctx, area: Area):
    uploads = uploads_from(ctx)
    if uploads:
        throttled = upload_refusal(ctx)
        if throttled is not None:
            return throttled
        upload_limits.note(ctx.db, actor=ctx.actor, now=ctx.now, what="attachment", accepted=True)
    return _applicant_action(
        ctx, area,
        lambda reference: service.resubmit(ctx.db, reference=reference, actor=ctx.actor,
                                           expected_version=_version(ctx), note=ctx.value("note"), now=ctx.now,
                                           uploads=uploads),
        N_("You sent %(reference)s back. The handler will continue with it."))


def request_attachment(ctx: Ctx, area: Area):
    case = service.load_case(ctx.db, reference=ctx.path_params["reference"], actor=ctx.actor)
    return attachment_download(ctx, case)


def withdraw(ctx: Ctx, area: Area):
    return _applicant_action(
        ctx, area,
        lambda reference: service.withdraw(ctx.db, reference=reference, actor=ctx.actor,
                                           expected_version=_version(ctx), note=ctx.value("note"), now=ctx.now),
        N_("You withdrew %(reference)s."))


def _shown(params: dict) -> dict:
    """A notice's parameters as the reader reads them: a month in words (2026年10月, October 2026)."""
    return {key: i18n.format_month(value) if key == "month" and value else value for key, value in params.items()}


def notice_inbox(ctx: Ctx, area: Area):
    """The inbox; reading it changes nothing (a GET is reachable by any link)."""
    rows = notices.inbox(ctx.db, principal=ctx.principal)
    items = [(notice, reference, _shown(notices.params_of(notice))) for notice, reference in rows]
    newest = max((notice.id for notice, _ in rows if notice.read_at is None), default=None)
    return ctx.render(f"{area.folder}/notices.html", items=items, area=area, newest_unread=newest)


def notices_read(ctx: Ctx, area: Area):
    """The reader's "mark as read": every notice up to the newest one their page showed."""
    up_to = whole_number(ctx.value("up_to"), low=1, high=MAX_ID)
    if up_to is not None:
        notices.mark_all_read(ctx.db, principal=ctx.principal, now=ctx.now, up_to=up_to)
        ctx.flash("Your notices are marked as read.")
    return ctx.redirect(f"{area.prefix}/notices")
