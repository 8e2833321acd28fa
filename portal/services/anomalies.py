"""Smart monitoring (智能监控): the anomaly rules run over the stored monthly figures and the records, and the flags
they raise for supervisors, each with its evidence.

``refresh_flags`` is idempotent: a flag that still fires is kept as it is, a new finding is added, an open flag
whose finding is gone (the records changed) is removed; a flag a supervisor explained stays, with the note.
Rules and thresholds: portal/policy/anomalies.py and the ``anomaly_rules`` parameter.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Integer, and_, cast, distinct, extract, func, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import aliased
from sqlmodel import Session

from portal.errors import N_, Msg, NotFound, ValidationFailed
from portal.models import (
    BaseDeclaration,
    DeathReport,
    Employer,
    EmploymentSpell,
    MonitoringFlag,
    MonitoringMonth,
    PensionAward,
    PensionPayment,
    Person,
)
from portal.policy import anomalies as rules
from portal.policy import monitoring as figures
from portal.services import monitoring

MAX_NOTE = 500


@dataclass(frozen=True)
class Finding:
    rule: str
    area: str
    month: date
    subject: str
    evidence: dict

    @property
    def key(self) -> tuple[str, str, date, str]:
        return (self.rule, self.area, self.month, self.subject)


def _area(code: str | None) -> str:
    return code if code in monitoring.PREFECTURES else monitoring.PROVINCE


def _series_findings(session: Session, limits, today: date) -> list[Finding]:
    found: list[Finding] = []
    due_by = monitoring.last_due_month(today)
    rows = session.execute(select(MonitoringMonth.area, MonitoringMonth.month, MonitoringMonth.due_fen,
                                  MonitoringMonth.collected_fen, MonitoringMonth.back_payments)
                           .where(MonitoringMonth.area.in_(monitoring.PREFECTURES)))
    by_area: dict[str, list] = {}
    for area, month, due, collected, back in rows:
        by_area.setdefault(area, []).append((month, int(due), int(collected), int(back)))
    for area, series in sorted(by_area.items()):
        for drop in rules.collection_rate_drops(
                [(month, due, collected) for month, due, collected, _back in series if month <= due_by],
                points=Decimal(limits["collection_rate_drop_points"]),
                minimum_due_fen=int(limits["collection_rate_minimum_due_yuan"]) * 100):
            found.append(Finding("collection_rate_drop", area, drop.month, "",
                                 {"before": str(drop.before), "rate": str(drop.rate)}))
        for spike in rules.back_payment_spikes(
                [(month, back) for month, _due, _collected, back in series],
                factor=Decimal(limits["back_payment_factor"]), minimum=int(limits["back_payment_minimum"]),
                window=int(limits["back_payment_window_months"])):
            found.append(Finding("back_payment_spike", area, spike.month, "",
                                 {"count": spike.count, "average": str(spike.average)}))
    return found


def _age_in_months(at, birth):
    def index(column):
        return cast(extract("year", column), Integer) * 12 + cast(extract("month", column), Integer)

    return index(at) - index(birth)


def _near_retirement(session: Session, limits) -> list[Finding]:
    age = _age_in_months(EmploymentSpell.start_month, Person.birth_date)
    near = sql_case((Person.sex == "female", age >= int(limits["near_retirement_age_women"]) * 12),
                    else_=age >= int(limits["near_retirement_age_men"]) * 12)
    statement = (select(Employer.credit_code, Employer.name, Employer.region, EmploymentSpell.start_month,
                        func.count(distinct(EmploymentSpell.person_id)))
                 .join(Employer, Employer.id == EmploymentSpell.employer_id)
                 .join(Person, Person.id == EmploymentSpell.person_id)
                 .where(near)
                 .group_by(Employer.credit_code, Employer.name, Employer.region, EmploymentSpell.start_month)
                 .having(func.count(distinct(EmploymentSpell.person_id)) >= int(limits["near_retirement_enrolments"])))
    return [Finding("enrolment_near_retirement", _area(monitoring.prefecture_of(region)), monitoring.as_month(month),
                    code, {"employer": name, "count": int(count)})
            for code, name, region, month, count in session.execute(statement)]


def _after_death(session: Session) -> list[Finding]:
    death_month = monitoring.month_of(session, column=DeathReport.date_of_death)
    statement = (select(Person.id_number, DeathReport.date_of_death, PensionPayment.region,
                        func.count(PensionPayment.id), func.sum(PensionPayment.amount_fen))
                 .join(DeathReport, DeathReport.person_id == PensionPayment.person_id)
                 .join(Person, Person.id == PensionPayment.person_id)
                 .where(PensionPayment.month > death_month)
                 .group_by(Person.id_number, DeathReport.date_of_death, PensionPayment.region))
    return [Finding("pension_after_death", _area(monitoring.prefecture_of(region)), monitoring.as_month(died), number,
                    {"died": str(died)[:10], "months": int(months), "amount": str(figures.yuan(int(amount or 0)))})
            for number, died, region, months, amount in session.execute(statement)]


def _shared_cards(session: Session, limits) -> list[Finding]:
    current = and_(PensionAward.superseded_by.is_(None), PensionAward.stopped_after.is_(None))
    statement = (select(PensionAward.card_number, func.min(PensionAward.region),
                        func.max(PensionAward.first_payment_month), func.count(distinct(PensionAward.person_id)))
                 .where(current, PensionAward.card_number != "")
                 .group_by(PensionAward.card_number)
                 .having(func.count(distinct(PensionAward.person_id)) >= int(limits["shared_account_pensions"])))
    return [Finding("shared_bank_account", _area(monitoring.prefecture_of(region)), monitoring.as_month(month),
                    card, {"card": rules.mask_card(card), "pensions": int(count)})
            for card, region, month, count in session.execute(statement)]


def _base_drops(session: Session, limits) -> list[Finding]:
    share = Decimal(limits["base_drop_ratio"])
    numerator, denominator = share.as_integer_ratio()
    earlier = aliased(BaseDeclaration)
    statement = (select(Person.id_number, BaseDeclaration.contribution_year, Employer.region, Employer.name,
                        earlier.base_fen, BaseDeclaration.base_fen)
                 .join(earlier, and_(earlier.person_id == BaseDeclaration.person_id,
                                     earlier.contribution_year == BaseDeclaration.contribution_year - 1))
                 .join(Person, Person.id == BaseDeclaration.person_id)
                 .join(Employer, Employer.id == BaseDeclaration.employer_id)
                 .where(BaseDeclaration.base_fen * denominator < earlier.base_fen * numerator))
    found: dict[tuple, Finding] = {}
    for number, year, region, employer, before, after in session.execute(statement):
        finding = Finding("base_drop", _area(monitoring.prefecture_of(region)), date(year, 7, 1), number,
                          {"employer": employer, "before": str(figures.yuan(int(before))),
                           "after": str(figures.yuan(int(after)))})
        found.setdefault(finding.key, finding)
    return list(found.values())


def evaluate(session: Session, *, today: date) -> list[Finding]:
    """Every finding of every rule, with the thresholds in force today."""
    limits = rules.thresholds(today).value
    return [*_series_findings(session, limits, today), *_near_retirement(session, limits), *_after_death(session),
            *_shared_cards(session, limits), *_base_drops(session, limits)]


@dataclass(frozen=True)
class FlagsReport:
    added: int
    removed: int
    kept: int


def refresh_flags(session: Session, *, now: datetime, today: date) -> FlagsReport:
    """Brings the stored flags in line with the findings (idempotent)."""
    findings = {finding.key: finding for finding in evaluate(session, today=today)}
    stored = {(flag.rule, flag.area, flag.month, flag.subject): flag
              for flag in session.execute(select(MonitoringFlag)).scalars()}
    removed = 0
    for key, flag in stored.items():
        if key not in findings and flag.status == "open":
            session.delete(flag)
            removed += 1
        elif key in findings and flag.status == "open":
            evidence = json.dumps(findings[key].evidence, ensure_ascii=False, sort_keys=True)
            if flag.evidence != evidence:
                flag.evidence = evidence
                session.add(flag)
    added = 0
    for key, finding in findings.items():
        if key not in stored:
            session.add(MonitoringFlag(rule=finding.rule, area=finding.area, month=finding.month,
                                       subject=finding.subject[:40], found_at=now,
                                       evidence=json.dumps(finding.evidence, ensure_ascii=False, sort_keys=True)))
            added += 1
    session.flush()
    return FlagsReport(added=added, removed=removed, kept=len(stored) - removed)


def flag(session: Session, *, flag_id: int) -> MonitoringFlag | None:
    """One flag as it is (None when there is none); the page decides who may see it."""
    return session.get(MonitoringFlag, flag_id)


def open_count(session: Session, *, area: str = "") -> int:
    """How many flags wait for a supervisor (in one prefecture, or everywhere)."""
    statement = select(func.count(MonitoringFlag.id)).where(MonitoringFlag.status == "open")
    if area in monitoring.PREFECTURES:
        statement = statement.where(MonitoringFlag.area == area)
    return int(session.execute(statement).scalar() or 0)


def flags(session: Session, *, status: str = "open", area: str = "") -> list[MonitoringFlag]:
    """Flags newest month first; ``status`` open, explained or all; ``area`` one prefecture or all."""
    statement = select(MonitoringFlag).order_by(MonitoringFlag.month.desc(), MonitoringFlag.rule, MonitoringFlag.id)
    if status in ("open", "explained"):
        statement = statement.where(MonitoringFlag.status == status)
    if area in monitoring.AREAS and area != monitoring.PROVINCE:
        statement = statement.where(MonitoringFlag.area == area)
    return list(session.execute(statement).scalars())


def explain(session: Session, *, flag_id: int, note: str, staff_id: int, now: datetime) -> MonitoringFlag:
    """A supervisor marks a flag explained, saying why; an explained flag is kept when the rule still fires."""
    flag = session.get(MonitoringFlag, flag_id)
    if flag is None:
        raise NotFound(Msg(N_("There is no such anomaly.")))
    note = (note or "").strip()
    if not note:
        raise ValidationFailed({"note": Msg(N_("Say what explains the anomaly."))})
    if len(note) > MAX_NOTE:
        raise ValidationFailed({"note": Msg(N_("Keep the note under %(count)s characters."), {"count": MAX_NOTE})})
    flag.status, flag.note, flag.explained_at, flag.explained_by = "explained", note, now, staff_id
    session.add(flag)
    session.flush()
    return flag


def evidence_of(flag: MonitoringFlag) -> dict:
    return json.loads(flag.evidence or "{}")
