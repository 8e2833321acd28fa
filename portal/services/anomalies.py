"""Smart monitoring (智能监控): the anomaly rules run over the stored monthly figures and the records, and the flags
they raise for supervisors, each with its evidence.

``refresh_flags`` is idempotent: a flag that still fires is kept as it is, a new finding is added, an open flag
whose finding is gone (the records changed) is removed; a flag a supervisor explained stays, with the note.
Rules and thresholds: portal/policy/anomalies.py and the ``anomaly_rules`` parameter.

A supervisor may open a verification case for a flag in the central queue (targeted supervision, 精准督导): a case
of kind ``anomaly_verification`` for the flag's area (the province or a prefecture, ``parties.area_party``), one
per flag whoever opens it and however often. A handler verifies it; approving confirms the anomaly, rejecting
explains it, and the decision and its note are recorded on the flag.
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

from portal import audit
from portal.auth.principal import Actor
from portal.errors import N_, Msg, NotFound, ValidationFailed
from portal.models import (
    BaseDeclaration,
    Case,
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
from portal.policy.dates import fmt_month
from portal.queue import cases, parties
from portal.queue import service as queue
from portal.queue.kinds import CheckResult, Kind, KindSpec
from portal.services import monitoring

MAX_NOTE = 500
STATUSES = ("open", "explained", "confirmed")


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
        if key not in findings and flag.status == "open" and flag.case_id is None:
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
    if status in STATUSES:
        statement = statement.where(MonitoringFlag.status == status)
    if area in monitoring.AREAS and area != monitoring.PROVINCE:
        statement = statement.where(MonitoringFlag.area == area)
    return list(session.execute(statement).scalars())


def explain(session: Session, *, flag_id: int, note: str, staff_id: int, now: datetime) -> MonitoringFlag:
    """A supervisor marks a flag explained, saying why; an explained flag is kept when the rule still fires."""
    flag = session.get(MonitoringFlag, flag_id)
    if flag is None:
        raise NotFound(Msg(N_("There is no such anomaly.")))
    if flag.case_id is not None:
        raise ValidationFailed({"note": Msg(N_("A verification case was opened for this anomaly: its decision "
                                               "settles it."))})
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


# --- the verification case ----------------------------------------------------------------------------------------

def case_of(session: Session, *, flag: MonitoringFlag) -> Case | None:
    """The verification case opened for the flag, if any."""
    return session.get(Case, flag.case_id) if flag.case_id is not None else None


def open_case(session: Session, *, flag_id: int, finding: str, actor: Actor, now: datetime) -> Case:
    """A supervisor opens a verification case for an open anomaly in the central queue, for a handler of its area;
    the case carries the rule, the month, what it is about and ``finding`` (the evidence as the supervisor read it).
    Opening it again, by anyone, gives the case already opened. The supervisor who opens it does not decide it."""
    flag = session.execute(select(MonitoringFlag).where(MonitoringFlag.id == flag_id).with_for_update()
                           .execution_options(populate_existing=True)).scalar_one_or_none()
    if flag is None:
        raise NotFound(Msg(N_("There is no such anomaly.")))
    if flag.case_id is not None:
        return session.get(Case, flag.case_id)
    if flag.status != "open":
        raise ValidationFailed({"case": Msg(N_("This anomaly is already explained: there is nothing left to "
                                               "verify."))})
    evidence = evidence_of(flag)
    subject = evidence.get("card", "") if flag.rule == "shared_bank_account" else flag.subject
    payload = {"flag_id": flag.id, "rule": flag.rule, "area": flag.area, "month": fmt_month(flag.month),
               "subject": subject, "finding": (finding or "").strip()[:MAX_NOTE]}
    case = queue.submit(session, kind=Kind.ANOMALY_VERIFICATION, applicant=parties.area_party(flag.area),
                        payload=payload, prefecture=flag.area, channel="counter",
                        idempotency_key=f"anomaly:{flag.id}", now=now, actor=actor,
                        counter_staff_id=actor.principal.account_id)
    flag.case_id = case.id
    session.add(flag)
    audit.record(session=session, actor=actor, action="monitoring.anomaly_case", now=now,
                 object_type="monitoring_flag", object_id=flag.id, detail={"case": case.reference, "rule": flag.rule})
    session.flush()
    return case


def _flag_of_case(session: Session, case: Case) -> MonitoringFlag | None:
    flag_id = cases.payload_of(case).get("flag_id")
    flag = session.get(MonitoringFlag, flag_id) if isinstance(flag_id, int) else None
    if flag is None or flag.case_id not in (None, case.id) or parties.area_of(case) != flag.area:
        return None
    return flag


def check_anomaly(session: Session, *, case: Case, payload: dict) -> CheckResult:
    if _flag_of_case(session, case) is None:
        return CheckResult("anomaly_found", False, N_("The anomaly to verify was not found."))
    return CheckResult("anomaly_found", True, N_("Verify the anomaly against the records: approve when it is "
                                                 "confirmed, reject with the reason when it is explained."))


def settle_from_case(session: Session, *, case: Case, approved: bool, now: datetime, note: str) -> None:
    """The case's decision on the anomaly: approved confirms it, rejected explains it; the note goes with it."""
    flag = _flag_of_case(session, case)
    if flag is None:
        return
    flag.status = "confirmed" if approved else "explained"
    flag.note = (note or "").strip()[:MAX_NOTE]
    flag.explained_at, flag.explained_by, flag.case_id = now, case.handler_id, case.id
    session.add(flag)
    session.flush()


KIND_SPECS = (
    KindSpec(Kind.ANOMALY_VERIFICATION, checks=(check_anomaly,), effect=settle_from_case, several_open=True,
             shown=frozenset({"flag_id", "rule", "area", "month", "subject", "finding"})),
)
