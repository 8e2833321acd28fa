"""The tax collection side's payment confirmations: HMAC-SHA256 signatures over the raw body.

The callback route (``POST /payments/callback``) verifies the signature before reading the body, then calls
``portal.services.billing.apply_payment``; ``portal dev pay`` signs the same way to play the collector.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from decimal import Decimal

# Yuan with at most two decimals, ASCII digits only: no sub-fen part, no exponent, no NaN or Infinity,
# so every amount that passes is exact at the fen and small enough for the database.
_AMOUNT = re.compile(r"[0-9]{1,13}(\.[0-9]{1,2})?", re.ASCII)


def sign(secret: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``body`` under the shared secret."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, signature: str | None) -> bool:
    """True only when ``signature`` is the hex HMAC-SHA256 of ``body``; compared in constant time."""
    if not secret or not signature or not isinstance(signature, str):
        return False
    expected = sign(secret, body)
    return hmac.compare_digest(expected.encode("ascii"), signature.strip().lower().encode("ascii", "replace"))


def parse_amount(text: object) -> Decimal | None:
    """The collector's amount (a decimal string in yuan) as Decimal, or None when it is not exact at the fen."""
    if not isinstance(text, str) or not _AMOUNT.fullmatch(text):
        return None
    return Decimal(text)


def callback_body(*, reference: str, amount: Decimal, external_id: str, paid_at: str) -> bytes:
    """The JSON body the collector sends (amount as a decimal string, never a JSON number)."""
    return json.dumps({"reference": reference, "amount": str(amount), "external_id": external_id,
                       "paid_at": paid_at}, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
