"""Read-only queries for the queue's pages: the workbench, workload, and applicants' lists.

Staff see only the prefectures they cover (provincial staff see all). Nothing here writes.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from urllib.parse import urlencode

from sqlalchemy import and_, func, or_
from sqlalchemy import case as sql_case
from sqlmodel import Session, select

from portal.auth.principal import Principal
from portal.models import Case, StaffMember
from portal.queue.cases import CLOCK_RUNNING, OPEN_STATES
from portal.queue.parties import PREFECTURES, Applicant, covers
from portal.queue.routing import Kind
from portal.queue.states import State

PAGE_SIZE = 50
STATE_ORDER = [str(s) for s in State]
OPEN = [str(s) for s in OPEN_STATES]
RUNNING = [str(s) for s in CLOCK_RUNNING]


@dataclass(frozen=True)
class Filters:
    kind: str = ""
    state: str = ""  # "" = every open state; "all" = every state
    prefecture: str = ""
    overdue: bool = False
    mine: bool = False
    page: int = 1

    def query(self, **changes) -> str:
        """The query string for these filters with some changed (for pagination and filter links)."""
        f = replace(self, **changes)
        params = {"kind": f.kind, "state": f.state, "prefecture": f.prefecture,
                  "overdue": "1" if f.overdue else "", "mine": "1" if f.mine else "",
                  "page": str(f.page) if f.page > 1 else ""}
        return urlencode({k: v for k, v in params.items() if v})

    @property
    def active(self) -> bool:
        return bool(self.kind or self.state or self.prefecture or self.overdue or self.mine)


def parse_filters(params: Mapping[str, str]) -> Filters:
    """Filters from the query string; anything unknown is ignored rather than refused."""
    kind = params.get("kind", "")
    state = params.get("state", "")
    prefecture = params.get("prefecture", "")
    text = params.get("page", "1")
    # ASCII digits only: int() also takes "١٢", "1_0" and 5,000-digit strings.
    page = max(1, min(int(text), 100_000)) if re.fullmatch(r"[0-9]{1,6}", text, re.ASCII) else 1
    return Filters(
        kind=kind if kind in Kind._value2member_map_ else "",
        state=state if state in STATE_ORDER or state == "all" else "",
        prefecture=prefecture if prefecture in PREFECTURES else "",
        overdue=params.get("overdue") in ("1", "on", "true"),
        mine=params.get("mine") in ("1", "on", "true"),
        page=page,
    )


def _visible(query, principal: Principal):
    if not covers(principal.region, ""):
        query = query.where(Case.prefecture == principal.region)
    return query


def overdue_clause(today: date):
    return and_(Case.state.in_(RUNNING), Case.due_on < today)


@dataclass
class Workbench:
    counts: dict[str, dict[str, int]]  # state → kind → n (open states)
    state_totals: dict[str, int]
    kind_totals: dict[str, int]
    overdue: int
    rows: list[Case]
    total: int
    page: int
    pages: int
    names: dict[int, str]


def workbench(session: Session, *, staff: Principal, filters: Filters, today: date,
              page_size: int = PAGE_SIZE) -> Workbench:
    counts, overdue = open_counts(session, staff=staff, today=today)
    state_totals: dict[str, int] = {}
    kind_totals: dict[str, int] = {}
    for state, by_kind in counts.items():
        for kind, n in by_kind.items():
            state_totals[state] = state_totals.get(state, 0) + n
            kind_totals[kind] = kind_totals.get(kind, 0) + n

    query = _visible(select(Case), staff)
    if filters.state == "all":
        pass
    elif filters.state:
        query = query.where(Case.state == filters.state)
    else:
        query = query.where(Case.state.in_(OPEN))
    if filters.kind:
        query = query.where(Case.kind == filters.kind)
    if filters.prefecture:
        query = query.where(Case.prefecture == filters.prefecture)
    if filters.overdue:
        query = query.where(overdue_clause(today))
    if filters.mine:
        query = query.where(or_(Case.handler_id == staff.account_id, Case.reviewer_id == staff.account_id))
    if filters.state != "all" and not (filters.prefecture or filters.overdue or filters.mine):
        # Filtered by state and kind only: the counts above already hold the total.
        states = [filters.state] if filters.state else OPEN
        total = sum(n for state in states for kind, n in counts.get(state, {}).items()
                    if not filters.kind or kind == filters.kind)
    else:
        total = session.exec(select(func.count()).select_from(query.subquery())).one()
    pages = max(1, -(-total // page_size))
    page = min(filters.page, pages)
    rows = list(session.exec(query.order_by(Case.due_on, Case.submitted_at, Case.id)
                             .offset((page - 1) * page_size).limit(page_size)).all())
    ids = {i for row in rows for i in (row.handler_id, row.reviewer_id) if i}
    return Workbench(counts=counts, state_totals=state_totals, kind_totals=kind_totals, overdue=overdue, rows=rows,
                     total=total, page=page, pages=pages, names=staff_names(session, ids=ids))


# Counting a large queue reads every open case, so above this many the counts are reused for a few
# seconds (the list of cases below them is always live). Small queues are always counted afresh.
COUNTS_CACHE_ABOVE = 20_000
COUNTS_CACHE_SECONDS = 10
_counts_cache: dict[tuple, tuple[float, dict[str, dict[str, int]], int]] = {}
_counts_lock = threading.Lock()


def open_counts(session: Session, *, staff: Principal, today: date) -> tuple[dict[str, dict[str, int]], int]:
    """Open cases by state and kind, and how many are overdue, in one pass over the table."""
    key = (str(session.get_bind().url), staff.region if not covers(staff.region, "") else "", today)
    with _counts_lock:
        cached = _counts_cache.get(key)
    if cached and cached[0] > time.monotonic():
        return cached[1], cached[2]
    late = func.sum(sql_case((overdue_clause(today), 1), else_=0))
    grouped = _visible(select(Case.state, Case.kind, func.count(), late).where(Case.state.in_(OPEN))
                       .group_by(Case.state, Case.kind), staff)
    counts: dict[str, dict[str, int]] = {}
    overdue = 0
    for state, kind, n, n_late in session.exec(grouped).all():
        counts.setdefault(state, {})[kind] = n
        overdue += int(n_late or 0)
    total = sum(n for by_kind in counts.values() for n in by_kind.values())
    with _counts_lock:
        if total > COUNTS_CACHE_ABOVE:
            _counts_cache[key] = (time.monotonic() + COUNTS_CACHE_SECONDS, counts, overdue)
        else:
            _counts_cache.pop(key, None)
    return counts, overdue


def staff_names(session: Session, *, ids) -> dict[int, str]:
    ids = [i for i in ids if i]
    if not ids:
        return {}
    return {s.id: s.name for s in session.exec(select(StaffMember).where(StaffMember.id.in_(ids))).all()}


@dataclass(frozen=True)
class Load:
    staff_id: int
    name: str
    staff_number: str
    roles: str
    handling: int  # held as handler, open
    reviewing: int  # in review, assigned to them
    waiting: int  # with the applicant
    overdue: int


def workload(session: Session, *, staff: Principal, today: date) -> list[Load]:
    """Open cases per member of staff, with how many are overdue."""
    overdue = sql_case((overdue_clause(today), 1), else_=0)
    waiting = sql_case((Case.state == State.WAITING_FOR_APPLICANT, 1), else_=0)
    handled = _visible(select(Case.handler_id, func.count(), func.sum(waiting), func.sum(overdue))
                       .where(Case.handler_id.is_not(None), Case.state.in_(OPEN)).group_by(Case.handler_id), staff)
    reviewed = _visible(select(Case.reviewer_id, func.count(), func.sum(overdue))
                        .where(Case.reviewer_id.is_not(None), Case.state == State.IN_REVIEW)
                        .group_by(Case.reviewer_id), staff)
    by_staff: dict[int, list[int]] = {}
    for staff_id, n, n_waiting, n_overdue in session.exec(handled).all():
        by_staff.setdefault(staff_id, [0, 0, 0, 0])
        by_staff[staff_id][0] += n
        by_staff[staff_id][2] += int(n_waiting or 0)
        by_staff[staff_id][3] += int(n_overdue or 0)
    for staff_id, n, n_overdue in session.exec(reviewed).all():
        by_staff.setdefault(staff_id, [0, 0, 0, 0])
        by_staff[staff_id][1] += n
        by_staff[staff_id][3] += int(n_overdue or 0)
    members = session.exec(select(StaffMember).where(StaffMember.active.is_(True)).order_by(StaffMember.staff_number)
                           ).all()
    loads = []
    for member in members:
        numbers = by_staff.get(member.id, [0, 0, 0, 0])
        if not member.role_set & {"handler", "reviewer", "supervisor"} and not any(numbers):
            continue
        loads.append(Load(member.id, member.name, member.staff_number, member.roles, *numbers))
    return loads


def eligible_staff(session: Session, *, case: Case) -> list[StaffMember]:
    """Who a supervisor may hand the case to (the service checks again)."""
    wanted = {"reviewer", "supervisor"} if case.state == State.IN_REVIEW else {"handler", "supervisor"}
    other = case.handler_id if case.state == State.IN_REVIEW else case.reviewer_id
    members = session.exec(select(StaffMember).where(StaffMember.active.is_(True)).order_by(StaffMember.name)).all()
    return [m for m in members if m.role_set & wanted and covers(m.region, case.prefecture)
            and m.id != other and m.id != case.counter_staff_id]


def applicant_cases(session: Session, *, applicant: Applicant, page: int = 1,
                    page_size: int = PAGE_SIZE) -> tuple[list[Case], int]:
    query = select(Case).where(Case.applicant_kind == applicant.kind, Case.applicant_id == applicant.id)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(Case.submitted_at.desc(), Case.id.desc())
                        .offset((max(page, 1) - 1) * page_size).limit(page_size)).all()
    return list(rows), total
