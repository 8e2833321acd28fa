"""Statutory retirement age under the 2025 reform, the flexible window, and the minimum contribution months."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from portal.policy.dates import add_months, fmt_month, month_of, months_between, parse_month
from portal.policy.errors import PolicyInputError
from portal.policy.explain import Explainer, Explanation

CATEGORIES = ("male", "female_worker", "female_cadre")
# The reform took effect on this date; a person whose original age falls earlier is not affected.
REFORM_START = date(2025, 1, 1)


@dataclass(frozen=True)
class Age:
    years: int
    months: int

    @classmethod
    def from_months(cls, total: int) -> Age:
        return cls(total // 12, total % 12)

    @property
    def total_months(self) -> int:
        return self.years * 12 + self.months

    def __str__(self) -> str:
        return f"{self.years}y{self.months}m"


@dataclass(frozen=True)
class RetirementResult:
    birth_date: date
    category: str
    original_age: Age
    statutory_age: Age
    delay_months: int
    statutory_month: date
    earliest_month: date
    latest_month: date
    chosen_month: date  # the statutory month unless a month in the window was chosen
    min_contribution_months: int  # the minimum for the chosen month (人社部发〔2024〕94号 第七条)
    early_notice_months: int | None  # None when there is no flexible window
    deferral_agreement_months: int | None
    explanation: Explanation
    provisional: bool

    @property
    def is_early(self) -> bool:
        return self.chosen_month < self.statutory_month

    @property
    def is_deferred(self) -> bool:
        return self.chosen_month > self.statutory_month

    @property
    def deferral_agree_by(self) -> date | None:
        """The month by which a deferral must be agreed in writing (None without a flexible window)."""
        if self.deferral_agreement_months is None:
            return None
        return add_months(self.statutory_month, -self.deferral_agreement_months)


def minimum_for(month: date, statutory_month: date | None, ex: Explainer, field_name: str = "chosen_month") -> int:
    """The minimum contribution months for retiring in ``month``: 180 until 2029, then +6 a year from 2030 to
    240 from 2039 (国务院关于渐进式延迟法定退休年龄的办法 第二条). Which year counts (人社部发〔2024〕94号 第七条): an early or
    statutory retirement uses the minimum of the year chosen, a deferred one the minimum of the statutory
    year (``statutory_month``; None when unknown, then ``month`` is taken as the statutory month)."""
    deferred = statutory_month is not None and month > statutory_month
    keyed_on = statutory_month if deferred else month
    months = ex.use("min_contribution_months", keyed_on, field_name=field_name)
    if deferred:
        ex.step("retirement.min_months_deferred", months=months, year=keyed_on.year, month=fmt_month(month))
    else:
        ex.step("retirement.min_months", months=months, year=keyed_on.year)
    return months


def retirement(birth_date: date, category: str, chosen_month: date | None = None) -> RetirementResult:
    """Statutory retirement age and month, and the flexible retirement window.

    Rule (全国人大常委会关于实施渐进式延迟法定退休年龄的决定 and 国务院办法 Art. 1-3): original ages are
    60 (men), 55 (women cadres), 50 (women workers). For births from the first affected cohort (1965-01,
    1970-01, 1975-01), k = months from that cohort to the birth month and the age rises by
    min(cap, floor(k / step) + 1) months (step 4, 4, 2; cap 36, 36, 60). Retirement month = birth month +
    statutory age. Flexible window (Art. 3): up to 36 months early but never below the original age, and up
    to 36 months late; only for people whose statutory month falls on or after 2025-01.
    ``chosen_month`` (within the window) fixes the minimum contribution months: the chosen year's for an early
    retirement, the statutory year's for a deferred one (人社部发〔2024〕94号 第七条); early retirement needs
    written notice and deferral a written agreement, the months ahead being parameters.
    """
    if category not in CATEGORIES:
        raise PolicyInputError("category", f"must be one of {', '.join(CATEGORIES)}")
    ex = Explainer()
    birth_month = month_of(birth_date)
    # The original ages date from 1978 and are restated by the 2024 decision, so they are read as in force
    # when the reform began; that covers people who retired before it too.
    original_years = ex.use("retirement_original_age", REFORM_START, field_name="birth_date")[category]
    original = Age(original_years, 0)
    original_month = add_months(birth_month, original.total_months)
    delay = 0
    if original_month >= REFORM_START:
        cohort = ex.use("retirement_reform", original_month, field_name="birth_date")[category]
        start = parse_month(cohort["start_cohort"])
        k = months_between(start, birth_month)
        if k >= 0:
            delay = min(cohort["cap_months"], k // cohort["step_months"] + 1)
            ex.step(
                "retirement.delay",
                start=fmt_month(start),
                k=k,
                step=cohort["step_months"],
                cap=cohort["cap_months"],
                delay=delay,
            )
    if delay == 0:
        ex.step("retirement.no_delay", age=original_years)
    statutory = Age.from_months(original.total_months + delay)
    statutory_month = add_months(birth_month, statutory.total_months)
    ex.step(
        "retirement.statutory", years=statutory.years, months=statutory.months, month=fmt_month(statutory_month)
    )
    if statutory_month >= REFORM_START:
        window = ex.use("flexible_retirement_window", statutory_month, field_name="birth_date")
        earliest = max(
            add_months(statutory_month, -window["early_max_months"]), original_month, REFORM_START
        )
        latest = add_months(statutory_month, window["late_max_months"])
        ex.step(
            "retirement.window",
            earliest=fmt_month(earliest),
            latest=fmt_month(latest),
            early=window["early_max_months"],
            late=window["late_max_months"],
        )
        notice = ex.use("flexible_retirement_notice", statutory_month, field_name="birth_date")
        early_notice, agreement = notice["early_notice_months"], notice["deferral_agreement_months"]
        ex.step("retirement.conditions", early=early_notice, late=agreement,
                statutory=fmt_month(statutory_month), agree_by=fmt_month(add_months(statutory_month, -agreement)))
    else:
        earliest = latest = statutory_month
        early_notice = agreement = None
        ex.step("retirement.no_window", month=fmt_month(statutory_month))
    chosen = statutory_month if chosen_month is None else month_of(chosen_month)
    if not earliest <= chosen <= latest:
        raise PolicyInputError(
            "chosen_month", f"must be within the retirement window, {fmt_month(earliest)} to {fmt_month(latest)}")
    if chosen < statutory_month:
        ex.step("retirement.chosen_early", month=fmt_month(chosen), months=early_notice,
                notify_by=fmt_month(add_months(chosen, -early_notice)))
    elif chosen > statutory_month:
        ex.step("retirement.chosen_deferred", month=fmt_month(chosen), months=agreement,
                agree_by=fmt_month(add_months(statutory_month, -agreement)))
    minimum = minimum_for(chosen, statutory_month, ex, field_name="chosen_month" if chosen_month else "birth_date")
    explanation = ex.build()
    return RetirementResult(
        birth_date=birth_date,
        category=category,
        original_age=original,
        statutory_age=statutory,
        delay_months=delay,
        statutory_month=statutory_month,
        earliest_month=earliest,
        latest_month=latest,
        chosen_month=chosen,
        min_contribution_months=minimum,
        early_notice_months=early_notice,
        deferral_agreement_months=agreement,
        explanation=explanation,
        provisional=explanation.provisional,
    )
