"""The tax collector's payment confirmation: ``POST /payments/callback`` (machine to machine).

No session and no CSRF token: the collector signs the raw body with the shared secret (header
``X-Signature``, hex HMAC-SHA256). Answers are JSON: 401 bad or missing signature, 400 malformed body,
404 unknown order, 409 wrong amount or an order that cannot take this payment, 200 ``paid`` or
``duplicate`` (the same confirmation again: nothing is credited twice). Every call is audited: a payment
in the transaction that records it, a refusal in a transaction of its own, so no rollback loses it.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

from starlette.responses import JSONResponse
from starlette.routing import Route

from portal import audit, clock
from portal.auth.principal import Actor
from portal.errors import Conflict, NotFound, ValidationFailed
from portal.services import billing
from portal.services.payments import parse_amount, verify_signature
from portal.web.access import PUBLIC
from portal.web.endpoint import Ctx, client_address, endpoint

SIGNATURE_HEADER = "X-Signature"


def _parse(body: bytes) -> tuple[str, Decimal, str, datetime] | None:
    try:
        data = json.loads(body.decode("utf-8"))
        reference, external_id = data["reference"], data["external_id"]
        amount = parse_amount(data["amount"])
        paid_at = datetime.fromisoformat(data["paid_at"])
        if paid_at.tzinfo is None:  # the collector's clock is China time
            paid_at = paid_at.replace(tzinfo=clock.CHINA)
        paid_at.astimezone(clock.CHINA)  # year 1 or 9999 near midnight has no China date
    except (ValueError, KeyError, TypeError, OverflowError, RecursionError, UnicodeDecodeError):
        return None
    if not isinstance(reference, str) or not isinstance(external_id, str) or amount is None:
        return None
    return reference, amount, external_id, paid_at


def _answer(ctx: Ctx, actor: Actor, status: int, result: str, reference: str = "", **detail) -> JSONResponse:
    audit.record(session=ctx.db, actor=actor, action="payment.callback", now=ctx.now, object_type="payment_order",
                 object_id=reference[:40], detail={"result": result, "status": status, **detail})
    return JSONResponse({"status": result}, status_code=status)


def _refuse(ctx: Ctx, actor: Actor, status: int, result: str, reference: str = "", **detail) -> JSONResponse:
    """A refusal: nothing of the request's transaction is kept, and the refusal is recorded on its own."""
    return ctx.refuse(_recorded_apart, ctx, actor, status, result, reference, **detail)


def _recorded_apart(ctx: Ctx, actor: Actor, status: int, result: str, reference: str, **detail) -> JSONResponse:
    app = ctx.request.app
    audit.record_apart(app.state.sessionmaker, actor=actor, action="payment.callback", now=ctx.now,
                       object_type="payment_order", object_id=reference[:40],
                       detail={"result": result, "status": status, **detail})
    app.state.sealer.request()
    return JSONResponse({"status": result}, status_code=status)


@endpoint(PUBLIC, csrf_protected=False)
def callback(ctx: Ctx):
    actor = Actor(principal=None, address=client_address(ctx.request) or "collector")
    body = ctx.body
    if not verify_signature(ctx.settings.payment_secret, body, ctx.request.headers.get(SIGNATURE_HEADER)):
        return _refuse(ctx, actor, 401, "bad_signature")
    parsed = _parse(body)
    if parsed is None:
        return _refuse(ctx, actor, 400, "malformed")
    reference, amount, external_id, paid_at = parsed
    try:
        # A savepoint: a refusal half-way through leaves nothing of the payment behind.
        with ctx.db.begin_nested():
            result = billing.apply_payment(ctx.db, reference=reference, amount=amount, external_id=external_id,
                                           paid_at=paid_at, actor=actor)
    except NotFound:
        return _refuse(ctx, actor, 404, "unknown_order", reference)
    except ValidationFailed as invalid:
        if "amount" in invalid.errors:
            return _refuse(ctx, actor, 409, "wrong_amount", reference, amount=str(amount))
        return _refuse(ctx, actor, 400, "malformed", reference)
    except (ValueError, ArithmeticError):  # an amount the parser let through but the ledger cannot hold
        return _refuse(ctx, actor, 400, "malformed", reference)
    except Conflict as conflict:
        return _refuse(ctx, actor, 409, "refused", reference, reason=conflict.message.text)
    if result.duplicate:
        return _answer(ctx, actor, 200, "duplicate", reference, external_id=external_id)
    return _answer(ctx, actor, 200, "paid", reference, external_id=external_id)


routes = [Route("/payments/callback", callback, methods=["POST"], name="payments_callback")]
