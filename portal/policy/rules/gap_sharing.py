"""Sharing a provincial pension-fund shortfall between the province and the prefectures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from portal.policy.errors import PolicyInputError
from portal.policy.explain import Explainer, Explanation
from portal.policy.money import round_fen


@dataclass(frozen=True)
class GapShareResult:
    year: int
    shortfall: Decimal
    provincial: Decimal
    local: Decimal
    explanation: Explanation
    provisional: bool


def share_gap(shortfall: Decimal, year: int) -> GapShareResult:
    """Splits ``shortfall`` by the shares in force at the end of ``year`` (80% province, 20% prefectures).

    Under provincial 统收统支 (吉政发〔2020〕2号, not found) a shortfall is shared; the 80/20 split is not in
    any source seen, so the result is always provisional. The provincial share is rounded to the fen and the
    local share is the rest, so the two always add up to the shortfall.
    """
    if shortfall < 0:
        raise PolicyInputError("shortfall", "must not be negative")
    ex = Explainer()
    shares = ex.use("gap_sharing", date(year, 12, 31), field_name="year")
    provincial = round_fen(shortfall * shares["provincial"])
    local = round_fen(shortfall) - provincial
    ex.step("gap.split", shortfall=shortfall, share=shares["provincial"], provincial=provincial, local=local)
    explanation = ex.build()
    return GapShareResult(year, shortfall, provincial, local, explanation, explanation.provisional)
