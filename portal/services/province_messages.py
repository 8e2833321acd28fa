"""Signed messages between provinces (跨省转移接续报文): HMAC-SHA256 over the timestamp and the raw body.

Like the tax collector's payment callback (``portal.services.payments``), but each province has its own shared
secret and the timestamp is signed with the body, so an old message cannot be sent again later: the receiver
refuses a timestamp outside ``WINDOW_SECONDS`` of its clock, and a message id it has already taken from that
province (``ProvinceMessage``) within the window.

Headers: ``X-Province`` (the sender's 6-digit code), ``X-Timestamp`` (seconds since the epoch), ``X-Signature``
(hex HMAC-SHA256 of ``timestamp + "." + body`` under the sender's secret).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re

PROVINCE_HEADER = "X-Province"
TIMESTAMP_HEADER = "X-Timestamp"
SIGNATURE_HEADER = "X-Signature"
WINDOW_SECONDS = 300  # a message signed more than five minutes before or after our clock is stale
_PROVINCE = re.compile(r"[1-9][0-9]0000", re.ASCII)
_TIMESTAMP = re.compile(r"[0-9]{1,12}", re.ASCII)


def signed_bytes(timestamp: int, body: bytes) -> bytes:
    return str(timestamp).encode("ascii") + b"." + body


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of the timestamp and ``body`` under the province's shared secret."""
    return hmac.new(secret.encode("utf-8"), signed_bytes(timestamp, body), hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: int, body: bytes, signature: str | None) -> bool:
    """True only when ``signature`` signs this timestamp and body; compared in constant time."""
    if not secret or not signature or not isinstance(signature, str):
        return False
    expected = sign(secret, timestamp, body)
    return hmac.compare_digest(expected.encode("ascii"), signature.strip().lower().encode("ascii", "replace"))


def parse_province(text: str | None) -> str | None:
    text = (text or "").strip()
    return text if _PROVINCE.fullmatch(text) else None


def parse_timestamp(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if _TIMESTAMP.fullmatch(text) else None


def fresh(timestamp: int, now_seconds: int) -> bool:
    return abs(now_seconds - timestamp) <= WINDOW_SECONDS


def body_of(message: dict) -> bytes:
    """A message as sent: compact JSON, keys sorted, Chinese kept as it is; amounts are decimal strings."""
    return json.dumps(message, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def headers(*, secret: str, province: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {"Content-Type": "application/json", PROVINCE_HEADER: province, TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(secret, timestamp, body)}
