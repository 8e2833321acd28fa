"""Plain factory functions with keyword defaults: build what a test needs, nothing more."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

from argon2 import PasswordHasher

from portal.identifiers import make_credit_code, make_resident_id
from portal.models import Employer, EmployerOperator, Person, PersonAccount, StaffMember

PASSWORD = "Correct-Horse-Battery-9"
NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
_sequence = itertools.count(1)
# Hashed once, and with argon2id's lowest cost: every sign-in in the suite verifies against it, and
# verifying follows the parameters stored in the hash (the portal's own cost takes ~0.1 s a check).
_HASH = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)


def person(db, *, name="王小明", birth=date(1985, 3, 15), region="220102", id_number=None) -> Person:
    number = id_number or make_resident_id(region, birth, next(_sequence) % 1000)
    row = Person(id_number=number, name=name, birth_date=birth, sex="male" if int(number[16]) % 2 else "female",
                 created_at=NOW)
    db.add(row)
    db.flush()
    return row


def person_account(db, *, password_hash=_HASH, mobile="13900000001", proven=True, **person_kwargs) -> PersonAccount:
    """A person with an online account, proven to be theirs (``proven=False``: one that has not proven it yet);
    ``mobile`` is also the number on record."""
    owner = person(db, **person_kwargs)
    owner.mobile, owner.mobile_source = mobile, "counter"
    account = PersonAccount(person_id=owner.id, mobile=mobile, password_hash=password_hash, created_at=NOW,
                            identity_proven_at=NOW if proven else None, identity_proof="counter" if proven else "")
    db.add(account)
    db.flush()
    return account


def employer(db, *, name="长春测试有限公司", region="220100", status="verified", code=None) -> Employer:
    serial = next(_sequence)
    organisation = f"MA{serial:07d}"
    row = Employer(credit_code=code or make_credit_code(region, organisation), name=name, region=region,
                   status=status, created_at=NOW)
    db.add(row)
    db.flush()
    return row


def operator(db, *, employer_row=None, username="admin", name="赵丽", is_admin=True, active=True,
             password_hash=_HASH) -> EmployerOperator:
    employer_row = employer_row or employer(db)
    row = EmployerOperator(employer_id=employer_row.id, username=username, name=name, mobile="13900000002",
                           password_hash=password_hash, is_admin=is_admin, active=active, created_at=NOW)
    db.add(row)
    db.flush()
    return row


def staff(db, *, staff_number=None, name="刘经办", roles="handler", secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
          password_hash=_HASH) -> StaffMember:
    row = StaffMember(staff_number=staff_number or f"T{next(_sequence):04d}", name=name, roles=roles,
                      password_hash=password_hash, totp_secret=secret, created_at=NOW)
    db.add(row)
    db.flush()
    return row
