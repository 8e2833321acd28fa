"""The lines of a payer's bills: how many each bill has, and one page of them at a time.

An employer with thousands of employees has thousands of lines on every bill; the bills page shows the count and
each bill's lines are read a page at a time (or all at once as a spreadsheet), never every line of every bill.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from portal.auth.principal import Actor
from portal.errors import Forbidden, NotFound
from portal.models import Bill, ContributionMonth, Person


@dataclass(frozen=True)
class Line:
    id_number: str
    name: str
    base_fen: int
    employer_part_fen: int
    individual_part_fen: int

    @property
    def amount_fen(self) -> int:
        return self.employer_part_fen + self.individual_part_fen


def on_bills(bills: list[Bill]) -> tuple:
    """The conditions for the months on these bills.

    A bill's months are all of the bill's own month (every path that bills a month puts it on a bill of that month).
    Saying so lets PostgreSQL read those years' partitions only, instead of planning and probing every year's: for
    an employer's year of bills that planning was most of the bills page's time."""
    return (ContributionMonth.bill_id.in_([bill.id for bill in bills]),
            ContributionMonth.month.in_(sorted({bill.month for bill in bills})))


def line_counts(session: Session, *, bills: list[Bill]) -> dict[int, int]:
    """How many months (one a person) each bill has, in one grouped query."""
    if not bills:
        return {}
    return dict(session.exec(select(ContributionMonth.bill_id, func.count()).where(*on_bills(bills))
                             .group_by(ContributionMonth.bill_id)).all())


def own_bill(session: Session, *, actor: Actor, bill_id: int) -> Bill:
    """The signed-in payer's own bill; NotFound for anyone else's (even when it exists)."""
    party = actor.principal.party if actor.principal is not None else None
    if party is None:
        raise Forbidden()
    bill = session.get(Bill, bill_id)
    if bill is None or (bill.payer_kind, bill.payer_id) != party:
        raise NotFound()
    return bill


def lines(session: Session, *, bill: Bill, offset: int = 0, limit: int | None = None) -> list[Line]:
    """The bill's lines in the order of the persons' identity numbers; ``limit`` lines from ``offset``."""
    query = (select(Person.id_number, Person.name, ContributionMonth.base_fen, ContributionMonth.employer_part_fen,
                    ContributionMonth.individual_part_fen)
             .join(Person, Person.id == ContributionMonth.person_id)
             .where(*on_bills([bill])).order_by(Person.id_number).offset(offset))
    if limit is not None:
        query = query.limit(limit)
    return [Line(*row) for row in session.exec(query).all()]
