"""Demo accounts behind fixed credentials, created once; later issues extend the data behind them."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Session, select

from portal.auth.passwords import hash_password
from portal.auth.principal import SYSTEM, Actor
from portal.identifiers import make_credit_code, make_resident_id
from portal.models import (
    Bill,
    ContributionMonth,
    Employer,
    EmployerOperator,
    EmploymentSpell,
    FlexibleBaseChoice,
    FlexibleEnrolment,
    Person,
    PersonAccount,
    PersonalAccountYear,
    StaffMember,
)
from portal.policy.contribution_year import contribution_year
from portal.policy.dates import add_months, month_of
from portal.policy.money import from_fen, to_fen
from portal.policy.rules.contribution import employee_contribution, flexible_contribution
from portal.policy.rules.interest import account_interest
from portal.policy.rules.retirement import retirement
from portal.services import accounts, anomalies, billing, identity, monitoring

DEMO_PASSWORD = "Jilin-Demo-2026"
EMPLOYER_CODE = make_credit_code("220100", "MA84D2L7X")
EMPLOYER_NAME = "长春示范机械制造有限公司"

PERSONS = (
    ("employee", make_resident_id("220102", date(1985, 3, 15), 11), "王建国", "13904310001"),
    ("flexible", make_resident_id("220104", date(1979, 8, 20), 22), "李秀英", "13904310002"),
    ("retiree", make_resident_id("220203", date(1962, 4, 10), 31), "张德明", "13904310003"),
)
OPERATORS = (("admin", "赵丽", "13904310010", True), ("clerk", "孙强", "13904310011", False))
STAFF = (
    ("handler", "S1001", "刘经办", ["handler"]),
    ("reviewer", "S1002", "陈复核", ["reviewer"]),
    ("supervisor", "S1003", "周主管", ["supervisor", "admin"]),
)


def demo_totp_secret(label: str) -> str:
    """A fixed secret per demo staff member, so the demo's authenticator setup survives a reset."""
    return base64.b32encode(hashlib.sha256(f"jilin-demo-{label}".encode()).digest()[:20]).decode()


@dataclass(frozen=True)
class DemoAccount:
    kind: str
    label: str
    username: str
    password: str
    employer_code: str | None = None
    totp_secret: str | None = None

    def as_json(self) -> dict:
        data = {"kind": self.kind, "label": self.label, "username": self.username, "password": self.password}
        if self.employer_code:
            data["employer_code"] = self.employer_code
        if self.totp_secret:
            data["totp_secret"] = self.totp_secret
        return data


def demo_accounts() -> list[DemoAccount]:
    found = [DemoAccount("person", label, number, DEMO_PASSWORD) for label, number, _, _ in PERSONS]
    found += [DemoAccount("employer", label, label, DEMO_PASSWORD, employer_code=EMPLOYER_CODE)
              for label, *_ in OPERATORS]
    found += [DemoAccount("staff", label, number, DEMO_PASSWORD, totp_secret=demo_totp_secret(label))
              for label, number, _, _ in STAFF]
    return found


def _verify_through_the_queue(*, session: Session, employer: Employer, now: datetime) -> None:
    """The demo employer is verified the way every employer is: its case taken and approved by the handler."""
    from portal.auth import sessions
    from portal.models import WebSession
    from portal.models.queue import Case
    from portal.queue import service as queue

    handler = session.exec(select(StaffMember).where(StaffMember.staff_number == STAFF[0][1])).one()
    principal = sessions.principal_for(session=session, row=WebSession(
        id="demo", account_kind="staff", account_id=handler.id, created_at=now, last_seen_at=now))
    actor = Actor(principal=principal, address="demo")
    case = session.exec(select(Case).where(Case.kind == "employer_verification", Case.applicant_id == employer.id)
                        ).one()
    if case.state == "checked":
        case = queue.act(session, reference=case.reference, action="take", actor=actor,
                         expected_version=case.version, now=now)
    if case.state == "in_progress":
        queue.act(session, reference=case.reference, action="approve", actor=actor, expected_version=case.version,
                  now=now, reason_code="conditions_met", note="demo")


def seed(*, session: Session, now: datetime, today: date) -> list[DemoAccount]:
    """Creates whatever of the demo data is missing; running it again changes nothing."""
    for _label, number, name, mobile in PERSONS:
        person = session.exec(select(Person).where(Person.id_number == number)).first()
        has_account = person is not None and session.exec(
            select(PersonAccount).where(PersonAccount.person_id == person.id)).first()
        if not has_account:
            accounts.register_person(session, actor=SYSTEM, id_number=number, name=name, mobile=mobile,
                                     password=DEMO_PASSWORD, password_confirm=DEMO_PASSWORD, now=now, today=today)
        elif not has_account.proven:  # seeded before accounts had to be proven: the demo persons are
            identity.set_record_mobile(session, person=person, mobile=mobile, source="counter", actor=SYSTEM, now=now)
            identity.mark_proven(session, account=has_account, means="system", actor=SYSTEM, now=now)

    for label, number, name, roles in STAFF:
        if not session.exec(select(StaffMember).where(StaffMember.staff_number == number)).first():
            accounts.create_staff(session, actor=SYSTEM, staff_number=number, name=name, roles=roles,
                                  password=DEMO_PASSWORD, now=now, totp_secret=demo_totp_secret(label))

    employer = session.exec(select(Employer).where(Employer.credit_code == EMPLOYER_CODE)).first()
    if employer is None:
        label, name, mobile, _ = OPERATORS[0]
        operator = accounts.register_employer(
            session, actor=SYSTEM, credit_code=EMPLOYER_CODE, employer_name=EMPLOYER_NAME, region="220100",
            username=label, operator_name=name, mobile=mobile, password=DEMO_PASSWORD,
            password_confirm=DEMO_PASSWORD, now=now)
        employer = session.get(Employer, operator.employer_id)
        _verify_through_the_queue(session=session, employer=employer, now=now)
    for label, name, mobile, is_admin in OPERATORS:
        exists = session.exec(select(EmployerOperator).where(
            EmployerOperator.employer_id == employer.id, EmployerOperator.username == label)).first()
        if not exists:
            session.add(EmployerOperator(employer_id=employer.id, username=label, name=name, mobile=mobile,
                                         password_hash=hash_password(DEMO_PASSWORD), is_admin=is_admin,
                                         created_at=now))
    session.flush()
    seed_records(session, employer=employer, now=now, today=today)
    seed_pension(session, now=now, today=today)
    # Supervisors find the monitoring figures ready (cron keeps them with ``portal monitoring refresh``).
    monitoring.refresh(session, now=now, today=today)
    anomalies.refresh_flags(session, now=now, today=today)
    return demo_accounts()


def seed_pension(session: Session, *, now: datetime, today: date) -> None:
    """张德明 draws his pension: an award from his record, certified today, paid up to last month; idempotent."""
    from portal.services import claims, payroll

    retiree = session.exec(select(Person).where(Person.id_number == PERSONS[2][1])).one()
    retired = retirement(retiree.birth_date, "male").statutory_month
    # His service before the personal accounts began (1980-09 to 1995-06) is deemed (视同缴费), confirmed from his
    # file; with the months on the portal it passes the 15 years.
    if not session.exec(select(ContributionMonth.id).where(ContributionMonth.person_id == retiree.id,
                                                           ContributionMonth.source == "deemed")).first():
        for month in _months(DEEMED_START, DEEMED_END):
            session.add(ContributionMonth(person_id=retiree.id, month=month, source="deemed", status="paid",
                                          created_at=now))
        session.flush()
    claims.award_on_record(session, person=retiree, retirement_month=retired, claim_date=retired,
                           bank_code="JLB", card_number=DEMO_CARD, now=now, reference="")
    payroll.run(session, month=add_months(month_of(today), -1), now=now)


# --- Records behind the demo accounts (issue 4) ---------------------------------------------------------------
# 王建国: employed here from 2020-07, a gap in 2023-01..05, employed again since 2023-06.
# 李秀英: flexible worker since 2021-01 at 60%, who missed 2022-04..06 and 2025-02.
# 张德明: employed here until he retired (spell ended the month before his statutory retirement month).
# The employer's bill for last month is in arrears; this month is billed and open.
DEEMED_START, DEEMED_END = date(1980, 9, 1), date(1995, 6, 1)  # 张德明's deemed service
DEMO_CARD = "6222020200112233446"  # a made-up card number with a right Luhn check digit
HISTORY_START = date(2020, 7, 1)  # the first month with a published base floor and cap
EMPLOYEE_SPELLS = ((date(2020, 7, 1), date(2022, 12, 1), "resigned", Decimal("6200.00")),
                   (date(2023, 6, 1), None, "", Decimal("6800.00")))
RETIREE_WAGE = Decimal("5400.00")
FLEXIBLE_START, FLEXIBLE_PERCENT = date(2021, 1, 1), 60
FLEXIBLE_MISSED = frozenset({date(2022, 4, 1), date(2022, 5, 1), date(2022, 6, 1), date(2025, 2, 1)})


def _months(start: date, end: date):
    month = start
    while month <= end:
        yield month
        month = add_months(month, 1)


def _add_month(session: Session, have: set, *, person_id: int, month: date, result, source: str, status: str,
               employer_id: int | None, now: datetime) -> ContributionMonth | None:
    if (person_id, month, source) in have:
        return None
    row = ContributionMonth(person_id=person_id, month=month, base_fen=to_fen(result.base),
                            employer_part_fen=to_fen(result.employer), individual_part_fen=to_fen(result.individual),
                            personal_account_fen=to_fen(result.personal_account), source=source, status=status,
                            employer_id=employer_id, created_at=now)
    session.add(row)
    have.add((person_id, month, source))
    return row


def _bill(session: Session, *, payer_kind: str, payer_id: int, month: date, rows: list[ContributionMonth],
          status: str, now: datetime) -> None:
    exists = session.exec(select(Bill).where(Bill.payer_kind == payer_kind, Bill.payer_id == payer_id,
                                             Bill.month == month)).first()
    if exists is not None or not rows:
        return
    terms = billing.month_terms(month)
    bill = Bill(payer_kind=payer_kind, payer_id=payer_id, employer_id=payer_id if payer_kind == "employer" else None,
                person_id=payer_id if payer_kind == "person" else None, month=month, due_date=terms.due_date,
                total_fen=sum(r.employer_part_fen + r.individual_part_fen for r in rows), status=status,
                created_at=now)
    session.add(bill)
    session.flush()
    for row in rows:
        row.bill_id = bill.id
        session.add(row)
    session.flush()


def _account_years(session: Session, *, person_id: int, last_year: int, now: datetime) -> None:
    credited = set(session.exec(select(PersonalAccountYear.year).where(
        PersonalAccountYear.person_id == person_id)).all())
    rows = session.exec(select(ContributionMonth).where(ContributionMonth.person_id == person_id,
                                                        ContributionMonth.status == "paid")).all()
    balance = Decimal("0.00")
    for year in range(HISTORY_START.year, last_year + 1):
        credits = [(row.month, from_fen(row.personal_account_fen)) for row in rows if row.month.year == year]
        result = account_interest(year, balance, credits)
        if year not in credited:
            session.add(PersonalAccountYear(
                person_id=person_id, year=year, opening_balance_fen=to_fen(result.opening_balance),
                contributions_fen=to_fen(result.contributions_total), interest_fen=to_fen(result.interest),
                closing_balance_fen=to_fen(result.closing_balance), interest_rate=str(result.rate), credited_at=now))
        balance = result.closing_balance


def seed_records(session: Session, *, employer: Employer, now: datetime, today: date) -> None:
    """The demo persons' spells, enrolment, monthly history, bills and account years; idempotent."""
    persons = {label: session.exec(select(Person).where(Person.id_number == number)).one()
               for label, number, _, _ in PERSONS}
    employee, flexible_worker, retiree = persons["employee"], persons["flexible"], persons["retiree"]
    current = month_of(today)
    previous = add_months(current, -1)
    have = set(session.exec(select(ContributionMonth.person_id, ContributionMonth.month, ContributionMonth.source)
                            .where(ContributionMonth.person_id.in_([p.id for p in persons.values()]))).all())

    def spell(person: Person, start: date, end: date | None, reason: str, wage: Decimal) -> None:
        if not session.exec(select(EmploymentSpell).where(EmploymentSpell.person_id == person.id,
                                                          EmploymentSpell.start_month == start)).first():
            session.add(EmploymentSpell(person_id=person.id, employer_id=employer.id, start_month=start,
                                        end_month=end, end_reason=reason, wage_fen=to_fen(wage), created_at=now,
                                        ended_at=now if end else None))
            session.flush()

    for start, end, reason, wage in EMPLOYEE_SPELLS:
        spell(employee, start, end, reason, wage)
    retired = retirement(retiree.birth_date, "male" if retiree.sex == "male" else "female_worker").statutory_month
    retiree_end = add_months(retired, -1)
    spell(retiree, HISTORY_START, retiree_end, "retired", RETIREE_WAGE)
    enrolment = session.exec(select(FlexibleEnrolment).where(FlexibleEnrolment.person_id == flexible_worker.id)).first()
    if enrolment is None:
        enrolment = FlexibleEnrolment(person_id=flexible_worker.id, start_month=FLEXIBLE_START, created_at=now)
        session.add(enrolment)
        session.flush()
        session.add(FlexibleBaseChoice(enrolment_id=enrolment.id, contribution_year=contribution_year(
            FLEXIBLE_START), base_percent=FLEXIBLE_PERCENT, created_at=now))

    employer_rows: dict[date, list[ContributionMonth]] = {}
    for start, end, _, wage in EMPLOYEE_SPELLS:
        for month in _months(start, min(end or current, current)):
            status = "paid" if month < previous else ("arrears" if month == previous else "billed")
            row = _add_month(session, have, person_id=employee.id, month=month,
                             result=employee_contribution(wage, month), source="employer_filing", status=status,
                             employer_id=employer.id, now=now)
            if row is not None and month >= previous:
                employer_rows.setdefault(month, []).append(row)
    for month in _months(HISTORY_START, min(retiree_end, previous)):
        _add_month(session, have, person_id=retiree.id, month=month, result=employee_contribution(RETIREE_WAGE, month),
                   source="employer_filing", status="paid", employer_id=employer.id, now=now)
    flexible_rows = []
    for month in _months(FLEXIBLE_START, current):
        if month in FLEXIBLE_MISSED:
            continue
        row = _add_month(session, have, person_id=flexible_worker.id, month=month,
                         result=flexible_contribution(FLEXIBLE_PERCENT, month), source="flexible_payment",
                         status="paid" if month < current else "billed", employer_id=None, now=now)
        if row is not None and month == current:
            flexible_rows.append(row)
    session.flush()
    _bill(session, payer_kind="employer", payer_id=employer.id, month=previous,
          rows=employer_rows.get(previous, []), status="arrears", now=now)
    _bill(session, payer_kind="employer", payer_id=employer.id, month=current,
          rows=employer_rows.get(current, []), status="open", now=now)
    _bill(session, payer_kind="person", payer_id=flexible_worker.id, month=current, rows=flexible_rows,
          status="open", now=now)
    for person in persons.values():
        _account_years(session, person_id=person.id, last_year=current.year - 1, now=now)
    session.flush()
