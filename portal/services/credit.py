"""Credit ratings (信用评级) and the serious-dishonesty list (严重失信人名单, 人社部规〔2019〕2号).

Events: what is stored in ``credit_event`` (a false commitment, a fraud finding, a correction, a listing), plus
what the bills say, read at rating time and never copied: a bill paid without a late fee is a payment on time,
one paid with a late fee a late payment, and one still unpaid ``arrears_after_days`` after its due date (and not
deferred) open arrears. The score and grade are computed by one SQL statement, for one subject when an event is
recorded and for everyone by ``portal credit recompute`` (delete and insert in one transaction: idempotent);
``portal.policy.rules.credit.rate`` is the same rule in Python, for the pages and the parity test.

The list: staff propose a listing from a finding (a case of kind ``dishonesty_listing``, filed by the proposer
so that a second person must decide it); the subject is told at once and may state their case until
``statement_until``; an approved listing takes effect the day after that period at the earliest and lasts
``listing_years``. Removal ends it and keeps the row. Objections to an event or a listing are cases of kind
``credit_objection``; upholding one annuls the event or removes the listing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, delete, exists, func, insert, literal, select, union_all
from sqlmodel import Session
from sqlmodel import select as sm_select

from portal import audit, clock
from portal.auth.principal import SYSTEM, Actor
from portal.errors import N_, Msg, NotFound, PortalError, ValidationFailed
from portal.models import (
    Bill,
    Case,
    CommitmentEvidence,
    ContributionMonth,
    CreditEvent,
    CreditRating,
    DishonestyListing,
    Employer,
    PaymentOrder,
    PaymentOrderBill,
    Person,
)
from portal.models.types import UTCDateTime
from portal.policy import commitments as commitment_catalogue
from portal.policy import regions
from portal.policy.parameters import param
from portal.policy.rules import credit as rules
from portal.queue import cases, notices, parties
from portal.queue import service as queue
from portal.queue.kinds import CheckResult, Kind, KindSpec

SUBJECT_KINDS = ("person", "employer")
MAX_STATEMENT = 2000

EVENT_LABELS = {
    "on_time_payment": N_("Contributions paid on time"),
    "late_payment": N_("Contributions paid late (a late fee was charged)"),
    "arrears_open": N_("Contributions still unpaid after the grace period"),
    "correction_made": N_("A correction made of one's own accord"),
    "false_commitment": N_("A commitment found to be false"),
    "fraud_finding": N_("A finding of fraud"),
    "serious_dishonesty": N_("Put on the serious-dishonesty list"),
}
STORED_EVENT_KINDS = ("correction_made", "false_commitment", "fraud_finding", "serious_dishonesty")

# Triggers of 人社部规〔2019〕2号 (the fact sheet, section 10).
TRIGGERS = {
    "refused_registration": N_("Refused to register for social insurance after an administrative penalty"),
    "fraudulent_enrolment": N_("Fraudulent enrolment of more than 20 person-times or a gain of more than 20,000 yuan"),
    "fraudulent_benefits": N_("Benefits obtained by fraud of more than 10,000 yuan, or not returned when ordered"),
    "benefits_after_eligibility": N_("Benefits drawn for more than 6 months or more than 10,000 yuan after "
                                     "eligibility ended, and not repaid"),
    "records_misused": N_("Individual rights records misused or leaked"),
    "injury_advance_unpaid": N_("Injury benefits advanced by the fund of more than 10,000 yuan not repaid"),
}
REMOVAL_REASONS = {
    "period_ended": N_("The listing period ended"),
    "repaired": N_("The obligation was met and a credit repair request was approved"),
    "objection_upheld": N_("An objection was upheld"),
}


@dataclass(frozen=True)
class Subject:
    kind: str  # person | employer
    id: int

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.id}"


def subject_of(actor: Actor) -> Subject:
    who = parties.applicant_of(actor)
    return Subject(who.kind, who.id)


def china_today(now: datetime) -> date:
    return now.astimezone(clock.CHINA).date()


# --- events and the rating -------------------------------------------------------------------------------


def _events(on: date, scoring: rules.Scoring, subject: Subject | None = None):
    """Every (subject_kind, subject_id, kind, occurred_on) counting towards ratings on ``on`` (a query)."""
    stored = (select(CreditEvent.subject_kind.label("subject_kind"), CreditEvent.subject_id.label("subject_id"),
                     CreditEvent.kind.label("kind"), CreditEvent.occurred_on.label("occurred_on"))
              .where(CreditEvent.annulled_at.is_(None), CreditEvent.occurred_on <= on))
    late_fee_paid = (exists().where(PaymentOrderBill.bill_id == Bill.id, PaymentOrderBill.late_fee_fen > 0,
                                    PaymentOrder.id == PaymentOrderBill.order_id, PaymentOrder.status == "paid"))
    paid = (select(Bill.payer_kind, Bill.payer_id,
                   case((late_fee_paid, literal("late_payment")), else_=literal("on_time_payment")), Bill.due_date)
            .where(Bill.status == "paid", Bill.due_date <= on))
    deferred = exists().where(ContributionMonth.bill_id == Bill.id, ContributionMonth.status == "deferred")
    arrears = (select(Bill.payer_kind, Bill.payer_id, literal("arrears_open"), Bill.due_date)
               .where(Bill.status != "paid", Bill.due_date < rules.arrears_cutoff(on, scoring), ~deferred))
    listed = (select(DishonestyListing.subject_kind, DishonestyListing.subject_id, literal("listed"),
                     DishonestyListing.effective_on)
              .where(*_active_listing(on)))
    if subject is not None:
        stored = stored.where(CreditEvent.subject_kind == subject.kind, CreditEvent.subject_id == subject.id)
        paid = paid.where(Bill.payer_kind == subject.kind, Bill.payer_id == subject.id)
        arrears = arrears.where(Bill.payer_kind == subject.kind, Bill.payer_id == subject.id)
        listed = listed.where(DishonestyListing.subject_kind == subject.kind,
                              DishonestyListing.subject_id == subject.id)
    return union_all(stored, paid, arrears, listed)


def _active_listing(on: date) -> tuple:
    return (DishonestyListing.state == "listed", DishonestyListing.effective_on <= on, DishonestyListing.ends_on > on,
            DishonestyListing.removed_at.is_(None))


def _rating_select(on: date, now: datetime, subject: Subject | None = None):
    """One row per subject with any event: kind, id, score, grade, listed, computed_on, computed_at."""
    scoring = rules.scoring(on)
    events = _events(on, scoring, subject).subquery()

    def points(positive: bool):
        whens = [(and_(events.c.kind == kind, events.c.occurred_on > rules.counts_from(kind, on, scoring)), weight)
                 for kind, weight in scoring.weights.items() if (weight > 0) == positive and weight != 0]
        return func.coalesce(func.sum(case(*whens, else_=0)), 0) if whens else literal(0)

    sums = (select(events.c.subject_kind, events.c.subject_id, points(True).label("pos"),
                   points(False).label("neg"),
                   func.max(case((events.c.kind == "listed", 1), else_=0)).label("listed"))
            .group_by(events.c.subject_kind, events.c.subject_id)).subquery()
    raw = (scoring.base + case((sums.c.pos > scoring.on_time_cap, scoring.on_time_cap), else_=sums.c.pos)
           + sums.c.neg)
    scored = select(sums.c.subject_kind, sums.c.subject_id, sums.c.listed,
                    case((raw < rules.MIN_SCORE, rules.MIN_SCORE), (raw > rules.MAX_SCORE, rules.MAX_SCORE),
                         else_=raw).label("score")).subquery()
    grade = case((scored.c.listed == 1, "D"),
                 *[(scored.c.score >= lowest, letter) for letter, lowest in scoring.thresholds], else_="D")
    return select(scored.c.subject_kind, scored.c.subject_id, scored.c.score, grade,
                  scored.c.listed == 1, literal(on), literal(now, UTCDateTime()))


RATING_COLUMNS = ("subject_kind", "subject_id", "score", "grade", "listed", "computed_on", "computed_at")


def recompute(session: Session, *, on: date, now: datetime) -> int:
    """Every subject's rating on ``on``, set-based: the old rows go and the new ones come in one transaction
    (running it twice gives the same table). Returns the number of subjects rated."""
    session.execute(delete(CreditRating))
    session.execute(insert(CreditRating).from_select(RATING_COLUMNS, _rating_select(on, now)))
    session.flush()
    return session.exec(sm_select(func.count()).select_from(CreditRating)).one()


def refresh(session: Session, *, subject: Subject, on: date, now: datetime) -> None:
    """One subject's rating after an event: the same statement as ``recompute``, for that subject only."""
    session.execute(delete(CreditRating).where(CreditRating.subject_kind == subject.kind,
                                               CreditRating.subject_id == subject.id))
    session.execute(insert(CreditRating).from_select(RATING_COLUMNS, _rating_select(on, now, subject)))
    session.flush()


def events_of(session: Session, *, subject: Subject, on: date) -> list[tuple[str, date]]:
    scoring = rules.scoring(on)
    return [(kind, day) for _k, _i, kind, day in session.execute(_events(on, scoring, subject)).all()]


def rating_of(session: Session, *, subject: Subject, on: date) -> rules.Rating:
    """The subject's rating on ``on`` with the events behind it (computed, not read from the stored row)."""
    events = events_of(session, subject=subject, on=on)
    return rules.rate([e for e in events if e[0] != "listed"], on=on, listed=any(e[0] == "listed" for e in events))


def grade_on(session: Session, *, subject: Subject, on: date) -> str:
    return rating_of(session, subject=subject, on=on).grade


def record_event(session: Session, *, subject: Subject, kind: str, occurred_on: date, now: datetime,
                 case_id: int | None = None, staff_id: int | None = None, note: str = "",
                 actor: Actor = SYSTEM) -> CreditEvent:
    """Records an event and updates the subject's rating at once."""
    if kind not in STORED_EVENT_KINDS:
        raise ValueError(f"not a stored credit event: {kind}")
    event = CreditEvent(subject_kind=subject.kind, subject_id=subject.id, kind=kind, occurred_on=occurred_on,
                        recorded_at=now, case_id=case_id, recorded_by=staff_id, note=note[:500])
    session.add(event)
    session.flush()
    refresh(session, subject=subject, on=china_today(now), now=now)
    audit.record(session=session, actor=actor, action="credit.event_recorded", now=now, object_type=subject.kind,
                 object_id=subject.id, detail={"kind": kind, "occurred_on": occurred_on.isoformat(),
                                               "event": event.id, "case": case_id})
    return event


def stored_events(session: Session, *, subject: Subject) -> list[CreditEvent]:
    return list(session.exec(sm_select(CreditEvent).where(CreditEvent.subject_kind == subject.kind,
                                                          CreditEvent.subject_id == subject.id)
                             .order_by(CreditEvent.occurred_on.desc(), CreditEvent.id.desc())).all())


def has_false_commitment(session: Session, *, subject: Subject) -> bool:
    return session.exec(sm_select(CreditEvent.id).where(
        CreditEvent.subject_kind == subject.kind, CreditEvent.subject_id == subject.id,
        CreditEvent.kind == "false_commitment", CreditEvent.annulled_at.is_(None)).limit(1)).first() is not None


# Findings staff record by hand (the others come from the bills, the spot checks and the list).
FINDING_KINDS = ("fraud_finding", "correction_made")


def record_finding(session: Session, *, actor: Actor, subject: Subject | None, kind: str, occurred_on: date | None,
                   note: str, now: datetime) -> CreditEvent:
    """A member of staff records a fraud finding, or a correction the subject made of its own accord, on the
    subject's credit record; the rating changes at once and the subject is told (and may object)."""
    principal = actor.principal
    if principal is None or principal.kind != "staff":
        raise PortalError(Msg(N_("Only staff can record a finding.")))
    errors: dict[str, Msg] = {}
    note = (note or "").strip()
    if subject is None or subject.kind not in SUBJECT_KINDS or _subject_row(session, subject) is None:
        errors["identifier"] = Msg(N_("No person or employer with that identifier was found."))
    if kind not in FINDING_KINDS:
        errors["kind"] = Msg(N_("Choose what was found."))
    if occurred_on is None:
        errors["occurred_on"] = Msg(N_("Enter the date of the finding."))
    if not note:
        errors["note"] = Msg(N_("Describe the finding, with the case or document it rests on."))
    elif len(note) > 500:
        errors["note"] = Msg(N_("Keep the text under %(count)s characters."), {"count": 500})
    if errors:
        raise ValidationFailed(errors)
    event = record_event(session, subject=subject, kind=kind, occurred_on=occurred_on, now=now,
                         staff_id=principal.account_id, note=note, actor=actor)
    notices.notify(session, recipient_kind=subject.kind, recipient_id=subject.id, now=now,
                   title=N_("A new event is on your credit record. Your credit page shows it and how to object."))
    return event


# --- the serious-dishonesty list ---------------------------------------------------------------------------


def list_rules(on: date) -> tuple[int, int]:
    value = param("dishonesty_list").at(on).value
    return int(value["statement_days"]), int(value["listing_years"])


def active_listing(session: Session, *, subject: Subject, on: date) -> DishonestyListing | None:
    return session.exec(sm_select(DishonestyListing).where(
        DishonestyListing.subject_kind == subject.kind, DishonestyListing.subject_id == subject.id,
        *_active_listing(on)).order_by(DishonestyListing.effective_on.desc())).first()


def listings_of(session: Session, *, subject: Subject) -> list[DishonestyListing]:
    return list(session.exec(sm_select(DishonestyListing).where(
        DishonestyListing.subject_kind == subject.kind, DishonestyListing.subject_id == subject.id)
        .order_by(DishonestyListing.proposed_at.desc())).all())


def recent_listings(session: Session, *, limit: int = 200) -> list[tuple[DishonestyListing, str, str]]:
    """Staff's list: the newest listings with each subject's name and identifier (credit code or identity number)."""
    listings = session.exec(sm_select(DishonestyListing).order_by(DishonestyListing.proposed_at.desc())
                            .limit(limit)).all()
    shown = []
    for listing in listings:
        subject = Subject(listing.subject_kind, listing.subject_id)
        row = _subject_row(session, subject)
        shown.append((listing, row.name, row.credit_code if subject.kind == "employer" else row.id_number))
    return shown


def subject_by_identifier(session: Session, *, identifier: str) -> Subject | None:
    """The employer with this credit code, else the person with this identity number, else None."""
    employer = session.exec(sm_select(Employer).where(Employer.credit_code == identifier)).first()
    if employer is not None:
        return Subject("employer", employer.id)
    person = session.exec(sm_select(Person).where(Person.id_number == identifier)).first()
    return Subject("person", person.id) if person is not None else None


def _subject_row(session: Session, subject: Subject) -> Person | Employer | None:
    return session.get(Person if subject.kind == "person" else Employer, subject.id)


def _prefecture(session: Session, subject: Subject) -> str:
    if subject.kind == "employer":
        employer = session.get(Employer, subject.id)
        return parties.prefecture_of(employer.region)
    return regions.prefecture_of_id_number(session.get(Person, subject.id).id_number)


def propose_listing(session: Session, *, actor: Actor, subject: Subject, trigger: str, finding: str,
                    token: str, now: datetime) -> DishonestyListing:
    """A member of staff proposes listing a subject; the subject is told and a second person decides."""
    errors: dict[str, Msg] = {}
    finding = (finding or "").strip()
    if trigger not in TRIGGERS:
        errors["trigger"] = Msg(N_("Choose the trigger of the listing."))
    if not finding:
        errors["finding"] = Msg(N_("Describe the finding the listing rests on."))
    elif len(finding) > MAX_STATEMENT:
        errors["finding"] = Msg(N_("Keep the text under %(count)s characters."), {"count": MAX_STATEMENT})
    if subject.kind not in SUBJECT_KINDS or _subject_row(session, subject) is None:
        errors["subject"] = Msg(N_("No person or employer with that identifier was found."))
    if errors:
        raise ValidationFailed(errors)
    principal = actor.principal
    if principal is None or principal.kind != "staff":
        raise PortalError(Msg(N_("Only staff can propose a listing.")))
    today = china_today(now)
    days, _years = list_rules(today)
    listing = DishonestyListing(subject_kind=subject.kind, subject_id=subject.id, trigger=trigger, finding=finding,
                                state="proposed", proposed_at=now, proposed_by=principal.account_id,
                                statement_until=today + timedelta(days=days))
    session.add(listing)
    session.flush()
    filed = queue.submit(session, kind=Kind.DISHONESTY_LISTING, applicant=parties.Applicant(subject.kind, subject.id),
                         payload={"listing_id": listing.id, "trigger": trigger, "finding": finding,
                                  "statement_until": listing.statement_until.isoformat()},
                         prefecture=_prefecture(session, subject), channel="counter", idempotency_key=token,
                         now=now, actor=actor, counter_staff_id=principal.account_id)
    listing.case_id = filed.id
    session.add(listing)
    notices.notify(session, recipient_kind=subject.kind, recipient_id=subject.id, case_id=filed.id, now=now,
                   title=N_("We intend to put you on the serious-dishonesty list (%(reference)s). You may state "
                            "your case until %(date)s: open your credit page."),
                   params={"reference": filed.reference, "date": listing.statement_until.isoformat()})
    audit.record(session=session, actor=actor, action="credit.listing_proposed", now=now, object_type=subject.kind,
                 object_id=subject.id, detail={"listing": listing.id, "trigger": trigger, "case": filed.reference})
    session.flush()
    return listing


def _listing_of_case(session: Session, case: Case) -> DishonestyListing | None:
    listing_id = cases.payload_of(case).get("listing_id")
    listing = session.get(DishonestyListing, listing_id) if isinstance(listing_id, int) else None
    if listing is None or (listing.subject_kind, listing.subject_id) != (case.applicant_kind, case.applicant_id):
        return None
    return listing


def statements_on(session: Session, *, listing: DishonestyListing) -> list[str]:
    """References of the objections in which the subject stated their case against this listing."""
    filed = session.exec(sm_select(Case).where(Case.kind == Kind.CREDIT_OBJECTION,
                                               Case.applicant_kind == listing.subject_kind,
                                               Case.applicant_id == listing.subject_id)).all()
    return [c.reference for c in filed if cases.payload_of(c).get("listing_id") == listing.id]


def check_listing(session: Session, *, case: Case, payload: dict) -> CheckResult:
    listing = _listing_of_case(session, case)
    if listing is None or listing.state not in ("proposed",):
        return CheckResult("listing_proposed", False, N_("The proposed listing was not found or is already decided."))
    stated = statements_on(session, listing=listing)
    if stated:
        return CheckResult("listing_proposed", True, N_("The subject stated their case in %(references)s: read it "
                                                        "before deciding."), {"references": ", ".join(stated)})
    return CheckResult("listing_proposed", True, N_("The subject was told of the proposal; the period to state "
                                                    "their case ends on %(date)s."),
                       {"date": listing.statement_until.isoformat()})


def apply_listing(session: Session, *, case: Case, approved: bool, now: datetime, note: str) -> None:
    """Approved: listed from the day after the statement period (or today, if later) for ``listing_years``."""
    listing = _listing_of_case(session, case)
    if listing is None or listing.state != "proposed":
        return
    today = china_today(now)
    listing.decided_at = now
    subject = Subject(listing.subject_kind, listing.subject_id)
    if not approved:
        listing.state = "rejected"
        session.add(listing)
        session.flush()
        return
    _days, years = list_rules(today)
    effective = max(today, listing.statement_until + timedelta(days=1))
    listing.state = "listed"
    listing.effective_on = effective
    listing.ends_on = rules.months_before(effective, -12 * years)
    session.add(listing)
    session.flush()
    record_event(session, subject=subject, kind="serious_dishonesty", occurred_on=effective, now=now,
                 case_id=case.id, note=listing.trigger)
    notices.notify(session, recipient_kind=subject.kind, recipient_id=subject.id, case_id=case.id, now=now,
                   title=N_("You are on the serious-dishonesty list from %(date)s. Your credit page says why and "
                            "how to be removed."), params={"date": effective.isoformat()})


def remove_listing(session: Session, *, listing_id: int, reason: str, actor: Actor, now: datetime) -> DishonestyListing:
    """Ends a listing: it leaves the public list; the row and its history stay."""
    listing = session.get(DishonestyListing, listing_id)
    if listing is None or listing.state != "listed":
        raise NotFound()
    if reason not in REMOVAL_REASONS:
        raise ValidationFailed({"reason": Msg(N_("Choose why the listing ends."))})
    listing.state = "removed"
    listing.removed_at = now
    listing.removal_reason = reason
    session.add(listing)
    session.flush()
    subject = Subject(listing.subject_kind, listing.subject_id)
    refresh(session, subject=subject, on=china_today(now), now=now)
    audit.record(session=session, actor=actor, action="credit.listing_removed", now=now, object_type=subject.kind,
                 object_id=subject.id, detail={"listing": listing.id, "reason": reason})
    notices.notify(session, recipient_kind=subject.kind, recipient_id=subject.id, now=now,
                   title=N_("You have been removed from the serious-dishonesty list."))
    return listing


@dataclass(frozen=True)
class PublicEntry:
    kind: str
    name: str
    identifier: str  # a credit code, or a masked identity number
    trigger: str
    effective_on: date
    ends_on: date


def mask_name(name: str) -> str:
    return name[:1] + "*" * max(1, len(name) - 1)


def mask_id_number(number: str) -> str:
    return number[:4] + "*" * 10 + number[-4:] if len(number) == 18 else "*" * len(number)


def public_list(session: Session, *, on: date) -> list[PublicEntry]:
    """The subjects listed on ``on``, as the regulation requires them published: persons masked."""
    rows = session.exec(sm_select(DishonestyListing).where(*_active_listing(on))
                        .order_by(DishonestyListing.effective_on.desc(), DishonestyListing.id)).all()
    entries = []
    for listing in rows:
        row = _subject_row(session, Subject(listing.subject_kind, listing.subject_id))
        if row is None:
            continue
        if listing.subject_kind == "employer":
            entries.append(PublicEntry("employer", row.name, row.credit_code, listing.trigger, listing.effective_on,
                                       listing.ends_on))
        else:
            entries.append(PublicEntry("person", mask_name(row.name), mask_id_number(row.id_number), listing.trigger,
                                       listing.effective_on, listing.ends_on))
    return entries


# --- objections ---------------------------------------------------------------------------------------------


def submit_objection(session: Session, *, actor: Actor, statement: str, token: str, now: datetime,
                     event_id: str = "", listing_id: str = "") -> Case:
    """The subject objects to an event of their record or to a (proposed) listing: a case for staff."""
    subject = subject_of(actor)
    statement = (statement or "").strip()
    errors: dict[str, Msg] = {}
    payload: dict = {}
    if event_id:
        event = session.get(CreditEvent, int(event_id)) if event_id.isdigit() else None
        if event is None or (event.subject_kind, event.subject_id) != (subject.kind, subject.id):
            errors["event_id"] = Msg(N_("Choose one of the events on your record."))
        else:
            payload |= {"event_id": event.id, "event_kind": event.kind, "occurred_on": event.occurred_on.isoformat()}
    elif listing_id:
        listing = session.get(DishonestyListing, int(listing_id)) if listing_id.isdigit() else None
        if listing is None or (listing.subject_kind, listing.subject_id) != (subject.kind, subject.id):
            errors["listing_id"] = Msg(N_("Choose one of your listings."))
        else:
            payload |= {"listing_id": listing.id, "trigger": listing.trigger}
    if not statement:
        errors["statement"] = Msg(N_("Say why you object."))
    elif len(statement) > MAX_STATEMENT:
        errors["statement"] = Msg(N_("Keep the text under %(count)s characters."), {"count": MAX_STATEMENT})
    if errors:
        raise ValidationFailed(errors)
    payload["statement"] = statement
    today = china_today(now)
    tier = rules.tier_of(grade_on(session, subject=subject, on=today), today)
    return queue.submit(session, kind=Kind.CREDIT_OBJECTION, applicant=actor, payload=payload,
                        prefecture=_prefecture(session, subject), idempotency_key=token, now=now, tier=tier)


def check_objection(session: Session, *, case: Case, payload: dict) -> CheckResult:
    event_id, listing_id = payload.get("event_id"), payload.get("listing_id")
    if isinstance(event_id, int):
        event = session.get(CreditEvent, event_id)
        if event is None or (event.subject_kind, event.subject_id) != (case.applicant_kind, case.applicant_id):
            return CheckResult("objection_subject", False, N_("The event objected to is not on the applicant's record."))
        if event.annulled_at is not None:
            return CheckResult("objection_subject", False, N_("The event objected to is already annulled."))
        return CheckResult("objection_subject", True, N_("The event objected to is on the applicant's record."))
    if isinstance(listing_id, int):
        listing = session.get(DishonestyListing, listing_id)
        if listing is None or (listing.subject_kind, listing.subject_id) != (case.applicant_kind, case.applicant_id):
            return CheckResult("objection_subject", False, N_("The listing objected to is not the applicant's."))
        return CheckResult("objection_subject", True, N_("The listing objected to is the applicant's."))
    return CheckResult("objection_subject", True, N_("A general objection: the handler reads the statement."))


def apply_objection(session: Session, *, case: Case, approved: bool, now: datetime, note: str) -> None:
    """Upheld: the event is annulled (it stays in the history, counting nothing), or the listing is withdrawn."""
    if not approved:
        return
    payload = cases.payload_of(case)
    subject = Subject(case.applicant_kind, case.applicant_id)
    if isinstance(payload.get("event_id"), int):
        event = session.get(CreditEvent, payload["event_id"])
        if event is not None and (event.subject_kind, event.subject_id) == (subject.kind, subject.id):
            event.annulled_at = now
            event.annulled_by_case_id = case.id
            session.add(event)
            session.flush()
    elif isinstance(payload.get("listing_id"), int):
        listing = session.get(DishonestyListing, payload["listing_id"])
        if listing is not None and (listing.subject_kind, listing.subject_id) == (subject.kind, subject.id):
            if listing.state == "listed":
                remove_listing(session, listing_id=listing.id, reason="objection_upheld", actor=SYSTEM, now=now)
            elif listing.state == "proposed":
                listing.state = "rejected"
                listing.decided_at = now
                session.add(listing)
                session.flush()
    refresh(session, subject=subject, on=china_today(now), now=now)


# --- what staff see on every case ------------------------------------------------------------------------------


@dataclass(frozen=True)
class History:
    subject: Subject
    rating: rules.Rating
    events: list[CreditEvent]
    listings: list[DishonestyListing]
    evidence: list[CommitmentEvidence]  # commitments given on this case
    past_false: int  # commitments of this subject found false
    notices: dict  # evidence id → the notice version it names (portal.policy.commitments.NoticeVersion)


def history_for_case(session: Session, *, case: Case, on: date) -> History:
    subject = Subject(case.applicant_kind, case.applicant_id)
    evidence = list(session.exec(sm_select(CommitmentEvidence).where(CommitmentEvidence.case_id == case.id)
                                 .order_by(CommitmentEvidence.id)).all())
    past_false = session.exec(sm_select(func.count()).select_from(CommitmentEvidence).where(
        CommitmentEvidence.subject_kind == subject.kind, CommitmentEvidence.subject_id == subject.id,
        CommitmentEvidence.found_false_at.is_not(None))).one()
    notices = {e.id: commitment_catalogue.version(e.item, e.notice_version) for e in evidence}
    return History(subject, rating_of(session, subject=subject, on=on), stored_events(session, subject=subject),
                   listings_of(session, subject=subject), evidence, past_false, notices)


KIND_SPECS = (
    KindSpec(Kind.CREDIT_OBJECTION, checks=(check_objection,), effect=apply_objection,
             shown=frozenset({"event_id", "event_kind", "occurred_on", "listing_id", "trigger", "statement"})),
    KindSpec(Kind.DISHONESTY_LISTING, checks=(check_listing,), effect=apply_listing,
             shown=frozenset({"listing_id", "trigger", "finding", "statement_until"})),
)
