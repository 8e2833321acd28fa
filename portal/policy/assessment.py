"""The assessment of the prefectures (考核, 吉政发〔2020〕2号 §三(五)): a quantified score, a ranking, and the
prefectures put under targeted supervision (精准督导) with their worst indicator named.

Pure: the achieved value of each indicator comes in (a share, 1 = fully achieved), the weights and the supervision
line come from the ``assessment_weights`` parameter (unsourced, so every score is provisional). An indicator
without records (None) is left out and the weights of the others are scaled up to 100.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from portal.policy.parameters import Used, param

# The indicators in the order the report lists them (the seed's, then requests handled on time).
INDICATORS = ("collection_rate", "contribution_rate", "enrolment_completion", "budget_completion", "remittance",
              "subsidy_arrival", "on_time_share")
ONE = Decimal(1)
HUNDRED = Decimal(100)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class IndicatorScore:
    code: str
    achieved: Decimal | None  # the share achieved, or None without records
    weight: Decimal  # as in the parameter
    points: Decimal | None  # what it adds to the score (out of 100, weights scaled over the indicators with records)


@dataclass(frozen=True)
class AreaScore:
    area: str
    indicators: tuple[IndicatorScore, ...]
    score: Decimal | None  # out of 100; None when no indicator has records
    worst: str | None  # the indicator furthest from achieved (the first in INDICATORS on a tie)
    supervise: bool  # below the supervision line
    rank: int | None = None


def weights(on: date) -> Used:
    return param("assessment_weights").at(on)


def score_area(area: str, achieved: Mapping[str, Decimal | None], used: Used) -> AreaScore:
    """One area's score: Σ weight × min(achieved, 1) over the indicators with records, scaled to 100."""
    table = used.value
    counted = [code for code in INDICATORS if achieved.get(code) is not None]
    total_weight = sum((Decimal(table[code]) for code in counted), Decimal(0))
    items, score = [], Decimal(0)
    for code in INDICATORS:
        value = achieved.get(code)
        weight = Decimal(table[code])
        points = None
        if value is not None and total_weight:
            exact = min(value, ONE) * weight * HUNDRED / total_weight
            score += exact
            points = exact.quantize(CENT, rounding=ROUND_HALF_UP)
        items.append(IndicatorScore(code, value, weight, points))
    if not counted or not total_weight:
        return AreaScore(area, tuple(items), None, None, False)
    worst = min(counted, key=lambda code: (min(achieved[code], ONE), INDICATORS.index(code)))
    line = Decimal(table["supervision_below"])
    score = score.quantize(CENT, rounding=ROUND_HALF_UP)  # rounded once: the shown points may not add up to the cent
    return AreaScore(area, tuple(items), score, worst, score < line)


def ranking(scores: list[AreaScore]) -> list[AreaScore]:
    """Highest score first, ranked 1, 2, ... (equal scores share a rank); areas without a score last, unranked."""
    scored = sorted((s for s in scores if s.score is not None), key=lambda s: (-s.score, s.area))
    ranked, previous, rank = [], None, 0
    for position, item in enumerate(scored, start=1):
        if item.score != previous:
            rank, previous = position, item.score
        ranked.append(AreaScore(item.area, item.indicators, item.score, item.worst, item.supervise, rank))
    return ranked + [s for s in scores if s.score is None]
