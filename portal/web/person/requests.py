"""A person's own requests and notices (/me/requests, /me/notices): the shared pages with the person's access."""

from __future__ import annotations

from starlette.routing import Route

from portal.web.access import PERSON
from portal.web.endpoint import Ctx, endpoint
from portal.web.shared.requests import (
    Area,
    notice_inbox,
    notices_read,
    request_attachment,
    request_detail,
    request_list,
    request_status,
    resubmit,
    withdraw,
)

ME = Area("/me", "person")


@endpoint(PERSON)
def my_requests(ctx: Ctx):
    return request_list(ctx, ME)


@endpoint(PERSON)
def my_request(ctx: Ctx):
    return request_detail(ctx, ME)


@endpoint(PERSON)
def my_request_status(ctx: Ctx):
    return request_status(ctx, ME)


@endpoint(PERSON)
def my_resubmit(ctx: Ctx):
    return resubmit(ctx, ME)


@endpoint(PERSON)
def my_withdraw(ctx: Ctx):
    return withdraw(ctx, ME)


@endpoint(PERSON)
def my_attachment(ctx: Ctx):
    return request_attachment(ctx, ME)


@endpoint(PERSON)
def my_notices(ctx: Ctx):
    return notice_inbox(ctx, ME)


@endpoint(PERSON)
def my_notices_read(ctx: Ctx):
    return notices_read(ctx, ME)


routes = [
    Route("/me/requests", my_requests, methods=["GET"], name="person_requests"),
    Route("/me/requests/{reference:str}", my_request, methods=["GET"], name="person_request"),
    Route("/me/requests/{reference:str}/status", my_request_status, methods=["GET"], name="person_request_status"),
    Route("/me/requests/{reference:str}/resubmit", my_resubmit, methods=["POST"], name="person_request_resubmit"),
    Route("/me/requests/{reference:str}/withdraw", my_withdraw, methods=["POST"], name="person_request_withdraw"),
    Route("/me/requests/{reference:str}/attachments/{attachment_id:id}", my_attachment, methods=["GET"],
          name="person_request_attachment"),
    Route("/me/notices", my_notices, methods=["GET"], name="person_notices"),
    Route("/me/notices", my_notices_read, methods=["POST"], name="person_notices_read"),
]
