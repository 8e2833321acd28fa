"""Credit rating (信用评级) and supervision by class (分类监管): pure rules over the dated parameters.

A subject's score is the base plus the points of each event still counting on the day rated (positive
points capped), clamped to 0..100; the grade follows the thresholds, and a subject on the serious-dishonesty
list is D whatever its score. The grade gives the risk tier the queue routes by, and whether the subject may
commit instead of proving. Every figure comes from ``credit_scoring``, ``supervision_tiers`` and
``spot_check_rates`` (portal/policy/parameters), all marked as assumptions for the province to confirm.
"""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from portal.policy.parameters import param

GRADES = ("A", "B", "C", "D")
EVENT_KINDS = ("on_time_payment", "late_payment", "arrears_open", "correction_made", "false_commitment",
               "fraud_finding", "serious_dishonesty")
MIN_SCORE, MAX_SCORE = 0, 100


@dataclass(frozen=True)
class Scoring:
    base: int
    on_time_cap: int
    arrears_after_days: int
    thresholds: tuple[tuple[str, int], ...]  # (grade, lowest score), best first; below the last is D
    weights: dict[str, int]
    counts_months: dict[str, int]


def scoring(on: date) -> Scoring:
    value = param("credit_scoring").at(on).value
    return Scoring(base=int(value["base"]), on_time_cap=int(value["on_time_cap"]),
                   arrears_after_days=int(value["arrears_after_days"]),
                   thresholds=(("A", int(value["grade_a_from"])), ("B", int(value["grade_b_from"])),
                               ("C", int(value["grade_c_from"]))),
                   weights={k: int(v) for k, v in value["weights"].items()},
                   counts_months={k: int(v) for k, v in value["counts_months"].items()})


def months_before(day: date, months: int) -> date:
    """The same day ``months`` months earlier (the month's last day when it has fewer days)."""
    index = day.year * 12 + (day.month - 1) - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def counts_from(kind: str, on: date, rules: Scoring) -> date:
    """Events of this kind count on ``on`` when they happened after this day (and not after ``on``)."""
    return months_before(on, rules.counts_months[kind])


def counts_until(kind: str, occurred_on: date, rules: Scoring) -> date:
    """The last day an event counts: it drops out the day after."""
    index = occurred_on.year * 12 + (occurred_on.month - 1) + rules.counts_months[kind]
    year, month = divmod(index, 12)
    return date(year, month + 1, min(occurred_on.day, calendar.monthrange(year, month + 1)[1])) - timedelta(days=1)


def arrears_cutoff(on: date, rules: Scoring) -> date:
    """An unpaid bill due before this day counts as open arrears."""
    return on - timedelta(days=rules.arrears_after_days)


@dataclass(frozen=True)
class Counted:
    kind: str
    occurred_on: date
    points: int  # the event's weight; 0 once it no longer counts
    counts_until: date


@dataclass(frozen=True)
class Rating:
    score: int
    grade: str
    listed: bool
    events: tuple[Counted, ...]
    points_to_next: int | None  # more points needed for the next better grade; None at A or while listed


def grade_of(score: int, rules: Scoring) -> str:
    for grade, lowest in rules.thresholds:
        if score >= lowest:
            return grade
    return "D"


def rate(events: Iterable[tuple[str, date]], *, on: date, listed: bool = False) -> Rating:
    """The score and grade on ``on`` of a subject with these (kind, day) events."""
    rules = scoring(on)
    counted, positive, negative = [], 0, 0
    for kind, occurred_on in sorted(events, key=lambda e: (e[1], e[0]), reverse=True):
        if kind not in rules.weights:
            continue
        live = counts_from(kind, on, rules) < occurred_on <= on
        points = rules.weights[kind] if live else 0
        if points > 0:
            positive += points
        else:
            negative += points
        counted.append(Counted(kind, occurred_on, points, counts_until(kind, occurred_on, rules)))
    score = max(MIN_SCORE, min(MAX_SCORE, rules.base + min(positive, rules.on_time_cap) + negative))
    grade = "D" if listed else grade_of(score, rules)
    better = [lowest for g, lowest in rules.thresholds if GRADES.index(g) < GRADES.index(grade)]
    to_next = None if listed or not better else min(better) - score
    return Rating(score, grade, listed, tuple(counted), to_next)


def tier_of(grade: str, on: date) -> str:
    """The queue's risk tier for a grade (supervision_tiers)."""
    return str(param("supervision_tiers").at(on).value["tier_of_grade"][grade])


def grade_may_commit(grade: str, on: date) -> bool:
    return bool(param("supervision_tiers").at(on).value["may_commit"][grade])


def spot_check_share(tier: str, on: date) -> Decimal:
    return Decimal(param("spot_check_rates").at(on).value[tier])


def sampled(reference: str, share: Decimal) -> bool:
    """Whether a case is drawn for a spot check: a stable hash of its reference below the share, so the draw is
    reproducible and repeatable without drawing anything twice."""
    digest = int.from_bytes(hashlib.sha256(reference.encode()).digest()[:4], "big")
    return Decimal(digest) / Decimal(2**32) < share
