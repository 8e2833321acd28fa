"""Life certification (待遇领取资格认证): every pensioner confirms each cycle (a parameter, 12 months) that they are
alive and entitled.

Ways to certify: by themselves, with the electronic social security card's face check (the page needs a card
session with the face check, ``PERSON_FACE``); assisted by staff at a counter; or for them by a family member
(亲情服务): the first time, the family member files a ``certification_exception`` case, committing through the
catalogue's ``family_certification`` notice (confirmed with the card's face check, the evidence kept on the case) or
attaching documents instead (the only way for whoever may not commit), and its approval links them to the pensioner
(``FamilyLink``) and certifies; from then on the linked member certifies online with the same commitment, without a
request (its evidence kept on the certification), or, when they may no longer commit, by a request with documents. One person acts for a limited number of pensioners (the parameter
``family_service_links_max``). A certification is a row; the history is kept.

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
from portal.errors import N_, Conflict, Msg, NotFound, ValidationFailed
from portal.identifiers import InvalidIdentifier, parse_resident_id
from portal.models import CertificationNotice, FamilyLink, LifeCertification, PensionAward, Person
from portal.models.queue import Case
from portal.policy.dates import add_months, fmt_month, month_of
from portal.policy.parameters import param
from portal.queue import cases, notices
from portal.queue.kinds import CheckResult, Kind, KindSpec
from portal.services import commitments, credit, payroll
from portal.services.person_requests import Filing, check_commitment, commit

REMINDER_DAYS = (30, 7)
RELATIONSHIPS = ("spouse", "child", "parent", "sibling", "other")
FAMILY_COMMITMENT = "family_certification"  # the commitment catalogue's item (portal/policy/data/commitments.yaml)


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
    notices.notify(session, recipient_kind="person", recipient_id=person_id, now=now,
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
            notices.notify(session, recipient_kind="person", recipient_id=person_id, now=now,
                           title=N_("Certify by %(date)s that you still receive your pension rightly, or payment is "
                                    "suspended from the next payroll."), params={"date": due.isoformat()})
            sent += 1
    session.flush()
    if sent:
        audit.record(session=session, actor=SYSTEM, action="certification.reminded", now=now,
                     object_type="day", object_id=today.isoformat(), detail={"notices": sent})
    return sent


# --- a family member certifies for a pensioner (亲情服务) -------------------------------------------------------


def links_max(on: date) -> int:
    return int(param("family_service_links_max").at(on).value)


def links_of(session: Session, *, family_id: int) -> list[tuple[FamilyLink, Person]]:
    """The pensioners this person is linked to, with the link."""
    return list(session.exec(select(FamilyLink, Person).join(Person, Person.id == FamilyLink.pensioner_id)
                             .where(FamilyLink.family_id == family_id).order_by(FamilyLink.linked_at)).all())


def _link(session: Session, pensioner_id: int, family_id: int) -> FamilyLink | None:
    return session.exec(select(FamilyLink).where(FamilyLink.pensioner_id == pensioner_id,
                                                 FamilyLink.family_id == family_id)).first()


def _links_count(session: Session, family_id: int) -> int:
    return len(session.exec(select(FamilyLink.id).where(FamilyLink.family_id == family_id)).all())


def _seen(seen_on: str, today: date, errors: dict) -> date | None:
    try:
        seen = date.fromisoformat(seen_on)
    except ValueError:
        seen = None
    if seen is None or seen > today or (today - seen).days > 7:
        errors["seen_on"] = Msg(N_("Enter the date you last saw them in person, within the last seven days."))
        return None
    return seen


def certify_linked(session: Session, *, family: Person, link_id: int, seen_on: str, notice_version: str,
                   actor: Actor, now: datetime, today: date, locale: str = "zh_CN") -> LifeCertification:
    """A linked family member certifies the pensioner online (亲情服务): the ``family_certification`` notice
    confirmed with the card's face check, its evidence kept on the certification. Whoever may no longer commit is
    told why and asks with documents instead (``submit_family``)."""
    link = session.get(FamilyLink, link_id)
    if link is None or link.family_id != family.id:
        raise NotFound()
    errors: dict[str, Msg] = {}
    _seen(seen_on, today, errors)
    eligible = commitments.eligibility(session, subject=credit.Subject("person", family.id), on=today)
    if not eligible.may_commit:
        errors["mode"] = Msg(N_("You cannot commit instead of proving: ask below, with documents that prove it."))
    if errors:
        raise ValidationFailed(errors)
    confirmation = commitments.confirm(session, actor=actor, item=FAMILY_COMMITMENT, version=notice_version,
                                       password="", locale=locale, now=now, today=today)
    row = certify(session, person_id=link.pensioner_id, channel="family", actor=actor, now=now, today=today,
                  by_person_id=family.id, case_reference=link.case_reference)
    commitments.keep_record_evidence(session, record_kind="life_certification", record_id=row.id,
                                     subject=credit.Subject("person", family.id), confirmation=confirmation,
                                     actor=actor)
    return row


def submit_family(session: Session, *, filing: Filing, id_number: str, relationship: str, seen_on: str,
                  offer: commitments.Offer | None, token: str, now: datetime, today: date) -> Case:
    """A family member asks to be linked to a pensioner and to certify them: a ``certification_exception`` case a
    handler decides, with the ``family_certification`` commitment or documents proving instead (``offer``). Once
    linked, they certify with ``certify_linked`` instead, or here with documents when they may no longer commit."""
    errors: dict[str, Msg] = {}
    pensioner = None
    try:
        number = parse_resident_id(id_number, today=today).number
        pensioner = session.exec(select(Person).where(Person.id_number == number)).first()
    except InvalidIdentifier:
        number = ""
    may_commit = commitments.eligibility(session, subject=credit.Subject("person", filing.person.id),
                                         on=today).may_commit
    if pensioner is None or pensioner.id == filing.person.id or session.exec(select(PensionAward.id).where(
            PensionAward.person_id == pensioner.id, PensionAward.superseded_by.is_(None))).first() is None:
        errors["id_number"] = Msg(N_("Enter the identity number of the family member who receives a pension."))
    elif _link(session, pensioner.id, filing.person.id) is not None:
        if may_commit:
            errors["id_number"] = Msg(N_("You are linked to this family member already: certify for them in the "
                                         "list above."))
    elif _links_count(session, filing.person.id) >= links_max(today):
        errors["id_number"] = Msg(N_("You act for %(count)s family members already, the most allowed. Ask at a "
                                     "service counter to end a link first."), {"count": links_max(today)})
    if relationship not in RELATIONSHIPS:
        errors["relationship"] = Msg(N_("Choose how you are related."))
    seen = _seen(seen_on, today, errors)
    check_commitment(session, filing=filing, commitment=False, offer=offer, errors=errors, today=today)
    if errors:
        raise ValidationFailed(errors)
    committed = commit(session, filing=filing, item=FAMILY_COMMITMENT, offer=offer, now=now, today=today)
    payload = {"route": "family", "pensioner_id": pensioner.id, "pensioner_name": pensioner.name,
               "relationship": relationship, "seen_on": seen.isoformat()}
    return filing.submit(session, kind="certification_exception", payload=payload, token=token, now=now,
                         committed=committed)


def check_family(session: Session, *, case: Case, payload: dict) -> CheckResult:
    pensioner_id = int(payload.get("pensioner_id", 0) or 0)
    award = session.exec(select(PensionAward).where(PensionAward.person_id == pensioner_id,
                                                    PensionAward.superseded_by.is_(None))).first()
    if award is None or award.stopped_after is not None:
        return CheckResult("pensioner_in_payment", False, N_("The person named is not receiving a pension."))
    linked = _links_count(session, case.applicant_id)
    if _link(session, pensioner_id, case.applicant_id) is None and linked >= links_max(cases.china_date(case.submitted_at)):
        return CheckResult("pensioner_in_payment", False,
                           N_("The family member acts for %(count)s pensioners already, the most allowed."),
                           {"count": linked})
    return CheckResult("pensioner_in_payment", True, N_("Receiving a pension since %(month)s."),
                       {"month": fmt_month(award.first_payment_month)})


def apply_family(session: Session, *, case: Case, approved: bool, now: datetime, note: str) -> None:
    if not approved:
        return
    payload = cases.payload_of(case)
    pensioner_id = int(payload.get("pensioner_id", 0) or 0)
    today = cases.china_date(now)
    if _link(session, pensioner_id, case.applicant_id) is None and \
            _links_count(session, case.applicant_id) < links_max(today):
        session.add(FamilyLink(pensioner_id=pensioner_id, family_id=case.applicant_id,
                               relationship=str(payload.get("relationship", ""))[:12], case_reference=case.reference,
                               linked_at=now))
        session.flush()
    try:
        certify(session, person_id=pensioner_id, channel="family", actor=SYSTEM, now=now, today=today,
                by_person_id=case.applicant_id, case_reference=case.reference)
    except Conflict:
        return


def revoke_family(session: Session, *, case: Case, now: datetime) -> None:
    """A family certification found to rest on a false commitment: the link ends, and the certifications made
    through it no longer count (payment is suspended again once the pensioner is overdue; what was paid after the
    pensioner died or lost eligibility is recovered through the death or the finding). The audit log keeps them."""
    payload = cases.payload_of(case)
    pensioner_id = int(payload.get("pensioner_id", 0) or 0)
    link = _link(session, pensioner_id, case.applicant_id)
    made = session.exec(select(LifeCertification).where(
        LifeCertification.person_id == pensioner_id, LifeCertification.by_person_id == case.applicant_id,
        LifeCertification.channel == "family", LifeCertification.case_reference == case.reference)).all()
    withdrawn = [row.certified_on.isoformat() for row in made]
    for row in made:
        session.delete(row)
    if link is not None and link.case_reference == case.reference:
        session.delete(link)
    session.flush()
    audit.record(session=session, actor=SYSTEM, action="certification.family_revoked", now=now, object_type="case",
                 object_id=case.reference, detail={"pensioner": pensioner_id, "certifications": withdrawn,
                                                   "link_ended": link is not None})


KIND_SPECS = (
    KindSpec(Kind.CERTIFICATION_EXCEPTION, checks=(check_family,), effect=apply_family,
             shown=frozenset({"route", "pensioner_name", "relationship", "seen_on"}),
             commitments=(FAMILY_COMMITMENT,), revoke=revoke_family),
)
