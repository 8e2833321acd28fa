"""Covering a gap in the provincial pooled pension fund (吉政发〔2020〕2号 §三(四))."""

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
    fund_surplus: Decimal  # borne by the pooled fund's accumulated surplus
    governments: Decimal  # borne by governments at all levels (how it is split among them is not modelled)
    shares_provisional: bool  # the source itself sets the shares provisionally
    explanation: Explanation
    provisional: bool


def share_gap(shortfall: Decimal, year: int) -> GapShareResult:
    """Splits ``shortfall`` by the shares in force at the end of ``year``: 80% from the fund's accumulated
    surplus, 20% from governments at all levels, both set provisionally and adjustable by the seed (吉政发〔2020〕2号
    §三(四), from 2020-07-01). The surplus share is rounded to the fen and the governments' share is the rest,
    so the two always add up to the shortfall; the result is provisional because the shares are.
    """
    if shortfall < 0:
        raise PolicyInputError("shortfall", "must not be negative")
    ex = Explainer()
    shares = ex.use("gap_sharing", date(year, 12, 31), field_name="year")
    surplus = round_fen(shortfall * shares["fund_surplus"])
    governments = round_fen(shortfall) - surplus
    ex.step("gap.split", shortfall=shortfall, surplus_share=shares["fund_surplus"],
            governments_share=shares["governments"], surplus=surplus, governments=governments)
    # The text itself sets both shares provisionally (暂按) and says they may be adjusted.
    ex.step("gap.provisional")
    explanation = ex.build()
    return GapShareResult(year, shortfall, surplus, governments, True, explanation, True)
