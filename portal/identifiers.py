"""Checks for the national identifiers the portal accepts.

Resident identity number: GB 11643-1999 (check character by ISO 7064 MOD 11-2).
Unified social credit code: GB 32100-2015 (check character over a 31-symbol alphabet).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
MOBILE = re.compile(r"^1[3-9]\d{9}$")
# The province-level codes of GB/T 2260 (the first two digits of every address code): a number whose first two
# digits name no province was never issued, whatever its check character says.
PROVINCE_CODES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43",
    "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82",
})


class InvalidIdentifier(ValueError):
    """The value is not a valid identifier; ``code`` says why (for a translated message)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: date
    sex: str  # "male" | "female"
    region: str  # the six-digit address code


def id_check_character(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11]


def parse_resident_id(value: str, *, today: date | None = None) -> ResidentId:
    """Validate an 18-character resident identity number and read its birth date and sex."""
    number = (value or "").strip().upper()
    if len(number) != 18:
        raise InvalidIdentifier("id_length")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise InvalidIdentifier("id_characters")
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdentifier("id_birth_date") from None
    if birth.year < 1900 or (today is not None and birth > today):
        raise InvalidIdentifier("id_birth_date")
    if id_check_character(number[:17]) != number[17]:
        raise InvalidIdentifier("id_check")
    if number[:2] not in PROVINCE_CODES:
        raise InvalidIdentifier("id_region")
    sex = "male" if int(number[16]) % 2 == 1 else "female"
    return ResidentId(number=number, birth_date=birth, sex=sex, region=number[:6])


def uscc_check_character(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def parse_credit_code(value: str) -> str:
    """Validate a unified social credit code and return it normalised to upper case."""
    code = (value or "").strip().upper()
    if len(code) != 18:
        raise InvalidIdentifier("uscc_length")
    if any(c not in USCC_ALPHABET for c in code):
        raise InvalidIdentifier("uscc_characters")
    if uscc_check_character(code[:17]) != code[17]:
        raise InvalidIdentifier("uscc_check")
    return code


def make_resident_id(region: str, birth: date, sequence: int) -> str:
    """Build a valid identity number (for demo and synthetic data)."""
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return body + id_check_character(body)


def make_credit_code(region: str, organisation: str) -> str:
    """Build a valid credit code for a company (registration 9, type 1) in ``region``."""
    body = f"91{region}{organisation}"
    return body + uscc_check_character(body)


def valid_mobile(value: str) -> bool:
    return bool(MOBILE.match((value or "").strip()))


def mask_name(name: str) -> str:
    """张三丰 -> 张*丰, 张三 -> 张*: enough for a third party to match, not to harvest."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
