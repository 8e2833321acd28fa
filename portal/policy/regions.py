"""Jilin's administrative regions (GB/T 2260): the province, its prefectures in force on a day, and the prefecture a
region code or an identity number belongs to.

The codes and names are in ``parameters/prefectures.yaml`` (dated, with its source); this module only reads them.
"""

from __future__ import annotations

from datetime import date

from portal.policy.parameters import param

# The province's own code, the first row of the division table (a test checks that it is there).
PROVINCE = "220000"


def region_codes(on: date) -> dict[str, dict[str, str]]:
    """The province's and prefectures' codes in force on ``on``, with their names: {code: {"zh", "en"}}."""
    return {row["code"]: {"zh": row["zh"], "en": row["en"]} for row in param("prefectures").at(on).value}


def prefecture_codes(on: date) -> tuple[str, ...]:
    """The prefecture-level areas of the province in force on ``on`` (the province itself left out)."""
    return tuple(code for code in region_codes(on) if code != PROVINCE)


# The prefectures since the provincial pooling began (2020-01-01); the table has had one period since, so the
# list is read once. A dated change to the table would add a period here to choose from.
POOLING_START = date(2020, 1, 1)
PREFECTURES: tuple[str, ...] = prefecture_codes(POOLING_START)


def prefecture_of(region: str) -> str:
    """The prefecture (city level) of a six-digit administrative code: 220102 → 220100."""
    return region[:4] + "00"


def prefecture_of_id_number(id_number: str) -> str:
    """The prefecture of the place an identity number was first issued (its first six digits): 220102… → 220100.

    Not checked against the table: a number issued elsewhere gives a code outside Jilin.
    """
    return prefecture_of(id_number[:6])
