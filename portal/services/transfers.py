"""Transfer continuation (转移接续): a person's pension relationship moved into Jilin or out of it, leg by leg.

Into Jilin: the person applies (``apply_in``) with the province they left and their periods there; the policy
engine decides whether Jilin opens a general record or a temporary contribution account (临时缴费账户, 66号
Art. 5, with its exemptions) and the explanation is kept. Three legs follow, each with its own clock in working
days (parameter ``transfer_leg_working_days``, counted by the queue's working-day calendar):

1. ``letter``: Jilin issues the contact letter (联系函). This is a ``transfer`` case in the handling queue (a money
   kind: two people decide); approving it sends the letter to the other province. With a temporary account
   nothing moves (66号 Art. 5): approving opens the account, tells the other province, and legs 2 and 3 are not
   needed.
2. ``transfer``: the other province transfers the funds and the record, as a signed message (``receive``).
3. ``merge``: Jilin merges. The amounts received are checked against the engine's figures (``transfer_amounts``:
   the personal account whole from 1998, own contributions with interest before; 12% of each month's base from
   1998 for the pooled fund). When they agree the months join the record at once (source ``transfer_in``, shown
   as "transferred from 110000, 2008-03 to 2015-06"); when they differ, or months fall outside the periods or
   are already insured in Jilin, a query goes back to the sending province and the leg waits for a corrected
   message. Nothing is accepted silently. The personal account received is credited to the person's Jilin
   account on the day of the merge (``Transfer.account_credit_fen``): the yearly interest run counts it among
   that year's credits, and the record's account table shows it with its source.

Out of Jilin, the other way round: the other province's contact letter arrives as a signed message and opens an
outgoing transfer with a ``transfer`` case; approving it computes what moves, issues the transfer record
(参保缴费凭证, verifiable at /verify) and a payment order (``PaymentOrder``, payer kind ``fund``: the provincial
fund pays the other province by the merge's time limit), closes the person's open Jilin spells as transferred and
sends the signed transfer message naming the order; the other province's ``merged`` message ends the last leg and
settles the order. The tax collector's payment callback never confirms a fund order (``billing.apply_payment``).

Messages Jilin sends are kept in ``ProvinceMessage`` (direction ``out``) as the outbox; ``deliver_outbox``
(``portal transfers deliver``) signs each with the secret shared with its province and a fresh timestamp, and
posts it to that province's address (``Settings.province_urls``).

A leg past its time limit is flagged once (``flag_overdue``, run by ``portal queue auto``): the applicant gets a
notice and supervisors see it on /staff/transfers.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Session, select

from portal import audit, clock, i18n
from portal.auth.principal import SYSTEM, Actor
from portal.errors import N_, Msg, NotFound, ValidationFailed
from portal.models import (
    Certificate,
    ContributionMonth,
    EmploymentSpell,
    FlexibleEnrolment,
    PaymentOrder,
    Person,
    PersonalAccountYear,
    ProvinceMessage,
    Transfer,
    TransferLeg,
)
from portal.models.queue import Case
from portal.policy import regions
from portal.policy.dates import add_months, fmt_month, month_of, parse_month
from portal.policy.errors import PolicyInputError
from portal.policy.money import from_fen, to_fen
from portal.policy.parameters import param
from portal.policy.rules.transfer import (
    InsuredPeriod,
    claim_place,
    temporary_account,
    transfer_amounts,
)
from portal.queue import calendar, notices
from portal.queue import service as queue
from portal.queue.kinds import CheckResult, Kind, KindSpec
from portal.queue.parties import Applicant
from portal.services import certificates, credit, supervision
from portal.services.accounts import person_of
from portal.services.person_requests import prefecture_of
from portal.services.personal_accounts import transferred_credits
from portal.services.records import build_record

JILIN = regions.PROVINCE  # the province code of Jilin in the national division table
MAX_PERIODS = 5
FIRST_MONTH = date(1980, 1, 1)  # no enterprise pension record starts earlier
EXEMPTIONS = ("organisation_department", "hr_department")
OPEN_IN = ("applied", "letter_sent", "query")
OPEN_OUT = ("letter_received", "sent")
FUND_PAYER = "fund"  # a payment order's payer_kind when the provincial fund pays out (a transfer out of Jilin)
LEG_NAMES = {
    "letter": N_("Contact letter"),
    "transfer": N_("Transfer of funds and record"),
    "merge": N_("Merge into the record"),
}
STATE_NAMES = {
    "applied": N_("Waiting for the contact letter"),
    "letter_sent": N_("Contact letter sent; waiting for the other province"),
    "query": N_("Amounts queried with the other province"),
    "merged": N_("Merged into your record"),
    "temporary": N_("Temporary contribution account opened; your relationship stays where it was"),
    "refused": N_("Not continued"),
    "letter_received": N_("Contact letter received; Jilin is preparing the transfer"),
    "sent": N_("Sent; waiting for the other province to merge"),
    "completed": N_("Completed"),
}


class MessageRefused(Exception):
    """An inter-provincial message that is not taken: the HTTP status, a result code and a clear error."""

    def __init__(self, status: int, result: str, error: str, **detail):
        super().__init__(error)
        self.status, self.result, self.error, self.detail = status, result, error, detail


# --- provinces and periods ---------------------------------------------------------------------------------------


def provinces() -> list[dict]:
    return list(param("provinces").values()[-1].value)


def province_name(code: str, locale: str | None = None) -> str:
    locale = locale or i18n.current_locale()
    for row in provinces():
        if row["code"] == code:
            return row["en"] if locale == "en" else row["zh"]
    return code


def province_options(locale: str | None = None, *, without_jilin: bool = True) -> list[tuple[str, str]]:
    return [(row["code"], province_name(row["code"], locale)) for row in provinces()
            if not (without_jilin and row["code"] == JILIN)]


def _known_province(code: str) -> bool:
    return any(row["code"] == code for row in provinces())


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def months(self) -> int:
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    def covers(self, month: date) -> bool:
        return self.start <= month <= self.end

    def as_json(self) -> dict:
        return {"start": fmt_month(self.start), "end": fmt_month(self.end)}


def periods_of(transfer: Transfer) -> list[Period]:
    return [Period(parse_month(p["start"]), parse_month(p["end"])) for p in json.loads(transfer.periods_json)]


def parse_periods(rows: list[tuple[str, str]], *, today: date, errors: dict[str, Msg]) -> list[Period]:
    """The periods typed on the form (start and end as YYYY-MM, both included), oldest first, never overlapping."""
    periods: list[Period] = []
    for index, (start_text, end_text) in enumerate(rows, start=1):
        if not start_text and not end_text:
            continue
        try:
            start, end = parse_month(start_text), parse_month(end_text)
        except ValueError:
            errors[f"start_{index}"] = Msg(N_("Enter the first and the last month as YYYY-MM, for example 2008-03."))
            continue
        if end < start:
            errors[f"start_{index}"] = Msg(N_("The last month cannot be before the first."))
        elif start < FIRST_MONTH or end > month_of(today):
            errors[f"start_{index}"] = Msg(N_("The months must lie between 1980-01 and this month."))
        else:
            periods.append(Period(start, end))
    periods.sort(key=lambda p: p.start)
    for earlier, later in zip(periods, periods[1:], strict=False):
        if later.start <= earlier.end:
            errors["start_1"] = Msg(N_("The periods overlap; enter each month once."))
    if not periods and not any(name.startswith("start_") for name in errors):
        errors["start_1"] = Msg(N_("Enter at least one period you were insured in the other province."))
    return periods


# --- the general record or a temporary account -------------------------------------------------------------------


def age_on(person: Person, day: date) -> int:
    born = person.birth_date
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def decide_account(*, person: Person, hukou_province: str, exemption: str, today: date):
    """The engine's decision for a move into Jilin: a ``TemporaryAccountResult`` (applies, explanation)."""
    return temporary_account(sex=person.sex, age_years=age_on(person, today), cross_province=True,
                             to_hukou_place=hukou_province == JILIN, on=today, exemption=exemption)


def decision_of(transfer: Transfer, person: Person):
    """The decision as it was made, recomputed from what was kept (it never changes after the application)."""
    kept = json.loads(transfer.decision_json or "{}")
    on = date.fromisoformat(kept["on"]) if "on" in kept else transfer.created_at.astimezone(clock.CHINA).date()
    return decide_account(person=person, hukou_province=transfer.hukou_province, exemption=transfer.exemption,
                          today=on)


# --- legs and their clocks ---------------------------------------------------------------------------------------


def leg_days(on: date) -> int:
    return int(param("transfer_leg_working_days").at(on).value)


def _start(leg: TransferLeg, today: date) -> None:
    cal = calendar.default_calendar()
    leg.started_on = today
    leg.due_on = cal.add_working_days(today, leg_days(today))
    years = cal.provisional_years(today, leg.due_on)
    leg.due_provisional_year = years[0] if years else None


def _finish(leg: TransferLeg, today: date) -> None:
    if leg.started_on is None:
        _start(leg, today)
    leg.done_on = today


def legs_of(session: Session, *, transfer: Transfer) -> dict[str, TransferLeg]:
    rows = session.exec(select(TransferLeg).where(TransferLeg.transfer_id == transfer.id)
                        .order_by(TransferLeg.position)).all()
    return {row.leg: row for row in rows}


def _make_legs(session: Session, transfer: Transfer, *, jilin_does: tuple[bool, bool, bool]) -> dict[str, TransferLeg]:
    legs = {}
    for position, (name, by_jilin) in enumerate(zip(("letter", "transfer", "merge"), jilin_does, strict=True), 1):
        legs[name] = TransferLeg(transfer_id=transfer.id, leg=name, position=position, by_jilin=by_jilin)
        session.add(legs[name])
    return legs


def is_overdue(leg: TransferLeg, today: date) -> bool:
    return leg.done_on is None and leg.due_on is not None and leg.due_on < today


def _new_reference(session: Session, now: datetime) -> str:
    day = now.astimezone(clock.CHINA).strftime("%Y%m%d")
    while True:
        reference = f"ZY{day}{secrets.randbelow(10**6):06d}"
        if session.exec(select(Transfer.id).where(Transfer.reference == reference)).first() is None:
            return reference


def _notify(session: Session, transfer: Transfer, title: str, now: datetime, **params) -> None:
    notices.notify(session, recipient_kind="person", recipient_id=transfer.person_id, title=title, now=now,
                   params={"reference": transfer.reference, **params}, case_id=transfer.case_id)


def _touch(transfer: Transfer, state: str, now: datetime) -> None:
    transfer.state, transfer.updated_at = state, now


# --- into Jilin: the application -------------------------------------------------------------------------------


def apply_in(session: Session, *, actor: Actor, other_province: str, hukou_province: str, exemption: str,
             periods: list[tuple[str, str]], token: str, now: datetime) -> Transfer:
    """The signed-in person asks to move their relationship from ``other_province`` into Jilin.

    Opens the transfer, its three legs (the first one's clock running) and the ``transfer`` case for the contact
    letter. Nothing is created when any field is wrong. A province code of Jilin itself is refused with the
    reason: moves between Jilin prefectures are a record change, not a transfer."""
    person = person_of(session, actor=actor)
    today = now.astimezone(clock.CHINA).date()
    errors: dict[str, Msg] = {}
    if other_province.startswith("22"):
        errors["other_province"] = Msg(N_("A move between two Jilin prefectures is not a transfer: since 2020 Jilin "
                                          "has one provincial pool, so your record simply continues. Ask for a "
                                          "record change if anything is wrong."))
    elif not _known_province(other_province):
        errors["other_province"] = Msg(N_("Choose the province you left."))
    if not _known_province(hukou_province):
        errors["hukou_province"] = Msg(N_("Choose the province of your household registration."))
    if exemption not in ("", *EXEMPTIONS):
        errors["exemption"] = Msg(N_("Choose whether an organisation or human-resources department approved the "
                                     "move."))
    chosen = parse_periods(periods[:MAX_PERIODS], today=today, errors=errors)
    if errors:
        raise ValidationFailed(errors)
    resent = session.exec(select(Transfer).join(Case, Case.id == Transfer.case_id).where(
        Case.applicant_kind == "person", Case.applicant_id == person.id, Case.kind == str(Kind.TRANSFER),
        Case.idempotency_key == (token or "").strip()[:64])).first()
    if resent is not None:  # the same form sent again: the transfer it opened
        return resent
    existing = session.exec(select(Transfer).where(Transfer.person_id == person.id, Transfer.direction == "in",
                                                   Transfer.state.in_(OPEN_IN))).first()
    if existing is not None:
        raise ValidationFailed({"other_province": Msg(
            N_("Your transfer %(reference)s is still under way; follow it below before you start another."),
            {"reference": existing.reference})})
    try:
        decision = decide_account(person=person, hukou_province=hukou_province, exemption=exemption, today=today)
    except PolicyInputError as error:  # a date outside the rules' parameters
        raise ValidationFailed({"other_province": Msg(N_("The transfer rules do not cover this date."))}) from error
    transfer = Transfer(
        reference=_new_reference(session, now), direction="in", person_id=person.id, other_province=other_province,
        hukou_province=hukou_province, exemption=exemption,
        account_type="temporary" if decision.applies else "general",
        decision_json=json.dumps({"on": today.isoformat(), "age": age_on(person, today),
                                  **decision.explanation.to_dict()}, ensure_ascii=False, default=str),
        periods_json=json.dumps([p.as_json() for p in chosen]), state="applied", created_at=now, updated_at=now)
    session.add(transfer)
    session.flush()
    legs = _make_legs(session, transfer, jilin_does=(True, False, True))
    _start(legs["letter"], today)
    payload = {"transfer": transfer.reference, "direction": "in", "other_province": other_province,
               "hukou_province": hukou_province, "account_type": transfer.account_type, "exemption": exemption,
               "periods": [p.as_json() for p in chosen], "months": sum(p.months for p in chosen)}
    # Filed at the person's risk tier, as the form told them (portal/services/supervision.py).
    tier = supervision.assess(session, subject=credit.Subject("person", person.id), kind=Kind.TRANSFER, on=today).tier
    case = queue.submit(session, kind=Kind.TRANSFER, applicant=actor, payload=payload,
                        prefecture=prefecture_of(session, person=person), idempotency_key=token, now=now, actor=actor,
                        tier=tier)
    transfer.case_id = case.id
    session.flush()
    audit.record(session=session, actor=actor, action="transfer.applied", now=now, object_type="transfer",
                 object_id=transfer.reference, detail={"from": other_province, "account_type": transfer.account_type,
                                                       "case": case.reference})
    return transfer


# --- the transfer kind: checks and what a decision does -----------------------------------------------------------


def _transfer_of_case(session: Session, case: Case) -> Transfer | None:
    return session.exec(select(Transfer).where(Transfer.case_id == case.id)).first()


def check_periods(session: Session, *, case: Case, payload: dict) -> CheckResult:
    """Into Jilin: none of the months to come in is already insured in Jilin (that would be double insurance).
    Out of Jilin: the record has insured months to send."""
    if payload.get("direction") == "out":
        figures = outgoing_figures(session, person_id=case.applicant_id)
        if not figures.history:
            return CheckResult("transfer_record", False, N_("The Jilin record has no paid month to transfer."))
        today = case.submitted_at.astimezone(clock.CHINA).date()
        result = transfer_amounts(figures.history, figures.balance, today,
                                  personal_account_before_1998=figures.before_1998,
                                  own_contributions_before_1998=figures.own_before_1998)
        return CheckResult("transfer_record", True,
                           N_("%(count)s paid months are on the Jilin record to transfer: %(account)s yuan of the "
                              "personal account and %(pooled)s yuan of the pooled fund would move."),
                           {"count": len(figures.history), "account": str(result.personal_account),
                            "pooled": str(result.pooled)})
    try:
        periods = [Period(parse_month(p["start"]), parse_month(p["end"])) for p in payload.get("periods") or []]
    except (KeyError, TypeError, ValueError):
        periods = []
    if not periods:
        return CheckResult("transfer_periods", False, N_("The request names no valid period."))
    rows = session.exec(select(ContributionMonth.month).where(
        ContributionMonth.person_id == case.applicant_id, ContributionMonth.source != "transfer_in",
        ContributionMonth.month >= periods[0].start, ContributionMonth.month <= periods[-1].end)).all()
    overlap = sorted({m for m in rows if any(p.covers(m) for p in periods)})
    if overlap:
        return CheckResult("transfer_periods", False,
                           N_("%(count)s months of the periods are also insured in Jilin (from %(first)s): double "
                              "insurance must be settled before the transfer."),
                           {"count": len(overlap), "first": fmt_month(overlap[0])})
    return CheckResult("transfer_periods", True, N_("No month of the periods is insured in Jilin as well."))


def decide(session: Session, *, case: Case, approved: bool, now: datetime, note: str) -> None:
    """Effect of the decision on a ``transfer`` case: issue the contact letter (in) or send the transfer (out)."""
    transfer = _transfer_of_case(session, case)
    if transfer is None:
        return
    today = now.astimezone(clock.CHINA).date()
    legs = legs_of(session, transfer=transfer)
    if not approved:  # the legs stop where they are (shown as stopped, never flagged overdue)
        _touch(transfer, "refused", now)
        _notify(session, transfer, N_("Your transfer %(reference)s was not continued. The decision gives the reason."),
                now)
        return
    if transfer.direction == "in" and transfer.account_type == "temporary":
        # 66号 Art. 5: the relationship stays where it is; nothing moves now. Jilin records the person's
        # contributions in a temporary account and tells the other province; the other legs are not needed.
        _finish(legs["letter"], today)
        _touch(transfer, "temporary", now)
        _outgoing(session, transfer, "temporary_account", now, {
            "id_number": session.get(Person, transfer.person_id).id_number})
        _notify(session, transfer, N_("Jilin opened a temporary contribution account for you (transfer "
                                      "%(reference)s). Your pension relationship stays in the other province; "
                                      "nothing is transferred now."), now)
    elif transfer.direction == "in":
        _finish(legs["letter"], today)
        _start(legs["transfer"], today)
        _touch(transfer, "letter_sent", now)
        _outgoing(session, transfer, "contact_letter", now, {
            "id_number": session.get(Person, transfer.person_id).id_number,
            "periods": json.loads(transfer.periods_json), "account_type": transfer.account_type})
        _notify(session, transfer, N_("Jilin sent the contact letter for your transfer %(reference)s. The other "
                                      "province now transfers your funds and record."), now)
    else:
        _send_out(session, transfer, now)
    session.flush()


KIND_SPECS = (
    KindSpec(Kind.TRANSFER, checks=(check_periods,), effect=decide,
             shown=frozenset({"transfer", "direction", "other_province", "hukou_province", "account_type",
                              "exemption", "periods", "months", "id_number", "letter"})),
)


# --- messages between provinces ------------------------------------------------------------------------------------


def _outgoing(session: Session, transfer: Transfer, kind: str, now: datetime, content: dict) -> ProvinceMessage:
    """A message from Jilin to the other province, kept in the outbox; signed when it is delivered."""
    from portal.services import province_messages

    message_id = f"JL-{secrets.token_hex(12)}"
    body = {"message_id": message_id, "kind": kind, "transfer": transfer.reference, "from": JILIN,
            "reference": transfer.other_reference, **content}
    row = ProvinceMessage(direction="out", province=transfer.other_province, message_id=message_id, kind=kind,
                          transfer_id=transfer.id, at=now, signed_at=int(now.timestamp()),
                          body=province_messages.body_of(body).decode("utf-8"), signature="", result="outbox")
    session.add(row)
    return row


@dataclass(frozen=True)
class Delivery:
    delivered: int
    failed: int
    waiting: int  # for a province with no address configured


def deliver_outbox(session: Session, *, settings, now: datetime, post, limit: int = 200) -> Delivery:
    """Sign each queued message with the secret shared with its province and post it to that province's address
    (``Settings.province_urls``); ``post(url, body, headers) -> (status, text)``. A message is marked delivered
    on a 200 answer and stays queued otherwise, to be sent again (with a fresh timestamp) on the next run."""
    from portal.services import province_messages

    rows = session.exec(select(ProvinceMessage).where(ProvinceMessage.direction == "out",
                                                      ProvinceMessage.result == "outbox")
                        .order_by(ProvinceMessage.id).limit(limit)).all()
    delivered = failed = waiting = 0
    for row in rows:
        url, secret = settings.province_urls.get(row.province), settings.province_secret(row.province)
        if not url or not secret:
            waiting += 1
            continue
        timestamp, body = int(now.timestamp()), row.body.encode("utf-8")
        headers = province_messages.headers(secret=secret, province=JILIN, timestamp=timestamp, body=body)
        try:
            status, text = post(url, body, headers)
        except Exception as error:  # noqa: BLE001 - an unreachable province is a failed delivery, retried later
            status, text = 0, str(error)
        if status == 200:
            row.result, row.signed_at, row.signature = "delivered", timestamp, headers[province_messages.SIGNATURE_HEADER]
            delivered += 1
        else:
            failed += 1
            audit.record(session=session, actor=SYSTEM, action="interprovincial.delivery_failed", now=now,
                         object_type="province", object_id=row.province,
                         detail={"message_id": row.message_id, "status": status, "answer": text[:200]})
    session.flush()
    return Delivery(delivered, failed, waiting)


def messages_of(session: Session, *, transfer: Transfer) -> list[ProvinceMessage]:
    return list(session.exec(select(ProvinceMessage).where(ProvinceMessage.transfer_id == transfer.id)
                             .order_by(ProvinceMessage.at, ProvinceMessage.id)).all())


def _money(value, field_name: str) -> Decimal:
    from portal.services.payments import parse_amount

    amount = parse_amount(value)
    if amount is None:
        raise MessageRefused(400, "malformed", f"{field_name} must be a decimal string in yuan with at most two "
                             "places, for example \"1234.50\"")
    return amount


def _field(message: dict, name: str, kind: type = str):
    value = message.get(name)
    if not isinstance(value, kind) or (kind is str and not value):
        raise MessageRefused(400, "malformed", f"the message has no valid {name!r}")
    return value


def receive(session: Session, *, province: str, message: dict, body: str, signature: str, signed_at: int,
            now: datetime) -> dict:
    """Take a verified message from ``province``; the answer's JSON. Raises ``MessageRefused`` (nothing kept).

    The signature and timestamp are checked by the caller (the route); this refuses a replay (a message id this
    province has sent before), an unknown kind, and a message naming a transfer Jilin does not have with that
    province."""
    message_id = _field(message, "message_id")[:64]
    kind = _field(message, "kind")
    if session.exec(select(ProvinceMessage.id).where(ProvinceMessage.direction == "in",
                                                    ProvinceMessage.province == province,
                                                    ProvinceMessage.message_id == message_id)).first() is not None:
        raise MessageRefused(409, "replay", f"message {message_id} from {province} was already received; a message "
                             "is taken once")
    handlers = {"contact_letter": _on_contact_letter, "transfer": _on_transfer, "merged": _on_merged}
    if kind not in handlers:
        raise MessageRefused(400, "unknown_kind", f"unknown message kind {kind!r}; expected one of "
                             f"{', '.join(sorted(handlers))}")
    row = ProvinceMessage(direction="in", province=province, message_id=message_id, kind=kind, at=now,
                          signed_at=signed_at, body=body, signature=signature, result="received")
    session.add(row)  # first, so what Jilin answers with (a query, a merged note) is listed after it
    try:
        answer = handlers[kind](session, province, message, now)
    except MessageRefused:
        session.expunge(row)
        raise
    row.transfer_id, row.result = answer.pop("_transfer_id"), answer["status"]
    session.flush()
    return answer


def _transfer_named(session: Session, province: str, message: dict, direction: str) -> Transfer:
    reference = _field(message, "transfer")
    transfer = session.exec(select(Transfer).where(Transfer.reference == reference[:20])).first()
    if transfer is None or transfer.other_province != province or transfer.direction != direction:
        raise MessageRefused(404, "unknown_transfer", f"no transfer {reference[:40]} between Jilin and {province} "
                             "is waiting for this message; check the transfer number in the contact letter")
    return transfer


def _on_transfer(session: Session, province: str, message: dict, now: datetime) -> dict:
    """The other province's transfer of funds and record into Jilin: check the amounts, then merge or query."""
    transfer = _transfer_named(session, province, message, "in")
    if transfer.state not in ("letter_sent", "query"):
        raise MessageRefused(409, "not_expected", f"transfer {transfer.reference} is {transfer.state}; it takes no "
                             "transfer message now")
    months = message.get("months")
    if not isinstance(months, list) or not months:
        raise MessageRefused(400, "malformed", "the message lists no months")
    history: list[tuple[date, Decimal]] = []
    for item in months:
        if not isinstance(item, dict):
            raise MessageRefused(400, "malformed", "each month is an object with month and base")
        try:
            month = parse_month(str(item.get("month")))
        except ValueError:
            raise MessageRefused(400, "malformed", "a month is not written as YYYY-MM") from None
        history.append((month, _money(item.get("base"), "base")))
    account = message.get("account") if isinstance(message.get("account"), dict) else {}
    amounts = message.get("amounts") if isinstance(message.get("amounts"), dict) else {}
    balance = _money(account.get("balance"), "account.balance")
    before = _money(account.get("before_1998", "0.00"), "account.before_1998")
    own = _money(account.get("own_before_1998", "0.00"), "account.own_before_1998")
    sent = {"personal_account": _money(amounts.get("personal_account"), "amounts.personal_account"),
            "pooled": _money(amounts.get("pooled"), "amounts.pooled")}
    today = now.astimezone(clock.CHINA).date()
    try:
        figures = transfer_amounts(history, balance, today, personal_account_before_1998=before,
                                   own_contributions_before_1998=own)
    except PolicyInputError as error:
        raise MessageRefused(400, "malformed", f"{error.field}: {error.problem}") from None
    expected = {"personal_account": figures.personal_account, "pooled": figures.pooled}
    legs = legs_of(session, transfer=transfer)
    if legs["transfer"].done_on is None:
        _finish(legs["transfer"], today)
        _start(legs["merge"], today)
    declared = periods_of(transfer)
    outside = [month for month, _ in history if not any(p.covers(month) for p in declared)]
    insured_here = set(session.exec(select(ContributionMonth.month).where(
        ContributionMonth.person_id == transfer.person_id, ContributionMonth.source != "transfer_in",
        ContributionMonth.month.in_([month for month, _ in history]))).all())
    double = sorted(insured_here)
    differences = {name: {"sent": str(sent[name]), "expected": str(expected[name])}
                   for name in expected if sent[name] != expected[name]}
    transfer.amounts_json = json.dumps({
        "received": {k: str(v) for k, v in sent.items()}, "expected": {k: str(v) for k, v in expected.items()},
        "months": len(history), "pooled_months": figures.pooled_months,
        "account_from_1998": str(figures.account_from_1998), "account_before_1998": str(figures.account_before_1998),
        "explanation": figures.explanation.to_dict()}, default=str, ensure_ascii=False)
    transfer.other_reference = str(message.get("reference") or transfer.other_reference)[:40]
    if differences or outside or double:
        # Months outside the periods applied for, or already insured in Jilin (double insurance), are queried
        # like a wrong amount: the sending province settles them before anything joins the record.
        query = {"differences": differences, "outside_months": [fmt_month(m) for m in outside[:24]],
                 "double_months": [fmt_month(m) for m in double[:24]], "opened_on": today.isoformat()}
        transfer.query_json = json.dumps(query)
        _touch(transfer, "query", now)
        _outgoing(session, transfer, "query", now, query)
        _notify(session, transfer, N_("The amounts received for your transfer %(reference)s differ from what the "
                                      "rules give. Jilin has asked the other province to check them; nothing is "
                                      "merged until they agree."), now)
        audit.record(session=session, actor=SYSTEM, action="transfer.query", now=now, object_type="transfer",
                     object_id=transfer.reference, detail=query)
        return {"status": "query", "transfer": transfer.reference, "differences": differences,
                "outside_months": query["outside_months"], "double_months": query["double_months"],
                "_transfer_id": transfer.id}
    merged = _merge(session, transfer, history, now)
    # The personal account received joins the person's Jilin account today; the year's interest run adds it to
    # the year's credits (personal_accounts), and the record shows it with where it came from.
    transfer.account_credit_fen, transfer.credited_on = to_fen(sent["personal_account"]), today
    _finish(legs["merge"], today)
    transfer.query_json = "{}"
    _touch(transfer, "merged", now)
    _outgoing(session, transfer, "merged", now, {"months": merged})
    _notify(session, transfer, N_("Your transfer %(reference)s is complete: %(months)s months joined your Jilin "
                                  "record."), now, months=merged)
    audit.record(session=session, actor=SYSTEM, action="transfer.merged", now=now, object_type="transfer",
                 object_id=transfer.reference, detail={"months": merged, **{k: str(v) for k, v in expected.items()}})
    return {"status": "merged", "transfer": transfer.reference, "months": merged, "_transfer_id": transfer.id}


def _merge(session: Session, transfer: Transfer, history: list[tuple[date, Decimal]], now: datetime) -> int:
    """The received months join the record (source ``transfer_in``); months already merged are not added twice."""
    have = set(session.exec(select(ContributionMonth.month).where(
        ContributionMonth.person_id == transfer.person_id, ContributionMonth.source == "transfer_in")).all())
    added = 0
    for month, base in history:
        if month in have:
            continue
        session.add(ContributionMonth(person_id=transfer.person_id, month=month, base_fen=to_fen(base),
                                      source="transfer_in", status="paid", created_at=now))
        added += 1
    session.flush()
    return added


def _on_merged(session: Session, province: str, message: dict, now: datetime) -> dict:
    """The other province merged what Jilin sent: the last leg of an outgoing transfer is done."""
    transfer = _transfer_named(session, province, message, "out")
    if transfer.state != "sent":
        raise MessageRefused(409, "not_expected", f"transfer {transfer.reference} is {transfer.state}; it takes no "
                             "merged message now")
    _finish(legs_of(session, transfer=transfer)["merge"], now.astimezone(clock.CHINA).date())
    order = session.get(PaymentOrder, transfer.payment_order_id) if transfer.payment_order_id else None
    if order is not None and order.status == "pending":  # the money arrived with the record
        order.status, order.paid_at = "paid", now
        audit.record(session=session, actor=SYSTEM, action="payment.order_settled", now=now,
                     object_type="payment_order", object_id=order.reference,
                     detail={"transfer": transfer.reference, "confirmed_by": province})
    _touch(transfer, "completed", now)
    _notify(session, transfer, N_("The other province has merged your transferred record %(reference)s. The "
                                  "transfer is complete."), now)
    return {"status": "completed", "transfer": transfer.reference, "_transfer_id": transfer.id}


def _on_contact_letter(session: Session, province: str, message: dict, now: datetime) -> dict:
    """Another province asks Jilin to transfer a person out: an outgoing transfer and a case for staff to confirm."""
    id_number = _field(message, "id_number")
    person = session.exec(select(Person).where(Person.id_number == id_number[:18].upper())).first()
    if person is None:
        raise MessageRefused(404, "unknown_person", "no person insured in Jilin has this identity number")
    letter = _field(message, "letter")[:40]
    open_one = session.exec(select(Transfer).where(Transfer.person_id == person.id, Transfer.direction == "out",
                                                   Transfer.state.in_(OPEN_OUT))).first()
    if open_one is not None:
        raise MessageRefused(409, "already_open", f"transfer {open_one.reference} out of Jilin for this person is "
                             "already under way")
    today = now.astimezone(clock.CHINA).date()
    transfer = Transfer(reference=_new_reference(session, now), direction="out", person_id=person.id,
                        other_province=province, other_reference=letter, state="letter_received",
                        periods_json="[]", created_at=now, updated_at=now)
    session.add(transfer)
    session.flush()
    legs = _make_legs(session, transfer, jilin_does=(False, True, False))
    _finish(legs["letter"], today)
    _start(legs["transfer"], today)
    case = queue.submit(session, kind=Kind.TRANSFER, applicant=Applicant("person", person.id, None),
                        payload={"transfer": transfer.reference, "direction": "out", "other_province": province,
                                 "letter": letter},
                        prefecture=prefecture_of(session, person=person),
                        idempotency_key=f"transfer-{transfer.reference}", now=now, actor=SYSTEM)
    transfer.case_id = case.id
    session.flush()
    _notify(session, transfer, N_("Another province asked Jilin to transfer your pension record out (transfer "
                                  "%(reference)s). Staff check it and send it; you can follow each step."), now)
    return {"status": "accepted", "transfer": transfer.reference, "_transfer_id": transfer.id}


# --- out of Jilin: what moves ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    history: list[tuple[date, Decimal]]
    balance: Decimal
    before_1998: Decimal
    own_before_1998: Decimal


def outgoing_figures(session: Session, *, person_id: int) -> Outgoing:
    """What the Jilin record holds for a transfer out: every paid month's base, and the personal account (the
    last credited year's closing balance plus what was paid into it since); before 1998, the account part and
    the person's own contributions as recorded (their interest is in the credited balance)."""
    rows = session.exec(select(ContributionMonth).where(ContributionMonth.person_id == person_id,
                                                        ContributionMonth.status == "paid")
                        .order_by(ContributionMonth.month)).all()
    by_month: dict[date, ContributionMonth] = {}
    for row in rows:
        by_month.setdefault(row.month, row)
    last = session.exec(select(PersonalAccountYear).where(PersonalAccountYear.person_id == person_id)
                        .order_by(PersonalAccountYear.year.desc())).first()
    balance_fen = last.closing_balance_fen if last else 0
    since = date(last.year + 1, 1, 1) if last else date(1, 1, 1)
    balance_fen += sum(row.personal_account_fen for row in by_month.values() if row.month >= since)
    balance_fen += sum(to_fen(credit.amount) for credit in transferred_credits(session, person_id=person_id)
                       if credit.credited_on >= since)  # brought by a transfer in, not yet in a credited year
    early = [row for row in by_month.values() if row.month < date(1998, 1, 1)]
    before = min(balance_fen, sum(row.personal_account_fen for row in early))
    own = min(before, sum(row.individual_part_fen for row in early))
    return Outgoing([(month, from_fen(row.base_fen)) for month, row in sorted(by_month.items())],
                    from_fen(balance_fen), from_fen(before), from_fen(own))


def _send_out(session: Session, transfer: Transfer, now: datetime) -> None:
    """Staff confirmed: compute what moves, issue the transfer record and the payment order, close the
    person's open Jilin spells as transferred, send the signed transfer message."""
    today = now.astimezone(clock.CHINA).date()
    person = session.get(Person, transfer.person_id)
    figures = outgoing_figures(session, person_id=person.id)
    result = transfer_amounts(figures.history, figures.balance, today,
                              personal_account_before_1998=figures.before_1998,
                              own_contributions_before_1998=figures.own_before_1998)
    record = build_record(session, person=person, today=today)
    periods = certificates.insured_periods(session, record=record)
    certificate = Certificate(code=certificates._new_code(session), person_id=person.id, issued_at=now,
                              issued_on=today, cumulative_months=record.cumulative_months,
                              content_hash=certificates._content_hash(person, periods, record.cumulative_months),
                              periods_json=json.dumps([p.as_json() for p in periods], ensure_ascii=False))
    session.add(certificate)
    total = result.personal_account + result.pooled
    legs = legs_of(session, transfer=transfer)
    _finish(legs["transfer"], today)
    _start(legs["merge"], today)
    # The payment order for what moves: paid by the provincial fund to the other province by the time limit of
    # its merge; the other province's merged message confirms the money arrived (``_on_merged``).
    order = PaymentOrder(reference=f"JLT{today:%Y%m%d}{secrets.token_hex(5).upper()}", payer_kind=FUND_PAYER,
                         payer_id=int(JILIN), contributions_fen=to_fen(total), late_fee_fen=0,
                         amount_fen=to_fen(total), pay_by=legs["merge"].due_on, status="pending", created_at=now)
    session.add(order)
    session.flush()
    transfer.payment_order_id = order.id
    transfer.certificate_code = certificate.code
    transfer.amounts_json = json.dumps({
        "sent": {"personal_account": str(result.personal_account), "pooled": str(result.pooled)},
        "total": str(total), "months": len(figures.history), "pooled_months": result.pooled_months,
        "payment": {"payee": transfer.other_province, "amount": str(total), "reference": order.reference},
        "explanation": result.explanation.to_dict()}, default=str, ensure_ascii=False)
    if figures.history:
        transfer.periods_json = json.dumps([{"start": fmt_month(figures.history[0][0]),
                                             "end": fmt_month(figures.history[-1][0])}])
    current = month_of(today)
    for spell in session.exec(select(EmploymentSpell).where(EmploymentSpell.person_id == person.id,
                                                            EmploymentSpell.end_month.is_(None))).all():
        spell.end_month, spell.end_reason, spell.ended_at = max(spell.start_month, add_months(current, -1)), \
            "transferred", now
    for enrolment in session.exec(select(FlexibleEnrolment).where(FlexibleEnrolment.person_id == person.id,
                                                                  FlexibleEnrolment.end_month.is_(None))).all():
        enrolment.end_month, enrolment.end_reason = max(enrolment.start_month, add_months(current, -1)), \
            "transferred"
    _touch(transfer, "sent", now)
    _outgoing(session, transfer, "transfer", now, {
        "id_number": person.id_number, "certificate": certificate.code,
        "months": [{"month": fmt_month(m), "base": str(b)} for m, b in figures.history],
        "account": {"balance": str(figures.balance), "before_1998": str(figures.before_1998),
                    "own_before_1998": str(figures.own_before_1998)},
        "amounts": {"personal_account": str(result.personal_account), "pooled": str(result.pooled)},
        "payment": {"order": order.reference, "amount": str(total), "pay_by": order.pay_by.isoformat()}})
    audit.record(session=session, actor=SYSTEM, action="transfer.sent", now=now, object_type="transfer",
                 object_id=transfer.reference, detail={"to": transfer.other_province, "total": str(total),
                                                       "certificate": certificate.code,
                                                       "payment_order": order.reference})
    audit.record(session=session, actor=SYSTEM, action="payment.order_created", now=now,
                 object_type="payment_order", object_id=order.reference,
                 detail={"transfer": transfer.reference, "payee": transfer.other_province, "amount": str(total)})
    _notify(session, transfer, N_("Jilin sent your record and %(amount)s yuan to the other province (transfer "
                                  "%(reference)s). Your transfer record can be verified with code %(code)s."), now,
            amount=str(total), code=certificate.code)


# --- overdue legs ---------------------------------------------------------------------------------------------------------


def flag_overdue(session: Session, *, now: datetime) -> int:
    """Flag, once, every open leg past its time limit: the applicant gets a notice, the audit log a line that
    supervisors read on /staff/transfers. Idempotent."""
    today = now.astimezone(clock.CHINA).date()
    legs = session.exec(select(TransferLeg).where(TransferLeg.done_on.is_(None), TransferLeg.due_on < today,
                                                  TransferLeg.overdue_flagged_at.is_(None))).all()
    flagged = 0
    for leg in legs:
        transfer = session.get(Transfer, leg.transfer_id)
        if transfer.state in ("refused", "merged", "completed", "temporary"):
            continue
        flagged += 1
        leg.overdue_flagged_at = now
        _notify(session, transfer, N_("A step of your transfer %(reference)s is past its time limit (due "
                                      "%(due)s). Supervisors have been told and follow it up."), now,
                due=leg.due_on.isoformat())
        audit.record(session=session, actor=SYSTEM, action="transfer.leg_overdue", now=now, object_type="transfer",
                     object_id=transfer.reference, detail={"leg": leg.leg, "due": leg.due_on.isoformat()})
    session.flush()
    return flagged


# --- what pages show ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LegView:
    leg: TransferLeg
    status: str  # done | running | overdue | waiting (not started) | not_needed (temporary account) | stopped
    days_left: int | None  # working days to the due date while running


def leg_view(leg: TransferLeg, today: date, state: str = "") -> LegView:
    if leg.done_on is not None:
        return LegView(leg, "done", None)
    if state == "refused":
        return LegView(leg, "stopped", None)
    if leg.started_on is None and state == "temporary":
        return LegView(leg, "not_needed", None)
    if leg.started_on is None:
        return LegView(leg, "waiting", None)
    if is_overdue(leg, today):
        return LegView(leg, "overdue", None)
    return LegView(leg, "running", calendar.default_calendar().working_days_between(today, leg.due_on))


@dataclass(frozen=True)
class PaymentView:
    """The payment order of a transfer out of Jilin: the provincial fund pays the other province."""

    reference: str
    amount: Decimal
    payee: str
    pay_by: date
    status: str  # pending | paid
    paid_on: date | None


@dataclass
class Tracker:
    transfer: Transfer
    legs: list[LegView]
    periods: list[Period]
    amounts: dict
    query: dict
    case_reference: str | None
    today: date
    overdue: list[str] = field(default_factory=list)
    payment: PaymentView | None = None

    @property
    def months(self) -> int:
        return sum(p.months for p in self.periods)

    def money(self, *path: str) -> Decimal | None:
        """An amount kept on the transfer (a decimal string at ``path`` in its amounts), as Decimal for display."""
        value = self.amounts
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        return Decimal(value) if isinstance(value, str) else None


def tracker(session: Session, *, transfer: Transfer, today: date) -> Tracker:
    legs = [leg_view(leg, today, transfer.state) for leg in legs_of(session, transfer=transfer).values()]
    case = session.get(Case, transfer.case_id) if transfer.case_id else None
    order = session.get(PaymentOrder, transfer.payment_order_id) if transfer.payment_order_id else None
    payment = PaymentView(order.reference, from_fen(order.amount_fen), transfer.other_province, order.pay_by,
                          order.status, order.paid_at.astimezone(clock.CHINA).date() if order.paid_at else None
                          ) if order is not None else None
    return Tracker(transfer=transfer, legs=legs, periods=periods_of(transfer),
                   amounts=json.loads(transfer.amounts_json or "{}"), query=json.loads(transfer.query_json or "{}"),
                   case_reference=case.reference if case else None, today=today,
                   overdue=[view.leg.leg for view in legs if view.status == "overdue"], payment=payment)


def own_transfers(session: Session, *, actor: Actor, today: date) -> list[Tracker]:
    person = person_of(session, actor=actor)
    rows = session.exec(select(Transfer).where(Transfer.person_id == person.id)
                        .order_by(Transfer.created_at.desc(), Transfer.id.desc())).all()
    return [tracker(session, transfer=row, today=today) for row in rows]


def own_transfer(session: Session, *, actor: Actor, reference: str, today: date) -> Tracker:
    person = person_of(session, actor=actor)
    row = session.exec(select(Transfer).where(Transfer.reference == reference[:20])).first()
    if row is None or row.person_id != person.id:
        raise NotFound()
    return tracker(session, transfer=row, today=today)


def staff_transfer(session: Session, *, reference: str, today: date) -> Tracker:
    """One transfer for staff (every member of staff may read transfers; deciding goes through the queue)."""
    row = session.exec(select(Transfer).where(Transfer.reference == reference[:20])).first()
    if row is None:
        raise NotFound()
    return tracker(session, transfer=row, today=today)


def own_transfer_record(session: Session, *, actor: Actor, reference: str) -> tuple[Transfer, certificates.Issued]:
    """The signed-in person's transfer out of Jilin with its transfer record (参保缴费凭证) as issued; NotFound
    for anyone else's or before it was sent."""
    person = person_of(session, actor=actor)
    row = session.exec(select(Transfer).where(Transfer.reference == reference[:20])).first()
    if row is None or row.person_id != person.id or not row.certificate_code:
        raise NotFound()
    certificate = session.exec(select(Certificate).where(Certificate.code == row.certificate_code)).one()
    periods = tuple(certificates.Period.from_json(item) for item in json.loads(certificate.periods_json))
    return row, certificates.Issued(certificate=certificate, person=person, periods=periods)


def sources_of(session: Session, *, person_id: int) -> list[dict]:
    """Where the record's transferred months came from: one line per merged transfer into Jilin."""
    rows = session.exec(select(Transfer).where(Transfer.person_id == person_id, Transfer.direction == "in",
                                               Transfer.state == "merged").order_by(Transfer.created_at)).all()
    found = []
    for row in rows:
        received = json.loads(row.amounts_json or "{}").get("received", {})
        account = Decimal(received["personal_account"]) if "personal_account" in received else None
        found += [{"province": row.other_province, "start": p.start, "end": p.end, "months": p.months,
                   "reference": row.reference, "personal_account": account if number == 0 else None}
                  for number, p in enumerate(periods_of(row))]  # the amount once, on the transfer's first line
    return found


def overdue_for_supervisors(session: Session, *, today: date) -> list[tuple[Transfer, TransferLeg]]:
    legs = session.exec(select(TransferLeg).where(TransferLeg.done_on.is_(None), TransferLeg.due_on < today)
                        .order_by(TransferLeg.due_on)).all()
    found = []
    for leg in legs:
        transfer = session.get(Transfer, leg.transfer_id)
        if transfer.state not in ("refused", "merged", "completed", "temporary"):
            found.append((transfer, leg))
    return found


def open_transfers(session: Session, *, limit: int = 200) -> list[Transfer]:
    return list(session.exec(select(Transfer).where(Transfer.state.in_((*OPEN_IN, *OPEN_OUT)))
                             .order_by(Transfer.created_at.desc()).limit(limit)).all())


# --- where the person will claim --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimPlace:
    place: str
    rule: int
    explanation: object
    hukou: str
    hukou_given: bool  # from an application (else read from the identity number's birthplace)
    periods: list[tuple[str, int]]
    jilin_months_needed: int  # more months in Jilin that would make Jilin the claim place (0: it already is / none)

    @property
    def years_needed(self) -> Decimal:
        return (Decimal(self.jilin_months_needed) / 12).quantize(Decimal("0.1"))


def claim_place_of(session: Session, *, person: Person, today: date) -> ClaimPlace | None:
    """Where the person would claim a pension today (66号 Art. 6), from every period known: the Jilin record
    (transferred months counted for the province they came from) and the periods of transfers still under way."""
    transfers = session.exec(select(Transfer).where(Transfer.person_id == person.id)
                             .order_by(Transfer.created_at.desc())).all()
    given = next((t.hukou_province for t in transfers if t.hukou_province), "")
    hukou = given or person.id_number[:2] + "0000"
    months: dict[date, str] = {}
    for row in session.exec(select(ContributionMonth.month, ContributionMonth.source).where(
            ContributionMonth.person_id == person.id, ContributionMonth.status == "paid")).all():
        months.setdefault(row[0], JILIN if row[1] != "transfer_in" else "")
    for transfer in transfers:
        if transfer.direction != "in" or transfer.state == "refused":
            continue
        for period in periods_of(transfer):
            month = period.start
            while month <= period.end:
                if months.get(month, "") == "":
                    months[month] = transfer.other_province
                month = add_months(month, 1)
    months = {m: place for m, place in months.items() if place}
    if not months:
        return None
    periods: list[tuple[str, int]] = []
    for month in sorted(months):
        place = months[month]
        if periods and periods[-1][0] == place:
            periods[-1] = (place, periods[-1][1] + 1)
        else:
            periods.append((place, 1))
    result = claim_place([InsuredPeriod(place, n) for place, n in periods], hukou, today)
    # What would change it, if the person goes on contributing in Jilin from now: with a Jilin household
    # registration one month makes Jilin the last place and the hukou place (clause 1); otherwise Jilin needs
    # the ten years of clause 2.
    needed = 0
    if result.place != JILIN:
        threshold = int(param("claim_place_years").at(today).value) * 12
        needed = 1 if hukou == JILIN else threshold - sum(n for place, n in periods if place == JILIN)
    return ClaimPlace(result.place, result.rule, result.explanation, hukou, bool(given), periods, max(needed, 0))
