"""Registering persons and employers, managing operators and staff."""

from __future__ import annotations

import re
from datetime import date, datetime

from sqlmodel import Session, select

from portal import audit
from portal.auth import sessions
from portal.auth.passwords import hash_password, password_problem
from portal.auth.principal import STAFF_ROLES, Actor
from portal.auth.totp import new_secret
from portal.errors import N_, Conflict, Forbidden, Msg, NotFound, ValidationFailed
from portal.identifiers import InvalidIdentifier, parse_credit_code, parse_resident_id, valid_mobile
from portal.models import Employer, EmployerOperator, Person, PersonAccount, StaffMember
from portal.policy import regions
from portal.queue import parties
from portal.queue import service as queue
from portal.queue.kinds import CheckResult, Kind, KindSpec
from portal.queue.reasons import BY_CODE

NAME = re.compile(r"^[\u3400-\u9fff\u00b7·A-Za-z][\u3400-\u9fff\u00b7·A-Za-z .'-]{0,48}[\u3400-\u9fff\u00b7·A-Za-z.]$")
USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,40}$")
MINIMUM_AGE = 16

ID_MESSAGES = {
    "id_length": N_("An identity number has 18 characters."),
    "id_characters": N_("An identity number has 17 digits followed by a digit or X."),
    "id_birth_date": N_("The birth date inside this identity number is not a real date."),
    "id_check": N_("This identity number is not valid: its last character does not match. Check each digit."),
    "id_region": N_("This identity number is not valid: its first two digits name no province. Check each digit."),
    "uscc_length": N_("A unified social credit code has 18 characters."),
    "uscc_characters": N_("A unified social credit code uses digits and capital letters other than I, O, S, V and Z."),
    "uscc_check": N_("This unified social credit code is not valid: its last character does not match."),
}
PASSWORD_MESSAGES = {
    "password_too_short": N_("Use at least 10 characters for your password."),
    "password_too_long": N_("Use at most 128 characters for your password."),
    "password_too_common": N_("This password is too common and easy to guess. Choose another."),
    "password_personal": N_("Do not use your identity number, mobile number or account name in your password."),
}


def identity_problem(id_number: str, *, today: date) -> Msg | None:
    """Why an identity number is refused, for a field message (also used by the htmx check)."""
    try:
        resident = parse_resident_id(id_number, today=today)
    except InvalidIdentifier as error:
        return Msg(ID_MESSAGES[error.code])
    if _age(resident.birth_date, today) < MINIMUM_AGE:
        return Msg(N_("You must be at least %(age)s years old to open an account."), {"age": MINIMUM_AGE})
    return None


def _age(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _check_password(errors: dict, password: str, confirm: str, personal: tuple[str, ...]) -> None:
    problem = password_problem(password or "", personal=personal)
    if problem:
        errors["password"] = Msg(PASSWORD_MESSAGES[problem])
    elif password != confirm:
        errors["password_confirm"] = Msg(N_("The two passwords do not match."))


def _check_name(errors: dict, field: str, name: str) -> str:
    name = (name or "").strip()
    if not name:
        errors[field] = Msg(N_("Enter the name."))
    elif not NAME.match(name):
        errors[field] = Msg(N_("Enter the name as it is written on the identity card."))
    return name


def _check_mobile(errors: dict, field: str, mobile: str) -> str:
    mobile = (mobile or "").strip()
    if not valid_mobile(mobile):
        errors[field] = Msg(N_("Enter an 11-digit mainland mobile number, such as 13912345678."))
    return mobile


def register_person(
    session: Session, *, actor: Actor, id_number: str, name: str, mobile: str, password: str,
    password_confirm: str, now: datetime, today: date,
) -> PersonAccount:
    """Opens a proven online account for a person, for trusted tools only (the demo seed, test fixtures, loading
    records): the mobile number given becomes the number on record if there is none.

    People register through a claim that a code proves (portal/services/identity.py), never through this.
    """
    if actor.kind != "system":
        raise Forbidden()
    errors: dict[str, Msg] = {}
    problem = identity_problem(id_number, today=today)
    if problem:
        errors["id_number"] = problem
    name = _check_name(errors, "name", name)
    mobile = _check_mobile(errors, "mobile", mobile)
    number = (id_number or "").strip().upper()
    _check_password(errors, password, password_confirm, (number, mobile))
    if errors:
        raise ValidationFailed(errors)

    resident = parse_resident_id(number, today=today)
    person = session.exec(select(Person).where(Person.id_number == number)).first()
    if person is not None:
        if session.exec(select(PersonAccount).where(PersonAccount.person_id == person.id)).first():
            raise ValidationFailed({"id_number": Msg(N_(
                "An account already exists for this identity number. Sign in, or ask for help if it is not yours."))})
        if person.name != name:
            raise ValidationFailed({"name": Msg(N_("The name does not match our records for this identity number."))})
    else:
        person = Person(id_number=number, name=name, birth_date=resident.birth_date, sex=resident.sex, created_at=now)
        session.add(person)
        session.flush()
    if not person.mobile:
        person.mobile, person.mobile_source = mobile, "counter"
        session.add(person)
    account = PersonAccount(person_id=person.id, mobile=mobile, password_hash=hash_password(password), created_at=now,
                            identity_proven_at=now, identity_proof="system")
    session.add(account)
    session.flush()
    audit.record(session=session, actor=actor, action="account.person_registered", now=now,
                 object_type="person", object_id=person.id)
    return account


def register_employer(
    session: Session, *, actor: Actor, credit_code: str, employer_name: str, region: str, username: str,
    operator_name: str, mobile: str, password: str, password_confirm: str, now: datetime,
) -> EmployerOperator:
    """Registers an employer (pending verification by staff) and its first operator, the administrator."""
    errors: dict[str, Msg] = {}
    try:
        code = parse_credit_code(credit_code)
    except InvalidIdentifier as error:
        errors["credit_code"] = Msg(ID_MESSAGES[error.code])
        code = ""
    employer_name = (employer_name or "").strip()
    if not 2 <= len(employer_name) <= 100:
        errors["employer_name"] = Msg(N_("Enter the employer's registered name."))
    if region not in regions.PREFECTURES:
        errors["region"] = Msg(N_("Choose the prefecture where the employer is registered."))
    username = _check_username(errors, username)
    operator_name = _check_name(errors, "operator_name", operator_name)
    mobile = _check_mobile(errors, "mobile", mobile)
    _check_password(errors, password, password_confirm, (username, mobile, code))
    if code and session.exec(select(Employer).where(Employer.credit_code == code)).first():
        errors["credit_code"] = Msg(N_(
            "This employer is already registered. Ask its administrator to add you as an operator."))
    if errors:
        raise ValidationFailed(errors)
    employer = Employer(credit_code=code, name=employer_name, region=region, status="pending", created_at=now)
    session.add(employer)
    session.flush()
    operator = EmployerOperator(
        employer_id=employer.id, username=username, name=operator_name, mobile=mobile,
        password_hash=hash_password(password), is_admin=True, created_at=now,
    )
    session.add(operator)
    session.flush()
    audit.record(session=session, actor=actor, action="account.employer_registered", now=now,
                 object_type="employer", object_id=employer.id, detail={"credit_code": code})
    _submit_verification(session=session, actor=actor, employer=employer, operator=operator, now=now)
    return operator


def _submit_verification(*, session: Session, actor: Actor, employer: Employer, operator: EmployerOperator,
                         now: datetime) -> None:
    """The verification goes through the handling queue like every other request."""
    queue.submit(session, kind="employer_verification", now=now, actor=actor, prefecture=employer.region,
                 applicant=parties.Applicant("employer", employer.id, operator.id), channel="web",
                 payload={"credit_code": employer.credit_code, "name": employer.name, "region": employer.region},
                 idempotency_key=f"employer-registration:{employer.id}")


def _check_username(errors: dict, username: str) -> str:
    username = (username or "").strip()
    if not USERNAME.match(username):
        errors["username"] = Msg(N_("Use 3 to 40 letters, digits, dots, dashes or underscores for the user name."))
    return username


def _require_employer_admin(actor: Actor) -> int:
    principal = actor.principal
    if principal is None or principal.kind != "employer" or not principal.is_employer_admin:
        raise Forbidden(Msg(N_("Only the employer's administrator can manage operators.")))
    return principal.employer_id


def list_operators(session: Session, *, actor: Actor) -> list[EmployerOperator]:
    principal = actor.principal
    if principal is None or principal.kind != "employer":
        raise Forbidden()
    return list(session.exec(
        select(EmployerOperator).where(EmployerOperator.employer_id == principal.employer_id)
        .order_by(EmployerOperator.id)
    ).all())


def add_operator(
    session: Session, *, actor: Actor, username: str, name: str, mobile: str, password: str,
    password_confirm: str, now: datetime,
) -> EmployerOperator:
    """The administrator adds an operator to their own employer."""
    employer_id = _require_employer_admin(actor)
    errors: dict[str, Msg] = {}
    username = _check_username(errors, username)
    name = _check_name(errors, "name", name)
    mobile = _check_mobile(errors, "mobile", mobile)
    _check_password(errors, password, password_confirm, (username, mobile))
    if "username" not in errors and session.exec(select(EmployerOperator).where(
            EmployerOperator.employer_id == employer_id, EmployerOperator.username == username)).first():
        errors["username"] = Msg(N_("This user name is already taken at your employer."))
    if errors:
        raise ValidationFailed(errors)
    operator = EmployerOperator(employer_id=employer_id, username=username, name=name, mobile=mobile,
                                password_hash=hash_password(password), created_at=now)
    session.add(operator)
    session.flush()
    audit.record(session=session, actor=actor, action="account.operator_added", now=now,
                 object_type="employer_operator", object_id=operator.id)
    return operator


def set_operator_active(session: Session, *, actor: Actor, operator_id: int, active: bool, now: datetime) -> None:
    """Disables or re-enables an operator of the administrator's own employer."""
    employer_id = _require_employer_admin(actor)
    operator = session.get(EmployerOperator, operator_id)
    if operator is None or operator.employer_id != employer_id:
        raise NotFound()
    if operator.id == actor.principal.account_id:
        raise Conflict(Msg(N_("You cannot disable your own account.")))
    operator.active = active
    session.add(operator)
    if not active:
        sessions.end_all(session=session, kind="employer", account_id=operator.id)
    session.flush()
    audit.record(session=session, actor=actor, action="account.operator_enabled" if active else
                 "account.operator_disabled", now=now, object_type="employer_operator", object_id=operator.id)


def create_staff(
    session: Session, *, actor: Actor, staff_number: str, name: str, roles: list[str], password: str,
    now: datetime, region: str = "220000", totp_secret: str | None = None,
) -> StaffMember:
    """Creates a staff account with a new TOTP secret (shown once, to be enrolled in an authenticator app)."""
    unknown = [role for role in roles if role not in STAFF_ROLES]
    if unknown or not roles:
        raise ValidationFailed({"roles": Msg(N_("Choose one or more roles: handler, reviewer, supervisor, admin."))})
    problem = password_problem(password, personal=(staff_number,))
    if problem:
        raise ValidationFailed({"password": Msg(PASSWORD_MESSAGES[problem])})
    if session.exec(select(StaffMember).where(StaffMember.staff_number == staff_number)).first():
        raise ValidationFailed({"staff_number": Msg(N_("This staff number is already in use."))})
    staff = StaffMember(staff_number=staff_number, name=name, roles=" ".join(sorted(set(roles))), region=region,
                        password_hash=hash_password(password), totp_secret=totp_secret or new_secret(),
                        created_at=now)
    session.add(staff)
    session.flush()
    audit.record(session=session, actor=actor, action="account.staff_created", now=now, object_type="staff",
                 object_id=staff.id, detail={"roles": staff.roles})
    return staff


def set_staff_roles(session: Session, *, actor: Actor, staff_number: str, roles: list[str],
                    now: datetime) -> StaffMember:
    """Changes a staff member's roles; every change is audited with the before and after."""
    if any(role not in STAFF_ROLES for role in roles) or not roles:
        raise ValidationFailed({"roles": Msg(N_("Choose one or more roles: handler, reviewer, supervisor, admin."))})
    staff = session.exec(select(StaffMember).where(StaffMember.staff_number == staff_number)).first()
    if staff is None:
        raise NotFound()
    before = staff.roles
    staff.roles = " ".join(sorted(set(roles)))
    session.add(staff)
    session.flush()
    audit.record(session=session, actor=actor, action="account.role_changed", now=now, object_type="staff",
                 object_id=staff.id, detail={"before": before, "after": staff.roles})
    return staff


def pending_employers(session: Session) -> list[Employer]:
    return list(session.exec(select(Employer).where(Employer.status == "pending").order_by(Employer.created_at)).all())


def person_record(session: Session, *, person_id: int) -> Person | None:
    """A person's record as it is (None when there is none), for pages that read it without refusing."""
    return session.get(Person, person_id)


def person_account(session: Session, *, account_id: int) -> PersonAccount | None:
    return session.get(PersonAccount, account_id)


def applicant_record(session: Session, *, kind: str, applicant_id: int) -> Person | Employer | None:
    """Who filed a case: the person or the employer (None when the record is gone)."""
    return session.get(Person if kind == "person" else Employer, applicant_id)


def person_of(session: Session, *, actor: Actor) -> Person:
    """The person signed in as ``actor``; Forbidden for anyone else or an account not yet proven to be theirs
    (the web refuses that first, portal/web/access.py), NotFound if their record is gone."""
    principal = actor.principal
    if principal is None or principal.kind != "person" or not principal.person_id:
        raise Forbidden()
    if not principal.identity_proven:
        raise Forbidden(Msg(N_("Prove that this account is yours before you see its record.")))
    person = session.get(Person, principal.person_id)
    if person is None:
        raise NotFound()
    return person


def employer_of(session: Session, *, actor: Actor, verified: bool = False) -> Employer:
    """The employer an operator signed in for; Forbidden for anyone else, or when ``verified`` and it is not yet."""
    principal = actor.principal
    if principal is None or principal.kind != "employer" or not principal.employer_id:
        raise Forbidden()
    employer = session.get(Employer, principal.employer_id)
    if employer is None:
        raise Forbidden()
    if verified and employer.status != "verified":
        raise Forbidden(Msg(N_("Your employer has not been verified yet.")))
    return employer


# --- the employer verification request kind ---------------------------------------------------------------


def check_credit_code_region(session: Session, *, case, payload: dict) -> CheckResult:
    employer = session.get(Employer, case.applicant_id) if case.applicant_kind == "employer" else None
    code = payload.get("credit_code") or (employer.credit_code if employer else "")
    try:
        code = parse_credit_code(code)
    except InvalidIdentifier:
        return CheckResult("credit_code_region", False, N_("The unified social credit code is not valid."))
    region = code[2:8]
    if parties.prefecture_of(region) != case.prefecture:
        return CheckResult("credit_code_region", False, N_(
            "The credit code was issued in region %(region)s, which is not in the prefecture chosen (%(prefecture)s)."),
            {"region": region, "prefecture": case.prefecture})
    return CheckResult("credit_code_region", True, N_("The credit code was issued in the prefecture chosen."))


def check_employer_pending(session: Session, *, case, payload: dict) -> CheckResult:
    employer = session.get(Employer, case.applicant_id) if case.applicant_kind == "employer" else None
    if employer is None:
        return CheckResult("employer_pending", False, N_("The employer's registration was not found."))
    if employer.status != "pending":
        return CheckResult("employer_pending", False, N_("The employer has already been decided."))
    return CheckResult("employer_pending", True, N_("The registration waits for verification."))


def apply_employer_verification(session: Session, *, case, approved: bool, now: datetime, note: str) -> None:
    """A decided verification sets the employer's status; a second decision on a decided employer changes nothing."""
    employer = session.get(Employer, case.applicant_id)
    if employer is None or employer.status != "pending":
        return
    employer.status = "verified" if approved else "rejected"
    employer.decided_at = now
    employer.decided_by = case.reviewer_id or case.handler_id
    reason = case.recommendation_reason if case.reviewer_id else None
    employer.decision_note = (note or (BY_CODE[reason].zh_CN if reason in BY_CODE else ""))[:500]
    session.add(employer)


KIND_SPECS = (
    KindSpec(Kind.EMPLOYER_VERIFICATION, checks=(check_credit_code_region, check_employer_pending),
             effect=apply_employer_verification, shown=frozenset({"credit_code", "name", "region"})),
)
