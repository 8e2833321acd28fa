"""Take next on PostgreSQL: the claim, its history, its audit row and the applicant's notice in ONE statement.

Take next is the hottest write in the portal. Built through the ORM it cost ~5 ms of Python per
take (objects, flush, events), which queued eight handlers behind one another for the CPU; as one
statement sent straight to the driver it costs ~0.6 ms. The rows written here are exactly what
``cases.add_event``, ``cases.audit_case`` (``audit.record``) and ``cases.notify`` write (the SQLite
path, ``take._claim`` + ``take._after_claim``, still uses those); the audit row is left
unsealed for the sealer, as ``audit.record`` leaves it. JSON texts are spelled as
``json.dumps(..., sort_keys=True)`` spells them; ``to_json()`` quotes the values.

A claim commits without waiting for its WAL flush (``synchronous_commit`` off for that one
transaction, set by the statement itself so it costs no round trip). Why: the flush is the one wait
a take cannot share, and on a busy disk it stalled eight handlers at once for 75-130 ms. What a
crash can lose is the last fraction of a second of claims, each with its history, audit row and
notice together (never a part of one): those cases are simply back in the queue, as if "take next"
had not been pressed; and the handler's next decision on a case commits synchronously, which
flushes the claim before it. Database consistency is never at risk (PostgreSQL's asynchronous
commit), only the durability of those claims.

The order has no ``id`` tie-break (unlike the SQLite path and the workbench): with it the planner
walks ix_queue_case_due past every case not waiting (thousands of rows at 100,000 open cases);
without it, ix_queue_case_state_due gives the waiting cases already in order.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session

from portal.auth.principal import Actor
from portal.models import Case

_COLUMNS = [column.name for column in Case.__table__.columns]
_SQL = """
WITH claimed AS (
    UPDATE queue_case SET {claim}, version = version + 1, updated_at = :now
    WHERE id = (
        SELECT id FROM queue_case
        WHERE {guard} AND (counter_staff_id IS NULL OR counter_staff_id <> :me){prefecture}
        ORDER BY due_on, submitted_at
        LIMIT 1 FOR UPDATE SKIP LOCKED
    ) AND {guard}
    RETURNING {columns}
), ev AS (
    INSERT INTO case_event (case_id, at, actor_kind, actor_id, action, from_state, to_state, reason_code, note)
    SELECT id, :now, :actor_kind, :me, :action, :from_state, state, NULL, '' FROM claimed
), au AS (
    INSERT INTO audit_event (at, actor_kind, actor_id, client_address, action, object_type, object_id, detail)
    SELECT :now, :actor_kind, :actor_id, :address, :audit_action, 'case', reference,
           '{{"from": ' || to_json(CAST(:from_state AS text)) || ', "kind": ' || to_json(CAST(kind AS text))
           || ', "to": ' || to_json(CAST(state AS text)) || '}}'
    FROM claimed
){notice}
SELECT {columns} FROM claimed WHERE set_config('synchronous_commit', 'off', true) IS NOT NULL
"""
_NOTICE = """, nt AS (
    INSERT INTO notice (recipient_kind, recipient_id, case_id, at, title, params)
    SELECT applicant_kind, applicant_id, id, :now, :title, '{{"reference": ' || to_json(CAST(reference AS text)) || '}}'
    FROM claimed WHERE applicant_kind IN ('person', 'employer')
)"""
# queue: (what the claim sets, what must still hold, the case_event action, whether the applicant is told)
PARTS = {
    "handle": ("handler_id = :me, state = 'in_progress', opened_at = coalesce(opened_at, :now)",
               "state = 'checked' AND handler_id IS NULL", "take", True),
    "review": ("reviewer_id = :me", "state = 'in_review' AND reviewer_id IS NULL AND handler_id <> :me",
               "take_review", False),
}
_statements: dict[tuple[str, bool], str] = {}


def statement(queue: str, one_prefecture: bool) -> str:
    """The statement in the driver's own placeholders (it is sent to psycopg as is)."""
    key = (queue, one_prefecture)
    if key not in _statements:
        claim, guard, _action, notify = PARTS[queue]
        sql = _SQL.format(claim=claim, guard=guard, columns=", ".join(_COLUMNS),
                          prefecture=" AND prefecture = :region" if one_prefecture else "",
                          notice=_NOTICE.format() if notify else "")
        assert "%" not in sql  # noqa: S101 - a literal % would be read as a placeholder
        _statements[key] = re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql)
    return _statements[key]


def claim(session: Session, *, queue: str, staff: Actor, from_state: str, one_prefecture: bool,
          region: str | None, notice_title: str, now: datetime) -> Case | None:
    """Claims the most urgent case for ``staff`` and writes its history, audit row and notice."""
    principal = staff.principal
    params = {
        "now": now, "me": principal.account_id, "actor_kind": staff.kind, "actor_id": staff.id,
        "address": (staff.address or "")[:45], "action": PARTS[queue][2], "audit_action": f"case.{PARTS[queue][2]}",
        "from_state": from_state, "title": notice_title, "region": region,
    }
    # Straight to the driver, inside the session's transaction: the ORM's statement and row machinery
    # cost more than the statement itself.
    with session.connection().connection.dbapi_connection.cursor() as cursor:
        cursor.execute(statement(queue, one_prefecture), params)
        row = cursor.fetchone()
    if row is None:
        return None
    return _as_loaded(session, dict(zip(_COLUMNS, row, strict=True)))


_DATETIMES = {column.name for column in Case.__table__.columns if getattr(column.type, "timezone", False)}


def _as_loaded(session: Session, values: dict) -> Case:
    """The case as if the session had loaded it: in its identity map, nothing pending."""
    for name in _DATETIMES:
        if values[name] is not None:
            values[name] = values[name].astimezone(UTC)  # as UTCDateTime reads it
    key = identity_key(Case, values["id"])
    known = session.identity_map.get(key)
    if known is not None:
        for name, value in values.items():
            set_committed_value(known, name, value)
        return known
    # Made as the ORM's own loader makes a row's object (no __init__, no validation: the database's values are
    # already what the columns hold); the constructor cost a fifth of a take.
    case = Case._sa_class_manager.new_instance()
    for name, value in values.items():
        set_committed_value(case, name, value)
    make_transient_to_detached(case)
    session.add(case)
    return case
