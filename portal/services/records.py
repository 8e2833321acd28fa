"""The personal record (权益记录): a person's insured months, gaps, personal account and contribution index.

A read model for ``/me/records`` and its CSV: one query for the months, one for the spans (spells and
flexible enrolments, to explain gaps), one for the account years. A person reads only their own record;
staff read any.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import bindparam, literal, null, union_all
from sqlmodel import Session, select

from portal.auth.principal import Actor
from portal.errors import Forbidden, NotFound
from portal.models import ContributionMonth, Employer, EmploymentSpell, FlexibleEnrolment, Person
from portal.policy.dates import add_months, fmt_month, month_of
from portal.policy.errors import ParameterNotDefined
from portal.policy.explain import Explanation
from portal.policy.money import from_fen
from portal.policy.parameters import param
from portal.policy.rules.contribution_index import average_contribution_index
from portal.services.personal_accounts import (
    AccountYear,
    TransferredCredit,
    account_years,
    transferred_credits,
)

# What a month shows in the grid, from the row's status and source.
COUNTED = ("paid", "transferred_in", "deemed")
SOURCE_ORDER = ("employer_filing", "flexible_payment", "back_payment", "transfer_in", "deemed")
STATUS_ORDER = ("paid", "deferred", "arrears", "billed")
CSV_HEADER = ("month", "status", "source", "base", "employer_part", "individual_part", "personal_account")


class MonthCell(NamedTuple):
    """One month of the record. A named tuple, not a frozen dataclass: a 40-year record builds 480 of them for every
    page and award, and a frozen dataclass sets each field through object.__setattr__ (awards are held to 5 ms)."""

    month: date
    state: str  # paid | unpaid | arrears | deferred | transferred_in | deemed | gap
    source: str | None = None
    base: Decimal | None = None
    employer_part: Decimal | None = None
    individual_part: Decimal | None = None
    personal_account: Decimal | None = None
    gap_reason: str | None = None  # for gaps: not_insured | not_billed
    employer_id: int | None = None  # who filed the month (None for flexible, transfer-in, deemed and gaps)

    @property
    def counted(self) -> bool:
        return self.state in COUNTED


@dataclass(frozen=True)
class Gap:
    start: date
    end: date
    months: int
    reason: str  # not_insured | not_billed | unpaid | arrears | deferred


@dataclass(frozen=True)
class YearRow:
    year: int
    cells: tuple[MonthCell | None, ...]  # twelve, None before the first or after the last month
    base_average: Decimal | None  # mean base of the counted months, for the chart


@dataclass(frozen=True)
class PersonRecord:
    person: Person
    first_month: date | None
    last_month: date | None
    years: tuple[YearRow, ...]
    gaps: tuple[Gap, ...]
    cumulative_months: int
    account_years: tuple[AccountYear, ...]
    average_index: Decimal | None
    index_months: int  # months the index covers (those with a published average wage)
    index_provisional: bool
    cells: tuple[MonthCell, ...] = field(repr=False, default=())
    index_explanation: Explanation | None = field(repr=False, default=None)
    # personal accounts brought by transfers into Jilin (credited on the merge; in a year's row once it is credited)
    account_transfers: tuple[TransferredCredit, ...] = ()
    # the area code of the employer of the latest employment spell (None without one): where requests are handled
    latest_employer_region: str | None = None

    @property
    def months_by_state(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for cell in self.cells:
            counts[cell.state] = counts.get(cell.state, 0) + 1
        return counts

    @property
    def balance_to_date(self) -> Decimal:
        """The last credited closing balance plus the paid credits of the months after it and the personal accounts
        transfers brought since (interest not yet due)."""
        credited = self.account_years[-1].year if self.account_years else 0
        later = sum((cell.personal_account for cell in self.cells
                     if cell.counted and cell.personal_account and cell.month.year > credited), Decimal("0.00"))
        brought = sum((credit.amount for credit in self.account_transfers if credit.credited_on.year > credited),
                      Decimal("0.00"))
        return self.account_balance + later + brought

    @property
    def account_balance(self) -> Decimal:
        return self.account_years[-1].closing_balance if self.account_years else Decimal("0.00")

    def csv_rows(self) -> list[tuple[str, ...]]:
        rows: list[tuple[str, ...]] = [CSV_HEADER]
        for cell in self.cells:
            rows.append((fmt_month(cell.month), cell.state, cell.source or cell.gap_reason or "",
                         *("" if value is None else str(value) for value in (
                             cell.base, cell.employer_part, cell.individual_part, cell.personal_account))))
        return rows


def _readable_person_id(actor: Actor, person_id: int | None) -> int:
    principal = actor.principal
    if principal is None:
        raise Forbidden()
    if principal.kind == "person":
        if person_id is not None and person_id != principal.person_id:
            raise NotFound()
        return principal.person_id
    if principal.has_role("handler", "reviewer", "supervisor", "admin") and person_id is not None:
        return person_id
    raise Forbidden()


_MONTH_COLUMNS = (ContributionMonth.month, ContributionMonth.status, ContributionMonth.source,
                  ContributionMonth.base_fen, ContributionMonth.employer_part_fen,
                  ContributionMonth.individual_part_fen, ContributionMonth.personal_account_fen,
                  ContributionMonth.employer_id)


_PAID_STATES = {"transfer_in": "transferred_in", "deemed": "deemed"}
_UNPAID_STATES = {"billed": "unpaid"}


# Built once: composing a statement costs more than running it for a record this small (awards are held to 5 ms).
_MONTHS = (select(*_MONTH_COLUMNS).where(ContributionMonth.person_id == bindparam("person_id"))
           .order_by(ContributionMonth.month))
# Spells and flexible enrolments in one query, the spells with their employer's area (the latest one routes the
# person's requests, so an award needs no query of its own for it).
_SPANS = union_all(
    select(EmploymentSpell.start_month, EmploymentSpell.end_month, Employer.region, literal(1))
    .join(Employer, Employer.id == EmploymentSpell.employer_id)
    .where(EmploymentSpell.person_id == bindparam("person_id")),
    select(FlexibleEnrolment.start_month, FlexibleEnrolment.end_month, null(), literal(0))
    .where(FlexibleEnrolment.person_id == bindparam("person_id")))


def _state(status: str, source: str) -> str:
    if status == "paid":
        return _PAID_STATES.get(source, "paid")
    return _UNPAID_STATES.get(status, status)


def _pick(rows: list[tuple]) -> tuple:
    """Of a month's rows (columns as in ``_MONTH_COLUMNS``), the most settled: paid first, then by source."""
    return min(rows, key=lambda row: (STATUS_ORDER.index(row[1]) if row[1] in STATUS_ORDER else 9,
                                      SOURCE_ORDER.index(row[2]) if row[2] in SOURCE_ORDER else 9))


def _covered(spans: list[tuple[date, date | None]], month: date) -> bool:
    return any(start <= month and (end is None or month <= end) for start, end in spans)


def person_record(session: Session, *, actor: Actor, today: date, person_id: int | None = None) -> PersonRecord:
    """The record of the signed-in person (or, for staff, of ``person_id``)."""
    person = session.get(Person, _readable_person_id(actor, person_id))
    if person is None:
        raise NotFound()
    return build_record(session, person=person, today=today)


def build_record(session: Session, *, person: Person, today: date) -> PersonRecord:
    # Plain rows, not ORM objects: a 30-year record has 360 of them, and building entities was half the page's time.
    rows = session.execute(_MONTHS, {"person_id": person.id}).all()
    span_rows = session.execute(_SPANS, {"person_id": person.id}).all()
    spans = [(start, end) for start, end, _region, _spell in span_rows]
    spells = [(start, region) for start, _end, region, spell in span_rows if spell]
    latest_region = max(spells, key=lambda spell: spell[0])[1] if spells else None
    # One row a month, the most settled where a month has several; a row's columns unpacked once (reading a column
    # of a row by name costs more than the rest of the loop: the award's record read is held to 5 ms).
    by_month: dict[date, tuple] = {}
    for row in rows:
        earlier = by_month.get(row[0])
        by_month[row[0]] = tuple(row) if earlier is None else _pick([earlier, tuple(row)])
    current = month_of(today)
    started = [(start, end) for start, end in spans if start <= current]
    starts = list(by_month) + [start for start, _ in started]
    ends = list(by_month) + [min(end or current, current) for _, end in started]
    first = min(starts) if starts else None
    last = max(ends) if ends else None

    cells: list[MonthCell] = []
    month = first
    while month is not None and month <= last:
        found = by_month.get(month)
        if found:
            _month, status, source, base, employer_part, individual_part, account, employer_id = found
            cells.append(MonthCell(month, _state(status, source), source, _yuan(base), _yuan(employer_part),
                                   _yuan(individual_part), _yuan(account), None, employer_id))
        else:
            reason = "not_billed" if _covered(spans, month) else "not_insured"
            cells.append(MonthCell(month, "gap", None, None, None, None, None, reason))
        month = add_months(month, 1)

    gaps: list[Gap] = []
    for cell in cells:
        if cell.counted:
            continue
        reason = cell.gap_reason or cell.state
        if gaps and gaps[-1].reason == reason and add_months(gaps[-1].end, 1) == cell.month:
            previous = gaps[-1]
            gaps[-1] = Gap(previous.start, cell.month, previous.months + 1, reason)
        else:
            gaps.append(Gap(cell.month, cell.month, 1, reason))

    by_year: dict[int, dict[int, MonthCell]] = {}
    for cell in cells:
        by_year.setdefault(cell.month.year, {})[cell.month.month] = cell
    years: list[YearRow] = []
    for year, in_year in sorted(by_year.items()):
        bases = [cell.base for cell in in_year.values() if cell.counted and cell.base]
        average = (sum(bases, Decimal(0)) / len(bases)).quantize(Decimal("0.01")) if bases else None
        years.append(YearRow(year, tuple(in_year.get(number) for number in range(1, 13)), average))

    counted = [cell for cell in cells if cell.counted]
    credits = transferred_credits(session, person_id=person.id)
    history = [(cell.month, cell.base) for cell in counted if cell.base and _has_average_wage(cell.month)]
    index = average_contribution_index(history) if history else None
    return PersonRecord(
        person=person, first_month=first, last_month=last, years=tuple(years), gaps=tuple(gaps),
        cumulative_months=len(counted), account_years=tuple(account_years(session, person_id=person.id,
                                                                          credits=credits)),
        average_index=index.average_index if index else None, index_months=len(history),
        index_provisional=index.provisional if index else False, cells=tuple(cells),
        index_explanation=index.explanation if index else None, account_transfers=tuple(credits),
        latest_employer_region=latest_region,
    )


# A record converts four amounts a month and a year's bases repeat: Decimals are immutable, so one per amount serves
# every record (an award's record read is held to 5 ms).
_yuan = lru_cache(maxsize=65536)(from_fen)


@lru_cache(maxsize=4096)
def _has_average_wage(month: date) -> bool:
    try:
        param("average_wage").at(month)
    except ParameterNotDefined:
        return False
    return True
