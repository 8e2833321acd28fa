"""Development aid: play another province's pension system in a transfer (``portal dev province send …``).

Builds the message the other province would send, signs it with the secret Jilin shares with that province
(``Settings.province_secret``) and either posts it to the running portal or hands it to the same service the
endpoint calls. The month bases it sends are made up (the national average-wage curve is not needed to test the
exchange): a flat base per year, rising 6% a year, from ``--base`` in the first year; the amounts are what the
policy engine computes for them, unless ``--off-by`` shifts the pooled amount to test a query.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Session, select

from portal import clock
from portal.models import Person, Transfer
from portal.policy.dates import add_months, fmt_month
from portal.policy.money import round_fen
from portal.policy.rules.transfer import transfer_amounts
from portal.services import province_messages, transfers
from portal.settings import Settings


@dataclass(frozen=True)
class Prepared:
    province: str
    message: dict
    body: bytes
    timestamp: int

    def headers(self, settings: Settings) -> dict[str, str]:
        return province_messages.headers(secret=settings.province_secret(self.province), province=self.province,
                                         timestamp=self.timestamp, body=self.body)


def _prepared(province: str, message: dict, now: datetime) -> Prepared:
    message = {"message_id": f"{province}-{secrets.token_hex(8)}", **message}
    return Prepared(province, message, province_messages.body_of(message), int(now.timestamp()))


def history_for(periods: list[transfers.Period], base: Decimal) -> list[tuple[date, Decimal]]:
    months: list[tuple[date, Decimal]] = []
    first_year = periods[0].start.year if periods else 0
    for period in periods:
        month = period.start
        while month <= period.end:
            months.append((month, round_fen(base * Decimal("1.06") ** (month.year - first_year))))
            month = add_months(month, 1)
    return months


def transfer_message(session: Session, *, reference: str, now: datetime, base: Decimal = Decimal("3000.00"),
                     off_by: Decimal = Decimal("0.00"), own_before_1998: Decimal | None = None) -> Prepared:
    """The other province's transfer of funds and record for Jilin's transfer ``reference`` (into Jilin)."""
    transfer = session.exec(select(Transfer).where(Transfer.reference == reference)).first()
    if transfer is None:
        raise LookupError(f"no transfer {reference}")
    history = history_for(transfers.periods_of(transfer), base)
    # The personal account: 8% of each base with nothing else; before 1998 11% of which the person paid 4%.
    before = sum((round_fen(b * Decimal("0.11")) for m, b in history if m < date(1998, 1, 1)), Decimal("0.00"))
    own = sum((round_fen(b * Decimal("0.04")) for m, b in history if m < date(1998, 1, 1)), Decimal("0.00")) \
        if own_before_1998 is None else own_before_1998
    balance = before + sum((round_fen(b * Decimal("0.08")) for m, b in history if m >= date(1998, 1, 1)),
                           Decimal("0.00"))
    today = now.astimezone(clock.CHINA).date()
    figures = transfer_amounts(history, balance, today, personal_account_before_1998=before,
                               own_contributions_before_1998=own)
    return _prepared(transfer.other_province, {
        "kind": "transfer", "transfer": transfer.reference, "reference": f"{transfer.other_province}-ZC-"
        f"{secrets.randbelow(10**6):06d}",
        "months": [{"month": fmt_month(m), "base": str(b)} for m, b in history],
        "account": {"balance": str(balance), "before_1998": str(before), "own_before_1998": str(own)},
        "amounts": {"personal_account": str(figures.personal_account), "pooled": str(figures.pooled + off_by)},
    }, now)


def contact_letter(session: Session, *, province: str, id_number: str, now: datetime) -> Prepared:
    """Another province's contact letter asking Jilin to transfer a person out."""
    if session.exec(select(Person.id).where(Person.id_number == id_number)).first() is None:
        raise LookupError(f"no person {id_number} on the Jilin record")
    return _prepared(province, {"kind": "contact_letter", "id_number": id_number,
                                "letter": f"{province}-LXH-{secrets.randbelow(10**6):06d}"}, now)


def merged(session: Session, *, reference: str, now: datetime) -> Prepared:
    """The other province confirms it merged what Jilin sent (out of Jilin)."""
    transfer = session.exec(select(Transfer).where(Transfer.reference == reference)).first()
    if transfer is None:
        raise LookupError(f"no transfer {reference}")
    return _prepared(transfer.other_province, {"kind": "merged", "transfer": reference}, now)


def deliver_directly(session: Session, prepared: Prepared, *, now: datetime) -> dict:
    """What the endpoint does once the signature and timestamp have passed (tests and ``--direct``)."""
    body = prepared.body.decode("utf-8")
    return transfers.receive(session, province=prepared.province, message=json.loads(body), body=body,
                             signature="direct", signed_at=prepared.timestamp, now=now)


def send(*, what: str, target: str, sender: str, base: Decimal, off_by: Decimal, settings: Settings, sessionmaker,
         url: str, direct: bool, post, out=print, err=print) -> int:
    """``portal dev province send``: build, sign and post (or apply in-process) one message; the exit status."""
    from portal.db import transaction

    now = clock.now()
    try:
        with transaction(sessionmaker) as session:
            if what == "transfer":
                prepared = transfer_message(session, reference=target, now=now, base=base, off_by=off_by)
            elif what == "merged":
                prepared = merged(session, reference=target, now=now)
            else:
                prepared = contact_letter(session, province=sender, id_number=target, now=now)
    except LookupError as error:
        err(str(error).strip("'\""))
        return 1
    if direct:
        try:
            with transaction(sessionmaker) as session:
                answer = deliver_directly(session, prepared, now=now)
        except transfers.MessageRefused as refused:
            err(f"refused ({refused.result}): {refused.error}")
            return 1
        out(f"{prepared.province} → Jilin {what}: {json.dumps(answer, ensure_ascii=False)}")
        return 0
    status, text = post(url.rstrip("/") + "/interprovincial/messages", prepared.body, prepared.headers(settings))
    out(f"{prepared.province} → Jilin {what}: HTTP {status} {text}")
    return 0 if status == 200 else 1
