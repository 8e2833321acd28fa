"""Insurance certificates (参保证明): issue one from the person's record, find it by its code, verify it.

Issuing is idempotent per person, day and content: asking again on the same day while the record is unchanged
returns the certificate already issued (same code, nothing new stored or audited); a changed record, or a new
day, issues a new certificate with a new code. Every certificate stays verifiable: its content is frozen in the
row, so a third party sees what was issued, not the record as it is today.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, select

from portal import audit, clock
from portal.auth.principal import Actor
from portal.errors import N_, Msg, NotFound, PortalError
from portal.identifiers import mask_name
from portal.models import Certificate, Employer, Person
from portal.policy.dates import add_months, fmt_month
from portal.services.accounts import person_of
from portal.services.records import PersonRecord, build_record

# No 0/O, 1/I/L: a code read aloud over the telephone or typed from paper is not misread.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 16  # 31**16 ≈ 2**79 codes: not guessable, even without rate-limiting
_CODE = re.compile(rf"^[{ALPHABET}]{{{CODE_LENGTH}}}$")
KINDS = ("employer", "flexible", "transfer_in", "deemed")


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    months: int
    kind: str  # employer | flexible | transfer_in | deemed
    employer: str = ""  # the employer's name when kind == "employer", as it was when issued

    def as_json(self) -> dict:
        return {"start": fmt_month(self.start), "end": fmt_month(self.end), "months": self.months,
                "kind": self.kind, "employer": self.employer}

    @classmethod
    def from_json(cls, data: dict) -> Period:
        return cls(_month(data["start"]), _month(data["end"]), int(data["months"]), data["kind"], data["employer"])


@dataclass(frozen=True)
class Issued:
    """A certificate with what it says, ready for the PDF (the holder's full name and identity number)."""

    certificate: Certificate
    person: Person
    periods: tuple[Period, ...]

    @property
    def code(self) -> str:
        return self.certificate.code

    @property
    def grouped_code(self) -> str:
        return grouped_code(self.code)


@dataclass(frozen=True)
class Verified:
    """What a third party may see: the content as issued, the holder partly masked."""

    code: str
    issued_at: datetime
    masked_name: str
    masked_id_number: str
    periods: tuple[Period, ...]
    cumulative_months: int


def _month(text: str) -> date:
    year, month = text.split("-")
    return date(int(year), int(month), 1)


def grouped_code(code: str) -> str:
    """ABCD-EFGH-JKMN-PQRS: easier to read out and to type."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def normalise_code(text: str) -> str | None:
    """What a visitor typed (any case, with spaces or dashes) as a code, or None if it cannot be one."""
    cleaned = re.sub(r"[\s\-–—]", "", text or "").upper()
    return cleaned if _CODE.match(cleaned) else None


def mask_id_number(number: str) -> str:
    """220102198503150111 -> 220102********0111: the region and the last four, never the birth date."""
    return number[:6] + "*" * max(len(number) - 10, 0) + number[-4:]


def _kind(cell) -> str:
    if cell.state == "deemed":
        return "deemed"
    if cell.state == "transferred_in":
        return "transfer_in"
    return "employer" if cell.employer_id is not None else "flexible"


def insured_periods(session: Session, *, record: PersonRecord) -> list[Period]:
    """The counted months as contiguous spans, one per employer (or flexible work, transfer-in, deemed)."""
    spans: list[tuple[date, date, int, str, int | None]] = []
    for cell in record.cells:
        if not cell.counted:
            continue
        kind = _kind(cell)
        employer_id = cell.employer_id if kind == "employer" else None
        if spans:
            start, end, months, last_kind, last_employer = spans[-1]
            if (last_kind, last_employer) == (kind, employer_id) and add_months(end, 1) == cell.month:
                spans[-1] = (start, cell.month, months + 1, kind, employer_id)
                continue
        spans.append((cell.month, cell.month, 1, kind, employer_id))
    ids = {employer_id for *_, employer_id in spans if employer_id is not None}
    names = dict(session.exec(select(Employer.id, Employer.name).where(Employer.id.in_(ids))).all()) if ids else {}
    return [Period(start, end, months, kind, names.get(employer_id, "") if employer_id else "")
            for start, end, months, kind, employer_id in spans]


def _content_hash(person: Person, periods: list[Period], months: int) -> str:
    body = json.dumps({"id_number": person.id_number, "name": person.name, "cumulative_months": months,
                       "periods": [period.as_json() for period in periods]},
                      ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _new_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        if session.exec(select(Certificate.id).where(Certificate.code == code)).first() is None:
            return code


def _issued(session: Session, certificate: Certificate, person: Person) -> Issued:
    periods = tuple(Period.from_json(item) for item in json.loads(certificate.periods_json))
    return Issued(certificate=certificate, person=person, periods=periods)


class NothingToCertify(PortalError):
    """A certificate would show no insured month: it certifies nothing, so none is issued."""

    status_code = 409


NO_INSURED_MONTH = Msg(N_("Your record has no insured month yet, so a certificate would have nothing to show. Once a "
                          "month is paid, by your employer or by you as a flexible worker, you can get one here."))


def insured_months(session: Session, *, actor: Actor, today: date) -> int:
    """How many insured months a certificate for the signed-in person would show today."""
    return build_record(session, person=person_of(session, actor=actor), today=today).cumulative_months


def issue(session: Session, *, actor: Actor, now: datetime) -> Issued:
    """The signed-in person's certificate for today: the one already issued today if the record is unchanged.

    Refused while the record has no insured month."""
    person = person_of(session, actor=actor)
    today = now.astimezone(clock.CHINA).date()
    record = build_record(session, person=person, today=today)
    periods = insured_periods(session, record=record)
    if record.cumulative_months == 0 or not periods:
        raise NothingToCertify(NO_INSURED_MONTH)
    digest = _content_hash(person, periods, record.cumulative_months)
    existing = session.exec(select(Certificate).where(
        Certificate.person_id == person.id, Certificate.issued_on == today, Certificate.content_hash == digest)
        .order_by(Certificate.id)).first()
    if existing is not None:
        return _issued(session, existing, person)
    certificate = Certificate(
        code=_new_code(session), person_id=person.id, issued_at=now, issued_on=today,
        cumulative_months=record.cumulative_months, content_hash=digest,
        periods_json=json.dumps([period.as_json() for period in periods], ensure_ascii=False))
    session.add(certificate)
    session.flush()
    audit.record(session=session, actor=actor, action="certificate.issued", now=now, object_type="certificate",
                 object_id=certificate.id, detail={"code": certificate.code, "months": certificate.cumulative_months,
                                                   "periods": len(periods), "hash": digest})
    return _issued(session, certificate, person)


def own_certificates(session: Session, *, actor: Actor) -> list[Certificate]:
    """The signed-in person's certificates, newest first."""
    person = person_of(session, actor=actor)
    return list(session.exec(select(Certificate).where(Certificate.person_id == person.id)
                             .order_by(Certificate.issued_at.desc(), Certificate.id.desc())).all())


def own_certificate(session: Session, *, actor: Actor, code: str) -> Issued:
    """One of the signed-in person's certificates by code; another person's code is simply not found."""
    person = person_of(session, actor=actor)
    normalised = normalise_code(code)
    certificate = session.exec(select(Certificate).where(Certificate.code == normalised)).first() if normalised else None
    if certificate is None or certificate.person_id != person.id:
        raise NotFound()
    return _issued(session, certificate, person)


def verify(session: Session, *, code: str) -> Verified | None:
    """What was issued under ``code``, for anyone holding it; None (and nothing else) for an unknown code."""
    normalised = normalise_code(code)
    if normalised is None:
        return None
    certificate = session.exec(select(Certificate).where(Certificate.code == normalised)).first()
    if certificate is None:
        return None
    person = session.get(Person, certificate.person_id)
    issued = _issued(session, certificate, person)
    return Verified(code=certificate.code, issued_at=certificate.issued_at, masked_name=mask_name(person.name),
                    masked_id_number=mask_id_number(person.id_number), periods=issued.periods,
                    cumulative_months=certificate.cumulative_months)
