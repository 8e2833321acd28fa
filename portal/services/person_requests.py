"""People's own requests to the handling queue: a correction of their record, an exception to flexible enrolment.

Both become cases (``portal.queue.service.submit``); their automatic checks and what an approval does are
defined here and declared in ``KIND_SPECS`` at the end, which start-up registers (``portal.assembly``), as
``applications`` does for employers' requests.

A record correction (参保信息更正) names the months concerned, what is wrong and the details. The
handler compares it with the employer's filings and payments; the approval is the decision the
applicant is told about, and the correction itself is made through the filing it concerns (an
employer's back payment, a transfer-in), so approving changes no contribution row by itself.

A flexible enrolment exception (灵活就业参保例外) covers the two refusals an office can lift after
checking the facts: an employment still open on the record although it has ended (the employer
closed or never reported 减员), and a person past the statutory retirement age who has not yet
contributed the minimum months and asks to keep paying until they have (延长缴费). Approval does
what the person could not do online: it ends the open employment the month before the start, and
enrols them from the start month with the base percent they chose.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, select

from portal import audit, clock, i18n
from portal.auth.principal import SYSTEM, Actor
from portal.errors import N_, Conflict, Forbidden, Msg, ValidationFailed
from portal.identifiers import InvalidIdentifier, parse_resident_id
from portal.models import (
    ContributionMonth,
    Employer,
    EmploymentSpell,
    FlexibleBaseChoice,
    FlexibleEnrolment,
    Person,
)
from portal.models.queue import Case
from portal.policy import regions
from portal.policy.contribution_year import contribution_year
from portal.policy.dates import add_months, fmt_month, month_of, parse_month
from portal.policy.parameters import param
from portal.policy.rules.retirement import retirement
from portal.queue import cases, parties
from portal.queue import service as queue
from portal.queue.kinds import CheckResult, Kind, KindSpec
from portal.services import commitments, credit, enrolment, supervision
from portal.services.accounts import ID_MESSAGES, person_of

MAX_DETAILS = 1000
MAX_MONTHS = 120
# What may be wrong in the record, in the order the form offers them.
CORRECTIONS = ("missing", "wrong_base", "wrong_employer", "other")
# The refusals an office may lift, and the ones it may not (too young, already enrolled).
EXCEPTIONS = ("open_spell", "over_age")
EXCEPTION_COMMITMENT = "flexible_no_employer"  # the commitment catalogue's item (portal/policy/data/commitments.yaml)
CORRECTION_COMMITMENT = "employment_history"
# What a person signs on paper before the member of staff filing their request at a counter (online, the catalogue's
# notice is confirmed with the card's face check instead).
COMMITMENT = N_("I confirm the statements are true and accept the consequences of a false commitment.")
# A person whose identity number names no prefecture of the province is handled by the provincial centre.
PROVINCIAL_CENTRE = "220100"


@dataclass(frozen=True)
class Filing:
    """Who files a person's request: the person online, or a member of staff at a service counter for them."""

    person: Person
    applicant: parties.Applicant
    actor: Actor  # who is acting, for the audit log
    channel: str = "web"
    counter_staff_id: int | None = None

    def submit(self, session: Session, *, kind: str, payload: dict, token: str, now: datetime,
               committed: Committed | None = None) -> Case:
        """Files the request at the person's risk tier (their credit grade: portal/services/supervision.py), with
        the commitment's evidence or the documents proving instead (``committed``)."""
        today = now.astimezone(clock.CHINA).date()
        tier = supervision.assess(session, subject=credit.Subject("person", self.person.id), kind=kind, on=today).tier
        if committed is not None and committed.entry is not None:
            payload = payload | {"commitment": committed.entry}
        case = queue.submit(session, kind=kind, applicant=self.applicant, payload=payload,
                            prefecture=prefecture_of(session, person=self.person), channel=self.channel,
                            idempotency_key=token, now=now, actor=self.actor,
                            counter_staff_id=self.counter_staff_id, tier=tier,
                            uploads=list(committed.uploads) if committed is not None and committed.uploads else None)
        if committed is not None and committed.confirmation is not None:
            commitments.keep_evidence(session, case=case, confirmation=committed.confirmation, actor=self.actor)
        return case


@dataclass(frozen=True)
class Committed:
    """A request's commitment, once checked: what the case's details carry, the evidence to keep, or the proof."""

    entry: dict | None  # the payload's "commitment"; None when proven with documents
    confirmation: commitments.Confirmation | None = None
    uploads: tuple = ()


def check_commitment(session: Session, *, filing: Filing, commitment: bool, offer: commitments.Offer | None,
                     errors: dict[str, Msg], today: date) -> None:
    """Online: the catalogue's choice (commit, or prove with documents; only proof for whoever may not commit).
    At a counter: the commitment signed on paper before the member of staff."""
    if filing.channel == "counter":
        if not commitment:
            errors["commitment"] = Msg(N_("Confirm the commitment to submit the request."))
        return
    eligible = commitments.eligibility(session, subject=credit.Subject("person", filing.person.id), on=today)
    commitments.check_offer(offer, eligible=eligible, errors=errors)


def commit(session: Session, *, filing: Filing, item: str, offer: commitments.Offer | None, now: datetime,
           today: date) -> Committed:
    """After ``check_commitment`` passed: the card's face check confirms the notice (ValidationFailed at ``mode``
    for a session without it)."""
    if filing.channel == "counter" or offer is None:
        return Committed(_commitment(now, filing))
    confirmation = commitments.confirm_offer(session, actor=filing.actor, item=item, offer=offer, now=now,
                                             today=today)
    if confirmation is not None:
        return Committed(commitments.payload_entry(confirmation), confirmation)
    return Committed(None, uploads=tuple(offer.uploads))


def online(session: Session, *, actor: Actor) -> Filing:
    """The signed-in person filing for themselves."""
    person = person_of(session, actor=actor)
    return Filing(person=person, applicant=parties.applicant_of(actor), actor=actor)


def at_counter(session: Session, *, staff: Actor, id_number: str, today: date) -> Filing:
    """A member of staff filing at a counter for the person with this identity number (who signs on paper).

    The member of staff is recorded on the case, and the queue never lets them handle it (maker and checker).
    """
    principal = staff.principal
    if principal is None or principal.kind != "staff":
        raise Forbidden()
    try:
        number = parse_resident_id(id_number, today=today).number
    except InvalidIdentifier as error:
        raise ValidationFailed({"id_number": Msg(ID_MESSAGES[error.code])}) from None
    person = session.exec(select(Person).where(Person.id_number == number)).first()
    if person is None:
        raise ValidationFailed({"id_number": Msg(N_("No insured person has this identity number. Check it with "
                                                    "the applicant's identity card."))})
    return Filing(person=person, applicant=parties.Applicant("person", person.id, None), actor=staff,
                  channel="counter", counter_staff_id=principal.account_id)


def prefecture_of(session: Session, *, person: Person) -> str:
    """Where the person's requests are handled: their latest employer's prefecture, else their birthplace's."""
    region = session.exec(select(Employer.region).join(EmploymentSpell, EmploymentSpell.employer_id == Employer.id)
                          .where(EmploymentSpell.person_id == person.id)
                          .order_by(EmploymentSpell.start_month.desc())).first()
    return prefecture_from(person, employer_region=region)


def prefecture_from(person: Person, *, employer_region: str | None) -> str:
    """``prefecture_of`` when the latest employer's area is already known (a record read carries it)."""
    region = employer_region
    if region in parties.PREFECTURES:
        return region
    birthplace = regions.prefecture_of_id_number(person.id_number)
    return birthplace if birthplace in parties.PREFECTURES else PROVINCIAL_CENTRE


def _commitment(now: datetime, filing: Filing) -> dict:
    signed = {"accepted": True, "text": i18n.gettext(COMMITMENT), "at": now.isoformat()}
    if filing.channel == "counter":
        signed["signed_on_paper"] = True  # before the member of staff who filed it
    return signed


def _details(text: str, errors: dict[str, Msg], *, required: bool) -> str:
    text = (text or "").strip()
    if required and not text:
        errors["details"] = Msg(N_("Describe what is wrong, with anything that helps staff check it."))
    elif len(text) > MAX_DETAILS:
        errors["details"] = Msg(N_("Keep the details under %(count)s characters."), {"count": MAX_DETAILS})
    return text


# --- a correction of the record ------------------------------------------------------------------------------


def parse_months(text: str) -> list[date] | None:
    """Months written as YYYY-MM, separated by commas, spaces or new lines; a range as YYYY-MM to YYYY-MM."""
    found: set[date] = set()
    for part in (text or "").replace("，", ",").replace("、", ",").replace("\n", ",").split(","):
        words = part.replace("至", " to ").replace("–", " to ").split()
        if not words:
            continue
        try:
            if len(words) == 3 and words[1] == "to":
                first, last = parse_month(words[0]), parse_month(words[2])
                if last < first:
                    return None
                month = first
                while month <= last and len(found) <= MAX_MONTHS:
                    found.add(month)
                    month = add_months(month, 1)
            else:
                found.update(parse_month(word) for word in words)
        except ValueError:
            return None
    return sorted(found)


def submit_correction(session: Session, *, filing: Filing, what: str, months: str, details: str, token: str,
                      now: datetime, today: date, commitment: bool = False,
                      offer: commitments.Offer | None = None) -> Case:
    """Ask for the record to be corrected; nothing is created when any field is wrong.

    Online, the employment history is committed to through the catalogue (``employment_history``) or proven with
    documents (``offer``); at a counter the commitment is signed on paper (``commitment``).
    """
    errors: dict[str, Msg] = {}
    if what not in CORRECTIONS:
        errors["what"] = Msg(N_("Choose what is wrong in your record."))
    chosen = parse_months(months)
    if chosen is None or not chosen:
        errors["months"] = Msg(N_("Enter the months concerned as YYYY-MM, for example 2019-03, 2019-04, or a range "
                                  "as 2019-03 to 2019-08."))
    elif len(chosen) > MAX_MONTHS:
        errors["months"] = Msg(N_("Name at most %(count)s months in one request."), {"count": MAX_MONTHS})
    elif chosen[-1] > month_of(today):
        errors["months"] = Msg(N_("The months concerned cannot be in the future."))
    text = _details(details, errors, required=True)
    check_commitment(session, filing=filing, commitment=commitment, offer=offer, errors=errors, today=today)
    if errors:
        raise ValidationFailed(errors)
    committed = commit(session, filing=filing, item=CORRECTION_COMMITMENT, offer=offer, now=now, today=today)
    payload = {"what": what, "months": [fmt_month(month) for month in chosen], "details": text}
    return filing.submit(session, kind="enrolment_correction", payload=payload, token=token, now=now,
                         committed=committed)


def check_correction(session: Session, *, case: Case, payload: dict) -> CheckResult:
    given = payload.get("months")
    months = [m for m in given if isinstance(m, str)] if isinstance(given, list) else []
    try:
        parsed = [parse_month(month) for month in months]
    except ValueError:
        parsed = []
    if not parsed or payload.get("what") not in CORRECTIONS:
        return CheckResult("correction_months", False, N_("The request names no valid months or no kind of error."))
    recorded = session.exec(select(func.count(func.distinct(ContributionMonth.month))).where(
        ContributionMonth.person_id == case.applicant_id, ContributionMonth.month.in_(parsed))).one()
    return CheckResult("correction_months", True, N_("%(recorded)s of the %(count)s months named are on the record."),
                       {"recorded": recorded, "count": len(parsed)})


# --- an exception to flexible enrolment ------------------------------------------------------------------------


def _open_spell(session: Session, person_id: int) -> EmploymentSpell | None:
    return session.exec(select(EmploymentSpell).where(EmploymentSpell.person_id == person_id,
                                                      EmploymentSpell.end_month.is_(None))).first()


def _paid_months(session: Session, person_id: int) -> int:
    return session.exec(select(func.count(func.distinct(ContributionMonth.month))).where(
        ContributionMonth.person_id == person_id, ContributionMonth.status == "paid")).one()


def _minimum_months(person: Person) -> tuple[date, int]:
    rules = retirement(person.birth_date, enrolment.retirement_category(person))
    return rules.statutory_month, rules.min_contribution_months


def exception_grounds(session: Session, *, person: Person, month: date) -> str | None:
    """Which refusal an office could lift for ``person`` enrolling from ``month``, or None."""
    if session.exec(select(FlexibleEnrolment.id).where(FlexibleEnrolment.person_id == person.id,
                                                       FlexibleEnrolment.end_month.is_(None))).first():
        return None
    ineligible = enrolment.insurable_problem(session, person=person, month=month)
    if ineligible is not None and ineligible.code != "over_age":
        return None  # too young, drawing a pension or deceased: no office can lift that
    statutory, minimum = _minimum_months(person)
    if month >= statutory:
        return "over_age" if _paid_months(session, person.id) < minimum else None
    if _open_spell(session, person.id) is not None:
        return "open_spell"
    return None


def start_options(today: date) -> list[date]:
    return [month_of(today), add_months(month_of(today), 1)]


def submit_exception(session: Session, *, filing: Filing, start_month: str, base_percent: int | None, details: str,
                     token: str, now: datetime, today: date, commitment: bool = False,
                     offer: commitments.Offer | None = None) -> Case:
    """Ask the office to enrol the person although the online enrolment refused them.

    Online, the commitment is the catalogue's ``flexible_no_employer`` notice confirmed (``offer``, with the card's
    face check) and its evidence is kept, or the proof is attached instead; at a counter
    it is signed on paper (``commitment``).
    """
    person = filing.person
    errors: dict[str, Msg] = {}
    try:
        start = parse_month(start_month)
    except ValueError:
        start = None
    if start not in start_options(today):
        errors["start_month"] = Msg(N_("Enrolment starts this month or next month."))
        start = month_of(today)
    bounds = param("flexible_base_percent").at(start).value
    if base_percent is None or not bounds["min"] <= base_percent <= bounds["max"]:
        errors["base_percent"] = Msg(N_("Choose a whole percent from %(min)s to %(max)s."),
                                     {"min": bounds["min"], "max": bounds["max"]})
    text = _details(details, errors, required=True)
    check_commitment(session, filing=filing, commitment=commitment, offer=offer, errors=errors, today=today)
    if errors:
        raise ValidationFailed(errors)
    grounds = exception_grounds(session, person=person, month=start)
    if grounds is None:
        raise Conflict(Msg(N_("There is nothing for the office to lift: enrol online, or read why you cannot.")))
    committed = commit(session, filing=filing, item=EXCEPTION_COMMITMENT, offer=offer, now=now, today=today)
    payload = {"reason": grounds, "start_month": fmt_month(start), "base_percent": base_percent, "details": text}
    if grounds == "open_spell":
        spell = _open_spell(session, person.id)
        payload["open_spell_since"] = fmt_month(spell.start_month)
    return filing.submit(session, kind="flexible_exception", payload=payload, token=token, now=now,
                         committed=committed)


def check_exception(session: Session, *, case: Case, payload: dict) -> CheckResult:
    person = session.get(Person, case.applicant_id)
    try:
        start = parse_month(str(payload.get("start_month", "")))
    except ValueError:
        start = None
    if person is None or start is None:
        return CheckResult("exception_grounds", False, N_("The request names no start month."))
    grounds = exception_grounds(session, person=person, month=start)
    if grounds != payload.get("reason"):
        return CheckResult("exception_grounds", False, N_("The grounds given no longer hold: check the record."))
    if grounds == "over_age":
        statutory, minimum = _minimum_months(person)
        return CheckResult("exception_grounds", True,
                           N_("Past the statutory age (%(month)s) with %(paid)s paid months of the %(minimum)s needed."),
                           {"month": fmt_month(statutory), "paid": _paid_months(session, person.id),
                            "minimum": minimum})
    spell = _open_spell(session, person.id)
    if spell.start_month >= start:
        return CheckResult("exception_grounds", False,
                           N_("The open employment starts on or after the start month asked for."))
    return CheckResult("exception_grounds", True, N_("An employment since %(month)s is still open on the record."),
                       {"month": fmt_month(spell.start_month)})


def apply_exception(session: Session, *, case: Case, approved: bool, now: datetime, note: str) -> None:
    """On approval: end the open employment the month before the start, and enrol from the start month."""
    if not approved:
        return
    person = session.get(Person, case.applicant_id)
    payload = cases.payload_of(case)
    start = parse_month(payload["start_month"])
    if person is None or exception_grounds(session, person=person, month=start) is None:
        return  # enrolled meanwhile, or the grounds went away: nothing left to do
    spell = _open_spell(session, person.id)
    if spell is not None and spell.start_month >= start:
        return  # the automatic check says so too: an employment cannot end before it began
    if spell is not None:
        spell.end_month = add_months(start, -1)
        spell.end_reason = "other"
        session.add(spell)
    enrolled = FlexibleEnrolment(person_id=person.id, start_month=start, created_at=now)
    session.add(enrolled)
    session.flush()
    session.add(FlexibleBaseChoice(enrolment_id=enrolled.id, contribution_year=contribution_year(start),
                                   base_percent=int(payload["base_percent"]), created_at=now))
    session.flush()
    audit.record(session=session, actor=SYSTEM, action="flexible.enrolled_by_exception", now=now,
                 object_type="flexible_enrolment", object_id=enrolled.id,
                 detail={"case": case.reference, "start_month": payload["start_month"],
                         "ended_spell": spell.id if spell is not None else None})


def revoke_correction(session: Session, *, case: Case, now: datetime) -> None:
    """A correction found to rest on a false employment history: the approval is withdrawn. An approval changes
    nothing by itself (the record is corrected through the filing it concerns), so nothing is undone here; the
    revocation is on the case and in the audit log for staff to reverse that filing."""
    audit.record(session=session, actor=SYSTEM, action="correction.revoked", now=now, object_type="case",
                 object_id=case.reference, detail={"months": cases.payload_of(case).get("months")})


def revoke_exception(session: Session, *, case: Case, now: datetime) -> None:
    """An exception granted on a false declaration of no employer: the flexible enrolment it opened ends this
    month (contributions already paid stay on the record) and the employment it closed is open again."""
    payload = cases.payload_of(case)
    try:
        start = parse_month(str(payload.get("start_month", "")))
    except ValueError:
        return
    this_month = month_of(now.astimezone(clock.CHINA).date())
    enrolled = session.exec(select(FlexibleEnrolment).where(
        FlexibleEnrolment.person_id == case.applicant_id, FlexibleEnrolment.start_month == start,
        FlexibleEnrolment.end_month.is_(None))).first()
    if enrolled is not None:
        enrolled.end_month = max(start, this_month)
        enrolled.end_reason = "revoked"
        session.add(enrolled)
    reopened = None
    if payload.get("open_spell_since") and _open_spell(session, case.applicant_id) is None:
        ended = session.exec(select(EmploymentSpell).where(
            EmploymentSpell.person_id == case.applicant_id, EmploymentSpell.end_month == add_months(start, -1),
            EmploymentSpell.start_month == parse_month(str(payload["open_spell_since"])))).first()
        if ended is not None:
            ended.end_month, ended.end_reason = None, ""
            session.add(ended)
            reopened = ended.id
    session.flush()
    audit.record(session=session, actor=SYSTEM, action="flexible.exception_revoked", now=now, object_type="case",
                 object_id=case.reference, detail={"enrolment": enrolled.id if enrolled is not None else None,
                                                   "reopened_spell": reopened})


KIND_SPECS = (
    KindSpec(Kind.ENROLMENT_CORRECTION, checks=(check_correction,), shown=frozenset({"months", "what", "details"}),
             commitments=(CORRECTION_COMMITMENT,), revoke=revoke_correction),
    KindSpec(Kind.FLEXIBLE_EXCEPTION, checks=(check_exception,), effect=apply_exception,
             shown=frozenset({"reason", "details", "start_month", "base_percent", "open_spell_since"}),
             commitments=(EXCEPTION_COMMITMENT,), revoke=revoke_exception),
)
