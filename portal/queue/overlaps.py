"""A request may not cover what an open request of the same applicant and kind already covers.

Seen: three deferral requests for the same month accepted from two browser tabs, one approved while the others
were still open. Each kind names what a request covers (its "subjects"): the months of a deferral or of a record
correction, the employee's months of a back payment, the enrolment itself for a flexible-enrolment exception.
A new request sharing a subject with an open one is refused with the open one's reference.

Concurrency: ``lock`` serialises submissions of one applicant and kind. On PostgreSQL it is a transaction-level
advisory lock, so two submissions at once (two tabs, two operators of one employer) run one after the other and
the second sees the first; SQLite takes its write lock when the transaction begins (portal.db).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from sqlalchemy import text
from sqlmodel import Session, select

from portal.errors import N_
from portal.models import Case

Subjects = Callable[[dict], frozenset[str]]


def _months(payload: dict) -> frozenset[str]:
    months = payload.get("months")
    return frozenset(m for m in months if isinstance(m, str)) if isinstance(months, list) else frozenset()


def _employee_months(payload: dict) -> frozenset[str]:
    months = payload.get("months")
    person = payload.get("person_id")
    if not isinstance(months, list):
        return frozenset()
    return frozenset(f"{person}:{item['month']}" for item in months if isinstance(item, dict) and "month" in item)


def _the_enrolment(payload: dict) -> frozenset[str]:
    return frozenset({"enrolment"})


# kind → (what a request covers, the form field the refusal is shown at, the message)
SAME_MONTHS = N_("Request %(reference)s for the same months is still open: wait for its decision, or withdraw it "
                 "before asking again.")
SAME_KIND = N_("Request %(reference)s of the same kind is still open: wait for its decision, or withdraw it before "
               "asking again.")
COVERS: dict[str, tuple[Subjects, str, str]] = {
    "deferral": (_months, "months", SAME_MONTHS),
    "enrolment_correction": (_months, "months", SAME_MONTHS),
    "back_payment": (_employee_months, "first_month", SAME_MONTHS),
    "flexible_exception": (_the_enrolment, "start_month", SAME_KIND),
}


def lock(session: Session, *, applicant_kind: str, applicant_id: int, kind: str) -> None:
    """Until the transaction ends, no other submission of this applicant and kind gets past this point."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"),
                        {"name": f"case:{applicant_kind}:{applicant_id}:{kind}"})


def _payload(case: Case) -> dict:
    try:
        value = json.loads(case.payload or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def open_overlap(session: Session, *, kind: str, applicant_kind: str, applicant_id: int, payload: dict,
                 open_states: Iterable[str]) -> Case | None:
    """The oldest open request of this applicant and kind that covers something ``payload`` covers."""
    covers = COVERS.get(str(kind))
    if covers is None:
        return None
    subjects = covers[0]
    wanted = subjects(payload)
    if not wanted:
        return None
    candidates = session.exec(select(Case).where(
        Case.applicant_kind == applicant_kind, Case.applicant_id == applicant_id, Case.kind == str(kind),
        Case.state.in_([str(state) for state in open_states])).order_by(Case.id)).all()
    return next((case for case in candidates if subjects(_payload(case)) & wanted), None)
