"""Time-based one-time codes (RFC 6238) for staff, with replay protection."""

from __future__ import annotations

from datetime import datetime

import pyotp

STEP_SECONDS = 30
VALID_WINDOW = 1  # accept the previous and next step, for clock drift


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, staff_number: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=staff_number, issuer_name="Jilin Pension Portal")


def accepted_step(secret: str, code: str, *, at: datetime, last_step: int) -> int | None:
    """The time step the code belongs to, if it is valid now and newer than the last one used."""
    code = (code or "").strip()
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now_step = int(at.timestamp()) // STEP_SECONDS
    for step in range(now_step - VALID_WINDOW, now_step + VALID_WINDOW + 1):
        if step > last_step and pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None


def code_at(secret: str, at: datetime) -> str:
    """The code a staff member's app shows at ``at`` (tests and the demo)."""
    return pyotp.TOTP(secret).at(at)
