"""Demo accounts behind fixed credentials, created once; later issues extend the data behind them."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, select

from portal.auth.passwords import hash_password
from portal.auth.principal import SYSTEM
from portal.identifiers import make_credit_code, make_resident_id
from portal.models import Employer, EmployerOperator, Person, PersonAccount, StaffMember
from portal.services import accounts

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


def seed(*, session: Session, now: datetime, today: date) -> list[DemoAccount]:
    """Creates whatever of the demo data is missing; running it again changes nothing."""
    for _label, number, name, mobile in PERSONS:
        person = session.exec(select(Person).where(Person.id_number == number)).first()
        has_account = person is not None and session.exec(
            select(PersonAccount).where(PersonAccount.person_id == person.id)).first()
        if not has_account:
            accounts.register_person(session=session, actor=SYSTEM, id_number=number, name=name, mobile=mobile,
                                     password=DEMO_PASSWORD, password_confirm=DEMO_PASSWORD, now=now, today=today)

    employer = session.exec(select(Employer).where(Employer.credit_code == EMPLOYER_CODE)).first()
    if employer is None:
        label, name, mobile, _ = OPERATORS[0]
        operator = accounts.register_employer(
            session=session, actor=SYSTEM, credit_code=EMPLOYER_CODE, employer_name=EMPLOYER_NAME, region="220100",
            username=label, operator_name=name, mobile=mobile, password=DEMO_PASSWORD,
            password_confirm=DEMO_PASSWORD, now=now)
        employer = session.get(Employer, operator.employer_id)
        employer.status = "verified"
        employer.decided_at = now
        employer.decision_note = "demo"
        session.add(employer)
    for label, name, mobile, is_admin in OPERATORS:
        exists = session.exec(select(EmployerOperator).where(
            EmployerOperator.employer_id == employer.id, EmployerOperator.username == label)).first()
        if not exists:
            session.add(EmployerOperator(employer_id=employer.id, username=label, name=name, mobile=mobile,
                                         password_hash=hash_password(DEMO_PASSWORD), is_admin=is_admin,
                                         created_at=now))
    for label, number, name, roles in STAFF:
        if not session.exec(select(StaffMember).where(StaffMember.staff_number == number)).first():
            accounts.create_staff(session=session, actor=SYSTEM, staff_number=number, name=name, roles=roles,
                                  password=DEMO_PASSWORD, now=now, totp_secret=demo_totp_secret(label))
    session.flush()
    return demo_accounts()
