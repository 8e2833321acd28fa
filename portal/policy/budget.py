"""The fund budget (基金预算, 吉政发〔2020〕2号 §三(三)): a draft for a year from the evidence of the years before, the
sharing of any gap (§三(四), the ``gap_sharing`` parameter through rules.gap_sharing), and execution against it.

Pure. The draft extends the straight-line trend (least squares) of each figure over the last complete years on
record to the year drafted; a figure is never projected below zero. With one year of evidence the draft repeats it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from portal.policy.rules.gap_sharing import GapShareResult, share_gap

TREND_YEARS = 5  # the most recent complete years the trend is drawn through
CENT = Decimal("0.01")


@dataclass(frozen=True)
class YearFigures:
    year: int
    income: Decimal  # contributions collected into the fund (yuan)
    expenditure: Decimal  # benefits paid out (yuan)
    contributors: Decimal  # average a month
    pensioners: Decimal  # average a month
    subsidy: Decimal = Decimal(0)  # fiscal subsidies that arrived in the provincial special account (yuan)
    transfers_in: Decimal = Decimal(0)  # funds received with relationships transferred in (yuan)
    transfers_out: Decimal = Decimal(0)  # funds sent with relationships transferred out (yuan)

    @property
    def balance(self) -> Decimal:
        return self.income + self.subsidy + self.transfers_in - self.expenditure - self.transfers_out


def trend(points: Sequence[tuple[int, Decimal]], at: int) -> Decimal | None:
    """The least-squares straight line through (year, value), read at year ``at``; at least zero, to the cent.

    None without points; one point is repeated as it is."""
    if not points:
        return None
    if len(points) == 1:
        return max(points[0][1], Decimal(0)).quantize(CENT, rounding=ROUND_HALF_UP)
    count = Decimal(len(points))
    mean_x = sum(Decimal(x) for x, _ in points) / count
    mean_y = sum(y for _, y in points) / count
    spread = sum((Decimal(x) - mean_x) ** 2 for x, _ in points)
    slope = sum((Decimal(x) - mean_x) * (y - mean_y) for x, y in points) / spread
    value = mean_y + slope * (Decimal(at) - mean_x)
    return max(value, Decimal(0)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Draft:
    year: int
    evidence: tuple[YearFigures, ...]  # the complete years the trend was drawn through, oldest first
    income: Decimal
    expenditure: Decimal
    contributors: Decimal
    pensioners: Decimal
    gap: Decimal  # what goes out (benefits, transfers out) above what comes in (contributions, subsidy, transfers in)
    sharing: GapShareResult | None  # how the gap is covered (80% the fund's surplus, 20% governments), provisional
    subsidy: Decimal = Decimal(0)
    transfers_in: Decimal = Decimal(0)
    transfers_out: Decimal = Decimal(0)

    @property
    def balance(self) -> Decimal:
        return self.income + self.subsidy + self.transfers_in - self.expenditure - self.transfers_out


def draft(year: int, history: Iterable[YearFigures]) -> Draft | None:
    """The budget for ``year`` from the last TREND_YEARS complete years before it; None without any."""
    evidence = tuple(sorted((item for item in history if item.year < year), key=lambda item: item.year))[-TREND_YEARS:]
    if not evidence:
        return None

    def projected(name: str) -> Decimal:
        return trend([(item.year, getattr(item, name)) for item in evidence], year)

    income, expenditure = projected("income"), projected("expenditure")
    subsidy, transfers_in, transfers_out = projected("subsidy"), projected("transfers_in"), projected("transfers_out")
    gap = max(expenditure + transfers_out - income - subsidy - transfers_in, Decimal(0))
    return Draft(year, evidence, income, expenditure, projected("contributors"), projected("pensioners"), gap,
                 share_gap(gap, year) if gap else None, subsidy, transfers_in, transfers_out)


LINES = ("contributors", "pensioners", "income", "subsidy", "expenditure", "transfers_in", "transfers_out")


def lines_of(item: Draft) -> dict[str, str]:
    """A draft's figures as stored with a budget version (decimal strings)."""
    return {name: str(getattr(item, name)) for name in LINES}


def frozen(year: int, lines: dict[str, str]) -> Draft:
    """A stored version's figures read back as a Draft (no evidence kept with it; the gap recomputed)."""
    value = {name: Decimal(lines.get(name, "0")) for name in LINES}
    gap = max(value["expenditure"] + value["transfers_out"] - value["income"] - value["subsidy"]
              - value["transfers_in"], Decimal(0))
    return Draft(year, (), value["income"], value["expenditure"], value["contributors"], value["pensioners"], gap,
                 share_gap(gap, year) if gap else None, value["subsidy"], value["transfers_in"], value["transfers_out"])


# --- the approval chain (§三(三)) ---------------------------------------------------------------------------------
# The provincial social insurance bureau drafts a version; the provincial department of human resources and social
# security reviews it, then the finance department, then it goes for approval. A step that does not agree returns
# the version to the bureau, which drafts a new one; an approved version is frozen.

STEPS = ("draft", "department_review", "finance_review", "approval")
NEXT_STEP = {"drafted": "department_review", "department_reviewed": "finance_review", "finance_reviewed": "approval"}
AGREED_STATE = {"department_review": "department_reviewed", "finance_review": "finance_reviewed",
                "approval": "approved"}
OPEN_STATES = ("drafted", "department_reviewed", "finance_reviewed")


class ChainRefused(ValueError):
    """A step the chain does not allow; ``code`` says why."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def decide(state: str, step: str, *, agreed: bool, actor: int, earlier: Iterable[int]) -> str:
    """The state a version moves to when ``actor`` records ``step`` on it.

    Refused: the version is approved (frozen), returned or superseded (not open); the step is not the next one; the
    actor drafted the version or decided one of its earlier steps (each step is another person's)."""
    if state == "approved":
        raise ChainRefused("frozen")
    if state not in OPEN_STATES:
        raise ChainRefused("not_open")
    if NEXT_STEP[state] != step:
        raise ChainRefused("wrong_step")
    if actor in set(earlier):
        raise ChainRefused("same_person")
    return AGREED_STATE[step] if agreed else "returned"


def may_draft(states: Iterable[str]) -> str | None:
    """Why the bureau may not draft a new version now (None: it may): a version of the year is approved (frozen),
    or one is in the chain (drafted and sent for review, or past a review): it must be returned first. (Versions
    drafted before the chain went through the queue could be replaced while waiting for their first review; they
    keep the state ``superseded``.)"""
    found = set(states)
    if "approved" in found:
        return "frozen"
    if found & set(OPEN_STATES):
        return "under_review"
    return None


@dataclass(frozen=True)
class ExecutionMonth:
    month: date
    budget_income: Decimal
    income: Decimal
    budget_expenditure: Decimal
    expenditure: Decimal

    @property
    def income_variance(self) -> Decimal:
        return self.income - self.budget_income

    @property
    def expenditure_variance(self) -> Decimal:
        return self.expenditure - self.budget_expenditure


def execution(budget: Draft, actual: Iterable[tuple[date, Decimal, Decimal]]) -> list[ExecutionMonth]:
    """Each month of the budget's year with (income, expenditure) on record against a twelfth of the budget."""
    income = (budget.income / 12).quantize(CENT, rounding=ROUND_HALF_UP)
    expenditure = (budget.expenditure / 12).quantize(CENT, rounding=ROUND_HALF_UP)
    return [ExecutionMonth(month, income, money_in, expenditure, money_out)
            for month, money_in, money_out in sorted(actual) if month.year == budget.year]
