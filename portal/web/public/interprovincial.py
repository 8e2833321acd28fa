"""Signed messages from other provinces' pension systems: ``POST /interprovincial/messages`` (machine to machine).

No session and no CSRF token, like the payment callback (portal/web/public/payments.py): the sender names itself
(``X-Province``), signs the timestamp and the raw body with the secret Jilin shares with it (``X-Timestamp``,
``X-Signature``; portal/services/province_messages.py). Answers are JSON ``{"status": ..., "error": ...}``:
401 unknown sender, bad signature or a stale timestamp, 400 malformed, 404 a transfer (or person) Jilin does
not know, 409 a replay or a message the transfer does not expect now, 200 when taken (``merged``, ``query``,
``accepted``, ``completed``). Every call is audited and logged: a taken message in the transaction that applies it,
a refusal in a transaction of its own, so no rollback loses it.
"""

from __future__ import annotations

import json
import logging

from sqlalchemy.exc import IntegrityError
from starlette.responses import JSONResponse
from starlette.routing import Route

from portal import audit
from portal.auth.principal import Actor
from portal.services import province_messages, transfers
from portal.web.access import PUBLIC
from portal.web.endpoint import Ctx, client_address, endpoint

log = logging.getLogger("portal.interprovincial")


def _refuse(ctx: Ctx, actor: Actor, province: str, status: int, result: str, error: str, **detail) -> JSONResponse:
    """Nothing of the request's transaction is kept; the refusal is logged and audited on its own."""
    return ctx.refuse(_recorded_apart, ctx, actor, province, status, result, error, **detail)


def _recorded_apart(ctx: Ctx, actor: Actor, province: str, status: int, result: str, error: str,
                    **detail) -> JSONResponse:
    log.warning("inter-provincial message from %s refused: %s (%s)", province or "?", result, error)
    app = ctx.request.app
    audit.record_apart(app.state.sessionmaker, actor=actor, action="interprovincial.message", now=ctx.now,
                       object_type="province", object_id=province[:6],
                       detail={"result": result, "status": status, "error": error, **detail})
    app.state.sealer.request()
    return JSONResponse({"status": result, "error": error}, status_code=status)


@endpoint(PUBLIC, csrf_protected=False)
def receive(ctx: Ctx):
    headers = ctx.request.headers
    actor = Actor(principal=None, address=client_address(ctx.request) or "province")
    province = province_messages.parse_province(headers.get(province_messages.PROVINCE_HEADER))
    timestamp = province_messages.parse_timestamp(headers.get(province_messages.TIMESTAMP_HEADER))
    if province is None or province == transfers.JILIN:
        return _refuse(ctx, actor, "", 401, "unknown_sender", "X-Province must name the sending province by its "
                       "6-digit code")
    secret = ctx.settings.province_secret(province)
    signature = headers.get(province_messages.SIGNATURE_HEADER)
    if timestamp is None or not province_messages.verify(secret, timestamp, ctx.body, signature):
        return _refuse(ctx, actor, province, 401, "bad_signature", "the signature does not match the timestamp "
                       "and body under the secret shared with this province")
    if not province_messages.fresh(timestamp, int(ctx.now.timestamp())):
        return _refuse(ctx, actor, province, 401, "stale", f"the timestamp is more than "
                       f"{province_messages.WINDOW_SECONDS} seconds from Jilin's clock; sign the message again")
    try:
        body = ctx.body.decode("utf-8")
        message = json.loads(body)
    except (ValueError, RecursionError):
        return _refuse(ctx, actor, province, 400, "malformed", "the body is not JSON in UTF-8")
    if not isinstance(message, dict):
        return _refuse(ctx, actor, province, 400, "malformed", "the body is not a JSON object")
    try:
        with ctx.db.begin_nested():  # a refusal half-way through leaves nothing of the message behind
            answer = transfers.receive(ctx.db, province=province, message=message, body=body,
                                       signature=signature.strip().lower(), signed_at=timestamp, now=ctx.now)
    except IntegrityError:  # the same message raced in on another worker and was taken first
        return _refuse(ctx, actor, province, 409, "replay", "this message was already received; a message is "
                       "taken once", message_id=str(message.get("message_id", ""))[:64])
    except transfers.MessageRefused as refused:
        return _refuse(ctx, actor, province, refused.status, refused.result, refused.error,
                       message_id=str(message.get("message_id", ""))[:64], kind=str(message.get("kind", ""))[:20],
                       transfer=str(message.get("transfer", ""))[:40])
    audit.record(session=ctx.db, actor=actor, action="interprovincial.message", now=ctx.now, object_type="province",
                 object_id=province, detail={"result": answer["status"], "status": 200,
                                             "message_id": message["message_id"], "kind": message["kind"],
                                             "transfer": answer.get("transfer", "")})
    log.info("inter-provincial message %s from %s: %s", message["message_id"], province, answer["status"])
    return JSONResponse(answer, status_code=200)


routes = [Route("/interprovincial/messages", receive, methods=["POST"], name="interprovincial_messages")]
