"""The employer's requests and notices (/employer/requests, /employer/notices), shared by its operators."""

from __future__ import annotations

from starlette.routing import Route

from portal.web.access import EMPLOYER
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

AREA = Area("/employer", "employer")


@endpoint(EMPLOYER)
def employer_requests(ctx: Ctx):
    return request_list(ctx, AREA)


@endpoint(EMPLOYER)
def employer_request(ctx: Ctx):
    return request_detail(ctx, AREA)


@endpoint(EMPLOYER)
def employer_request_status(ctx: Ctx):
    return request_status(ctx, AREA)


@endpoint(EMPLOYER)
def employer_resubmit(ctx: Ctx):
    return resubmit(ctx, AREA)


@endpoint(EMPLOYER)
def employer_withdraw(ctx: Ctx):
    return withdraw(ctx, AREA)


@endpoint(EMPLOYER)
def employer_attachment(ctx: Ctx):
    return request_attachment(ctx, AREA)


@endpoint(EMPLOYER)
def employer_notices(ctx: Ctx):
    return notice_inbox(ctx, AREA)


@endpoint(EMPLOYER)
def employer_notices_read(ctx: Ctx):
    return notices_read(ctx, AREA)


routes = [
    Route("/employer/requests", employer_requests, methods=["GET"], name="employer_requests"),
    Route("/employer/requests/{reference:str}", employer_request, methods=["GET"], name="employer_request"),
    Route("/employer/requests/{reference:str}/status", employer_request_status, methods=["GET"],
          name="employer_request_status"),
    Route("/employer/requests/{reference:str}/resubmit", employer_resubmit, methods=["POST"],
          name="employer_request_resubmit"),
    Route("/employer/requests/{reference:str}/withdraw", employer_withdraw, methods=["POST"],
          name="employer_request_withdraw"),
    Route("/employer/requests/{reference:str}/attachments/{attachment_id:id}", employer_attachment,
          methods=["GET"], name="employer_request_attachment"),
    Route("/employer/notices", employer_notices, methods=["GET"], name="employer_notices"),
    Route("/employer/notices", employer_notices_read, methods=["POST"], name="employer_notices_read"),
]
