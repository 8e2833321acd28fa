"""Life certification (待遇领取资格认证): every pensioner confirms each cycle (a parameter, 12 months) that they are
alive and entitled.

Ways to certify: by themselves, with the electronic social security card's face check (the page needs a card
session with the face check, ``PERSON_FACE``); assisted by staff at a counter; or for them by a family member
(亲情服务), which is a ``certification_exception`` case the family member files with a commitment and a handler
decides. A certification is a row; the history is kept.

Due = last certification + the cycle. Reminders go 30 and 7 days before (``send_reminders``, once each). Overdue at
the start of a payroll month means that month is not paid (``portal.services.payroll``); certifying again makes
the next payroll pay every month skipped (back pay).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, select

from portal import audit
from portal.auth.principal import SYSTEM, Actor
from portal.errors import N_, Conflict, Msg, ValidationFailed
from portal.identifiers import InvalidIdentifier, parse_resident_id
from portal.models import CertificationNotice, LifeCertification, PensionAward, Person
from portal.models.queue import Case
from portal.policy.dates import add_months, fmt_month, month_of
from portal.policy.parameters import param
from portal.queue import cases, notices
from portal.queue.kinds import CheckResult, Kind, KindSpec
from portal.services import payroll
from portal.services.person_requests import Filing

REMINDER_DAYS = (30, 7)
RELATIONSHIPS = ("spouse", "child", "parent", "sibling", "other")
COMMITMENT = N_("I confirm that the pensioner named here is alive, that I saw them in person within the last week, "
                "and that I am their family member as stated. A false statement means repaying any pension paid "
                "because of it, and affects my credit record.")


@dataclass(frozen=True)
class Status:
    award: PensionAward | None
    last: LifeCertification | None
    due_on: date | None
    overdue: bool
    unpaid_months: tuple[date, ...]  # benefit months before this one not paid (suspended while overdue)
    history: tuple[LifeCertification, ...]
    cycle_months: int


def cycle(on: date) -> int:
    return int(param("certification_cycle_months").at(on).value)


def due_date(certified_on: date) -> date:
    months = cycle(certified_on)
    day = add_months(month_of(certified_on), months)
    try:
        return day.replace(day=certified_on.day)
    except ValueError:  # 29-31 of a shorter month
        return add_months(day, 1) - timedelta(days=1)


def status(session: Session, *, person_id: int, today: date) -> Status:
    award = session.exec(select(PensionAward).where(PensionAward.person_id == person_id,
                                                    PensionAward.superseded_by.is_(None))).first()
    history = tuple(session.exec(select(LifeCertification).where(LifeCertification.person_id == person_id)
                                 .order_by(LifeCertification.certified_on.desc(), LifeCertification.id.desc())).all())
    last = history[0] if history else None
    due = due_date(last.certified_on) if last else None
    overdue = due is not None and today > due
    unpaid: tuple[date, ...] = ()
    if award is not None:
        unpaid = tuple(payroll.unpaid_months(session, award=award, until=add_months(month_of(today), -1)))
    return Status(award, last, due, overdue, unpaid, history, cycle(today))


def certify(session: Session, *, person_id: int, channel: str, actor: Actor, now: datetime, today: date,
            by_person_id: int | None = None, by_staff_id: int | None = None,
            case_reference: str = "") -> LifeCertification:
    """Records a certification (one a day is enough: a second the same day returns the first)."""
    if session.exec(select(PensionAward.id).where(PensionAward.person_id == person_id,
                                                  PensionAward.superseded_by.is_(None))).first() is None:
        raise Conflict(Msg(N_("Only a person receiving a pension is certified.")))
    same_day = session.exec(select(LifeCertification).where(LifeCertification.person_id == person_id,
                                                            LifeCertification.certified_on == today)).first()
    if same_day is not None:
        return same_day
    row = LifeCertification(person_id=person_id, certified_on=today, channel=channel, by_person_id=by_person_id,
                            by_staff_id=by_staff_id, case_reference=case_reference, created_at=now)
    session.add(row)
    session.flush()
    audit.record(session=session, actor=actor, action="certification.recorded", now=now,
                 object_type="life_certification", object_id=row.id,
                 detail={"person": person_id, "channel": channel, "due": due_date(today).isoformat()})
    notices.notify(session=session, recipient_kind="person", recipient_id=person_id, now=now,
                   title=N_("Your pension eligibility is certified until %(date)s."),
                   params={"date": due_date(today).isoformat()})
    return row


def send_reminders(session: Session, *, today: date, now: datetime) -> int:
    """Notices 30 and 7 days before each pensioner's due date, each sent once."""
    sent = 0
    awards = session.exec(select(PensionAward.person_id).where(PensionAward.superseded_by.is_(None),
                                                               PensionAward.stopped_after.is_(None))).all()
    for person_id in awards:
        last = session.exec(select(LifeCertification.certified_on).where(LifeCertification.person_id == person_id)
                            .order_by(LifeCertification.certified_on.desc())).first()
        if last is None:
            continue
        due = due_date(last)
        left = (due - today).days
        for days, later in zip(REMINDER_DAYS, (*REMINDER_DAYS[1:], -1), strict=True):
            if not later < left <= days:
                continue  # the 30-day notice between 30 and 8 days before, the 7-day one from 7 days to the day
            exists = session.exec(select(CertificationNotice.id).where(
                CertificationNotice.person_id == person_id, CertificationNotice.due_on == due,
                CertificationNotice.days_before == days)).first()
            if exists is not None:
                continue
            session.add(CertificationNotice(person_id=person_id, due_on=due, days_before=days, sent_at=now))
            notices.notify(session=session, recipient_kind="person", recipient_id=person_id, now=now,
                           title=N_("Certify by %(date)s that you still receive your pension rightly, or payment is "
                                    "suspended from the next payroll."), params={"date": due.isoformat()})
            sent += 1
    session.flush()
    if sent:
        audit.record(session=session, actor=SYSTEM, action="certification.reminded", now=now,
                     object_type="day", object_id=today.isoformat(), detail={"notices": sent})
    return sent


# --- a family member certifies for a pensioner (亲情服务) -------------------------------------------------------


def submit_family(session: Session, *, filing: Filing, id_number: str, relationship: str, seen_on: str,
                  commitment: bool, token: str, now: datetime, today: date) -> Case:
    """A family member asks to certify a pensioner: a ``certification_exception`` case a handler decides."""
    errors: dict[str, Msg] = {}
    pensioner = None
    try:
        number = parse_resident_id(id_number, today=today).number
        pensioner = session.exec(select(Person).where(Person.id_number == number)).first()
    except InvalidIdentifier:
        number = ""
    if pensioner is None or pensioner.id == filing.person.id or session.exec(select(PensionAward.id).where(
            PensionAward.person_id == pensioner.id, PensionAward.superseded_by.is_(None))).first() is None:
        errors["id_number"] = Msg(N_("Enter the identity number of the family member who receives a pension."))
    if relationship not in RELATIONSHIPS:
        errors["relationship"] = Msg(N_("Choose how you are related."))
    try:
        seen = date.fromisoformat(seen_on)
    except ValueError:
        seen = None
    if seen is None or seen > today or (today - seen).days > 7:
        errors["seen_on"] = Msg(N_("Enter the date you last saw them in person, within the last seven days."))
    if not commitment:
        errors["commitment"] = Msg(N_("Confirm the commitment to submit the request."))
    if errors:
        raise ValidationFailed(errors)
    payload = {"route": "family", "pensioner_id": pensioner.id, "pensioner_name": pensioner.name,
               "relationship": relationship, "seen_on": seen.isoformat(),
               "commitment": {"accepted": True, "at": now.isoformat()}}
    return filing.submit(session, kind="certification_exception", payload=payload, token=token, now=now)


def check_family(session: Session, case: Case, payload: dict) -> CheckResult:
    pensioner_id = int(payload.get("pensioner_id", 0) or 0)
    award = session.exec(select(PensionAward).where(PensionAward.person_id == pensioner_id,
                                                    PensionAward.superseded_by.is_(None))).first()
    if award is None or award.stopped_after is not None:
        return CheckResult("pensioner_in_payment", False, N_("The person named is not receiving a pension."))
    return CheckResult("pensioner_in_payment", True, N_("Receiving a pension since %(month)s."),
                       {"month": fmt_month(award.first_payment_month)})


def apply_family(session: Session, case: Case, approved: bool, now: datetime, note: str) -> None:
    if not approved:
        return
    payload = cases.payload_of(case)
    pensioner_id = int(payload.get("pensioner_id", 0) or 0)
    try:
        certify(session, person_id=pensioner_id, channel="family", actor=SYSTEM, now=now,
                today=cases.china_date(now), by_person_id=case.applicant_id, case_reference=case.reference)
    except Conflict:
        return


KIND_SPECS = (
    KindSpec(Kind.CERTIFICATION_EXCEPTION, checks=(check_family,), effect=apply_family,
             shown=frozenset({"route", "pensioner_name", "relationship", "seen_on"})),
)
