"""Enrolment: employers add (增员) and end (减员) employment spells; flexible workers enrol and choose a base.

Rules: a person has at most one open enterprise spell, and spells never overlap; a clash names the month
the other spell started but never the other employer. An operator acts only for their own employer. Whoever
enrols a person, an employer (增员) or the person as a flexible worker, ``insurable_problem`` decides whether
the person may be insured from a month: of working age (from 16 to the statutory retirement month of the
policy engine), not drawing a pension, not recorded as deceased. A flexible worker must also have no open
employee spell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, or_
from sqlmodel import Session, select

from portal import audit
from portal.auth.principal import Actor
from portal.errors import N_, Conflict, Forbidden, Msg, NotFound, ValidationFailed
from portal.identifiers import InvalidIdentifier, parse_resident_id
from portal.models import (
    Bill,
    ContributionMonth,
    Employer,
    EmploymentSpell,
    FlexibleBaseChoice,
    FlexibleEnrolment,
    Person,
)
from portal.policy.contribution_year import contribution_year, first_month
from portal.policy.dates import add_months, fmt_month, month_of
from portal.policy.errors import PolicyInputError
from portal.policy.money import from_fen, to_fen
from portal.policy.parameters import param
from portal.policy.rules.contribution import flexible_base_allowed, flexible_base_bounds
from portal.policy.rules.retirement import REFORM_START, retirement
from portal.services import accounts, identity
from portal.services.accounts import ID_MESSAGES, MINIMUM_AGE, NAME

END_REASONS = ("resigned", "dismissed", "contract_ended", "retired", "died", "transferred", "other")
# A declared wage above this many times the month's base cap is refused as implausible (a typing error
# such as an annual figure or extra zeros); it is a plausibility check on input, not a policy figure.
PLAUSIBLE_CAP_MULTIPLE = 10
# Likewise a wage below this percent of the month's base floor (about 400 yuan in 2026): a figure typed in
# thousands or ten-thousands of yuan. Wages between it and the floor are real (part-time work) and raised to it.
PLAUSIBLE_FLOOR_PERCENT = 10


def _operator_employer(session: Session, actor: Actor) -> Employer:
    return accounts.employer_of(session, actor=actor, verified=True)


def _own_person(actor: Actor) -> int:
    principal = actor.principal
    if principal is None or principal.kind != "person" or not principal.person_id:
        raise Forbidden()
    return principal.person_id


def _age_in_months(birth: date, month: date) -> int:
    return (month.year - birth.year) * 12 + (month.month - birth.month)


def parse_wage(value: object) -> Decimal | None:
    """A wage typed by a person: a positive amount in yuan with at most two decimals, else None."""
    if isinstance(value, Decimal):
        amount = value
    else:
        text_value = str(value or "").strip().replace(",", "")
        if not re.fullmatch(r"\d{1,9}(\.\d{1,2})?", text_value):
            return None
        try:
            amount = Decimal(text_value)
        except InvalidOperation:
            return None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        return None
    return amount


def wage_problem(wage: Decimal | None, month: date) -> Msg | None:
    """Why a declared monthly wage is refused (not positive, not in fen, or implausibly large or small)."""
    if wage is None:
        return Msg(N_("Enter the monthly wage in yuan, such as 5200 or 5200.50."))
    cap = param("base_cap").at(month).value
    if wage > cap * PLAUSIBLE_CAP_MULTIPLE:
        return Msg(N_("This wage is implausibly high for a month. Enter the monthly wage, not the yearly one."))
    if wage * 100 < param("base_floor").at(month).value * PLAUSIBLE_FLOOR_PERCENT:
        return Msg(N_("This wage is implausibly low for a month. Enter the monthly wage in yuan, not in thousands "
                      "or ten-thousands of yuan."))
    return None


# --- Who may be insured ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ineligible:
    """Why a person may not be insured from a month; ``code`` picks the door's wording."""

    code: str  # too_young | over_age | pensioner | deceased
    params: dict


# The same refusals in the words of each door: an employer enrolling someone, a person enrolling themselves.
EMPLOYER_WORDS = {
    "too_young": N_("The person is younger than %(age)s in that month."),
    "over_age": N_("This person reaches the statutory retirement age in %(month)s, so they cannot be enrolled "
                   "from this month."),
    "pensioner": N_("This person retired in %(month)s and draws a pension, so they cannot be enrolled again."),
    "deceased": N_("Our records say this person died in %(month)s. Check the identity number; if the record is "
                   "wrong, ask the office to correct it."),
}
OWN_WORDS = {
    "too_young": N_("You must be at least %(age)s years old to enrol."),
    "over_age": N_("You reach the statutory retirement age in %(month)s, so you cannot enrol from this month."),
    "pensioner": N_("You retired in %(month)s and draw a pension, so you cannot enrol again."),
    "deceased": N_("Our records do not allow enrolment for this identity number. Ask the office."),
}


def retirement_category(person: Person) -> str:
    # Women are checked against the women cadres' original age (55), the later of the two women's ages: the
    # portal does not know a woman's post, and refusing a woman worker past 50 who may still be insured would
    # be wrong, while 55 is past any woman's statutory age. Women insured as individuals (灵活就业) are treated
    # like women cadres too, as is usual practice for individual contributors; unconfirmed for Jilin.
    return "male" if person.sex == "male" else "female_cadre"


def insurable_problem(session: Session, *, person: Person, month: date) -> Ineligible | None:
    """Why ``person`` may not be insured from ``month`` through any door, or None. ``person`` may be new
    (not yet saved): then only their identity number's birth date and sex count."""
    if _age_in_months(person.birth_date, month) < MINIMUM_AGE * 12:
        return Ineligible("too_young", {"age": MINIMUM_AGE})
    if person.id is not None:
        ended = session.exec(select(EmploymentSpell).where(
            EmploymentSpell.person_id == person.id, EmploymentSpell.end_reason.in_(("retired", "died")))
            .order_by(EmploymentSpell.end_month.desc())).first()
        if ended is not None:
            code = "pensioner" if ended.end_reason == "retired" else "deceased"
            return Ineligible(code, {"month": fmt_month(ended.end_month)})
    statutory = statutory_month(person)
    if month >= statutory:
        return Ineligible("over_age", {"month": fmt_month(statutory)})
    return None


def statutory_month(person: Person) -> date:
    """The person's statutory retirement month, from the policy engine."""
    category = retirement_category(person)
    try:
        return retirement(person.birth_date, category).statutory_month
    except PolicyInputError:
        # Reached the age before the policy tables begin (born before about 1938): the original age applies.
        years = param("retirement_original_age").at(REFORM_START).value[category]
        return add_months(month_of(person.birth_date), years * 12)


def _words(problem: Ineligible, words: dict[str, str]) -> Msg:
    return Msg(words[problem.code], problem.params)


def month_bounds(today: date) -> tuple[date, date]:
    """The months an employment may start or end in: from the first month of the personal accounts to next month."""
    return param("account_start_month").at(month_of(today)).value, add_months(month_of(today), 1)


def add_employee(
    session: Session, *, actor: Actor, id_number: str, name: str, start_month: date, wage: object,
    now: datetime, today: date, mobile: str = "",
) -> EmploymentSpell:
    """增员: opens an employment spell at the operator's employer (creating the person if unknown).

    A mobile number given becomes the number on record, where the codes that prove the person's online account
    are sent (unless a service counter recorded one)."""
    employer = _operator_employer(session, actor)
    errors: dict[str, Msg] = {}
    try:
        resident = parse_resident_id(id_number, today=today)
    except InvalidIdentifier as error:
        errors["id_number"] = Msg(ID_MESSAGES[error.code])
        resident = None
    name = (name or "").strip()
    if not name or not NAME.match(name):
        errors["name"] = Msg(N_("Enter the name as it is written on the identity card."))
    start_month = month_of(start_month)
    first_month, last_month = month_bounds(today)
    if not first_month <= start_month <= last_month:
        errors["start_month"] = Msg(N_("Choose a start month from %(first)s to next month."),
                                    {"first": fmt_month(first_month)})
    amount = parse_wage(wage)
    problem = wage_problem(amount, start_month) if "start_month" not in errors else None
    if problem:
        errors["wage"] = problem
    mobile = (mobile or "").strip()
    problem = identity.mobile_problem(mobile)
    if problem:
        errors["mobile"] = problem
    person = None
    if resident is not None:
        person = session.exec(select(Person).where(Person.id_number == resident.number)).first()
    if resident is not None and "start_month" not in errors:
        candidate = person or Person(id_number=resident.number, name=name, birth_date=resident.birth_date,
                                     sex=resident.sex)
        ineligible = insurable_problem(session, person=candidate, month=start_month)
        if ineligible is not None:
            field_name = "start_month" if ineligible.code in ("too_young", "over_age") else "id_number"
            errors[field_name] = _words(ineligible, EMPLOYER_WORDS)
    if errors:
        raise ValidationFailed(errors)

    if person is not None and person.name != name:
        raise ValidationFailed({"name": Msg(N_("The name does not match our records for this identity number."))})
    if person is None:
        person = Person(id_number=resident.number, name=name, birth_date=resident.birth_date, sex=resident.sex,
                        created_at=now)
        session.add(person)
        session.flush()
    clash = session.exec(
        select(EmploymentSpell).where(
            EmploymentSpell.person_id == person.id,
            or_(EmploymentSpell.end_month.is_(None), EmploymentSpell.end_month >= start_month),
        ).order_by(EmploymentSpell.start_month.desc())
    ).first()
    if clash is not None:
        if clash.end_month is None:
            message = Msg(N_("This person already has an open employment that started in %(month)s. It must be "
                             "ended before they can be added here."), {"month": fmt_month(clash.start_month)})
        else:
            message = Msg(N_("This person has an employment from %(start)s to %(end)s; choose a start month "
                             "after it."), {"start": fmt_month(clash.start_month), "end": fmt_month(clash.end_month)})
        raise Conflict(message)
    spell = EmploymentSpell(person_id=person.id, employer_id=employer.id, start_month=start_month,
                            wage_fen=to_fen(amount), created_at=now)
    session.add(spell)
    flexible = session.exec(select(FlexibleEnrolment).where(FlexibleEnrolment.person_id == person.id,
                                                            FlexibleEnrolment.end_month.is_(None))).first()
    if flexible is not None:
        # Employment ends flexible contributions; billing never bills both for one month either.
        flexible.end_month = max(flexible.start_month, add_months(start_month, -1))
        flexible.end_reason = "employed"
        session.add(flexible)
    session.flush()
    audit.record(session=session, actor=actor, action="employment.added", now=now, object_type="employment_spell",
                 object_id=spell.id, detail={"person_id": person.id, "start_month": fmt_month(start_month)})
    identity.set_record_mobile(session, person=person, mobile=mobile, source="enrolment", actor=actor, now=now)
    return spell


def already_billed(session: Session, *, spell: EmploymentSpell) -> tuple[date, date] | None:
    """The first and last month from the spell's start whose bill the employer has already been issued, or None.
    The new employee's contributions for those months go on supplementary bills (``billing.run_billing``)."""
    first, last = session.exec(select(func.min(Bill.month), func.max(Bill.month)).where(
        Bill.payer_kind == "employer", Bill.payer_id == spell.employer_id, Bill.month >= spell.start_month)).one()
    return None if first is None else (first, last)


def end_spell(
    session: Session, *, actor: Actor, spell_id: int, end_month: date, reason: str, now: datetime, today: date,
) -> EmploymentSpell:
    """减员: ends one of the operator's own employer's open spells (``end_month`` is the last month covered)."""
    employer = _operator_employer(session, actor)
    spell = session.get(EmploymentSpell, spell_id)
    if spell is None or spell.employer_id != employer.id:
        raise NotFound()
    if spell.end_month is not None:
        raise Conflict(Msg(N_("This employment has already ended.")))
    errors: dict[str, Msg] = {}
    end_month = month_of(end_month)
    if end_month < spell.start_month:
        errors["end_month"] = Msg(N_("The end month cannot be before the start month (%(month)s)."),
                                  {"month": fmt_month(spell.start_month)})
    elif end_month > add_months(month_of(today), 1):
        errors["end_month"] = Msg(N_("Choose an end month no later than next month."))
    else:
        # Months already billed for this employment stay the employer's: ending before them would leave them
        # on its bill while a new employer could not file them. Earlier corrections go through the office.
        billed = session.exec(select(func.max(ContributionMonth.month)).where(
            ContributionMonth.person_id == spell.person_id, ContributionMonth.employer_id == employer.id,
            ContributionMonth.month >= spell.start_month)).one()
        if billed is not None and end_month < billed:
            errors["end_month"] = Msg(N_("Months up to %(month)s are already billed for this employee, so the "
                                         "employment can end in %(month)s at the earliest. To correct earlier "
                                         "months, ask the office."), {"month": fmt_month(billed)})
    if reason not in END_REASONS:
        errors["reason"] = Msg(N_("Choose why the employment ends."))
    if errors:
        raise ValidationFailed(errors)
    spell.end_month = end_month
    spell.end_reason = reason
    spell.ended_at = now
    session.add(spell)
    session.flush()
    audit.record(session=session, actor=actor, action="employment.ended", now=now, object_type="employment_spell",
                 object_id=spell.id, detail={"end_month": fmt_month(end_month), "reason": reason})
    return spell


@dataclass(frozen=True)
class EmployeeRow:
    spell: EmploymentSpell
    person: Person

    @property
    def wage(self) -> Decimal:
        return from_fen(self.spell.wage_fen)


def _employees_where(session: Session, actor: Actor, search: str, include_ended: bool) -> list:
    employer = _operator_employer(session, actor)
    conditions = [EmploymentSpell.employer_id == employer.id]
    if not include_ended:
        conditions.append(EmploymentSpell.end_month.is_(None))
    search = (search or "").strip()
    if search:
        conditions.append(or_(Person.name.contains(search), Person.id_number.startswith(search.upper())))
    return conditions


def employees(session: Session, *, actor: Actor, search: str = "", include_ended: bool = False, offset: int = 0,
              limit: int | None = None) -> list[EmployeeRow]:
    """The operator's own employer's employees, optionally filtered by name or identity number; ``limit`` of them
    from ``offset`` (a large employer's list is read a page at a time)."""
    query = (select(EmploymentSpell, Person).join(Person, Person.id == EmploymentSpell.person_id)
             .where(*_employees_where(session, actor, search, include_ended))
             .order_by(EmploymentSpell.start_month.desc(), EmploymentSpell.id).offset(offset))
    if limit is not None:
        query = query.limit(limit)
    return [EmployeeRow(spell, person) for spell, person in session.exec(query).all()]


def employee_count(session: Session, *, actor: Actor, search: str = "", include_ended: bool = False) -> int:
    """How many rows ``employees`` gives for the same filter."""
    return session.exec(select(func.count()).select_from(EmploymentSpell)
                        .join(Person, Person.id == EmploymentSpell.person_id)
                        .where(*_employees_where(session, actor, search, include_ended))).one()


# --- Flexible workers --------------------------------------------------------------------------------------


def flexible_eligibility_problem(session: Session, *, person: Person, month: date) -> Msg | None:
    """Why ``person`` may not enrol as a flexible worker from ``month``, or None."""
    ineligible = insurable_problem(session, person=person, month=month)
    if ineligible is not None:
        return _words(ineligible, OWN_WORDS)
    if session.exec(select(EmploymentSpell).where(EmploymentSpell.person_id == person.id,
                                                  EmploymentSpell.end_month.is_(None))).first():
        return Msg(N_("You are insured through an employer now. Flexible enrolment is possible once that employment ends."))
    if session.exec(select(FlexibleEnrolment).where(FlexibleEnrolment.person_id == person.id,
                                                    FlexibleEnrolment.end_month.is_(None))).first():
        return Msg(N_("You are already enrolled as a flexible worker."))
    return None


def _percent_problem(base_percent: object, month: date) -> Msg | None:
    if not flexible_base_allowed(base_percent, month):
        low, high = flexible_base_bounds(month)
        return Msg(N_("Choose a whole percent from %(min)s to %(max)s."), {"min": low, "max": high})
    return None


def enrol_flexible(
    session: Session, *, actor: Actor, start_month: date, base_percent: int, now: datetime, today: date,
) -> FlexibleEnrolment:
    """Enrols the signed-in person as a flexible worker from this month or the next."""
    person = session.get(Person, _own_person(actor))
    if person is None:
        raise NotFound()
    start_month = month_of(start_month)
    errors: dict[str, Msg] = {}
    if not month_of(today) <= start_month <= add_months(month_of(today), 1):
        errors["start_month"] = Msg(N_("Enrolment starts this month or next month."))
    else:
        problem = _percent_problem(base_percent, start_month)
        if problem:
            errors["base_percent"] = problem
    if errors:
        raise ValidationFailed(errors)
    problem = flexible_eligibility_problem(session, person=person, month=start_month)
    if problem:
        raise Conflict(problem)
    enrolment = FlexibleEnrolment(person_id=person.id, start_month=start_month, created_at=now)
    session.add(enrolment)
    session.flush()
    session.add(FlexibleBaseChoice(enrolment_id=enrolment.id, contribution_year=contribution_year(start_month),
                                   base_percent=base_percent, created_at=now))
    session.flush()
    audit.record(session=session, actor=actor, action="flexible.enrolled", now=now, object_type="flexible_enrolment",
                 object_id=enrolment.id, detail={"start_month": fmt_month(start_month), "base_percent": base_percent})
    return enrolment


def set_flexible_base_percent(
    session: Session, *, actor: Actor, contribution_year_start: int, base_percent: int, now: datetime, today: date,
) -> FlexibleBaseChoice:
    """Chooses the base percent for a contribution year (the current one or the next)."""
    person_id = _own_person(actor)
    enrolment = session.exec(select(FlexibleEnrolment).where(FlexibleEnrolment.person_id == person_id,
                                                             FlexibleEnrolment.end_month.is_(None))).first()
    if enrolment is None:
        raise Conflict(Msg(N_("You are not enrolled as a flexible worker.")))
    current = contribution_year(month_of(today))
    if contribution_year_start not in (current, current + 1):
        raise ValidationFailed({"contribution_year": Msg(N_("Choose the current or the next contribution year."))})
    problem = _percent_problem(base_percent, first_month(contribution_year_start))
    if problem:
        raise ValidationFailed({"base_percent": problem})
    choice = session.exec(select(FlexibleBaseChoice).where(
        FlexibleBaseChoice.enrolment_id == enrolment.id,
        FlexibleBaseChoice.contribution_year == contribution_year_start)).first()
    before = choice.base_percent if choice else None
    if choice is None:
        choice = FlexibleBaseChoice(enrolment_id=enrolment.id, contribution_year=contribution_year_start,
                                    base_percent=base_percent, created_at=now)
    choice.base_percent = base_percent
    session.add(choice)
    session.flush()
    audit.record(session=session, actor=actor, action="flexible.base_percent_set", now=now,
                 object_type="flexible_enrolment", object_id=enrolment.id,
                 detail={"contribution_year": contribution_year_start, "before": before, "after": base_percent})
    return choice


def end_flexible(session: Session, *, actor: Actor, end_month: date, now: datetime) -> FlexibleEnrolment:
    """The person stops flexible contributions after ``end_month`` (inclusive)."""
    person_id = _own_person(actor)
    enrolment = session.exec(select(FlexibleEnrolment).where(FlexibleEnrolment.person_id == person_id,
                                                             FlexibleEnrolment.end_month.is_(None))).first()
    if enrolment is None:
        raise Conflict(Msg(N_("You are not enrolled as a flexible worker.")))
    end_month = month_of(end_month)
    if end_month < enrolment.start_month:
        raise ValidationFailed({"end_month": Msg(N_("The end month cannot be before the start month (%(month)s)."),
                                                 {"month": fmt_month(enrolment.start_month)})})
    enrolment.end_month = end_month
    enrolment.end_reason = "stopped"
    session.add(enrolment)
    session.flush()
    audit.record(session=session, actor=actor, action="flexible.ended", now=now, object_type="flexible_enrolment",
                 object_id=enrolment.id, detail={"end_month": fmt_month(end_month)})
    return enrolment
