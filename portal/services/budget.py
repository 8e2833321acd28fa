"""The fund budget from the stored monthly figures: each year's evidence (set-based sums), the draft for a year
(portal/policy/budget.py), its execution month by month, and the long-horizon projection (portal/policy/
projection.py) from the cohorts of the record.

Income is the contributions collected for the year's months (征缴收入), expenditure the benefits paid out; a year is
evidence only when it is over (before the current year) and all twelve of its months are on record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import Integer, and_, cast, distinct, exists, extract, func, select
from sqlalchemy import case as sql_case
from sqlmodel import Session

from portal import audit
from portal.auth.principal import SYSTEM, Actor
from portal.errors import N_, Msg, ValidationFailed
from portal.models import (
    Case,
    ContributionMonth,
    DeathReport,
    EmploymentSpell,
    FundBudget,
    FundBudgetStep,
    FundReceipt,
    MonitoringMonth,
    PensionAward,
    Person,
    StaffMember,
    Transfer,
)
from portal.policy import budget as projection
from portal.policy import monitoring as figures
from portal.policy import projection as projection_model
from portal.policy.money import to_fen
from portal.policy.parameters import param
from portal.queue import cases, parties
from portal.queue import service as queue
from portal.queue.cases import OPEN_STATES
from portal.queue.kinds import CheckResult, Kind, KindSpec
from portal.services import monitoring


def receipts_by_year(session: Session, *, area: str, kind: str, before: int | None = None) -> dict[int, int]:
    """Money of one kind (remittance | subsidy) that arrived in the provincial special account, by year, in fen (the
    province: every area's)."""
    year = cast(extract("year", FundReceipt.month), Integer)
    statement = select(year, func.sum(FundReceipt.amount_fen)).where(FundReceipt.kind == kind).group_by(year)
    if area != monitoring.PROVINCE:
        statement = statement.where(FundReceipt.area == area)
    if before is not None:
        statement = statement.where(FundReceipt.month < date(before, 1, 1))
    return {int(when): int(total or 0) for when, total in session.execute(statement)}


def transfers_by_year(session: Session, *, area: str, before: int) -> dict[int, tuple[Decimal, Decimal]]:
    """Funds received with transfers merged in and sent with transfers completed out, by the year (China time) they
    were last updated (in, out), in yuan: one set-based aggregate. A person's area is the prefecture of their
    identity number (the record holds no other area for a transfer). The amounts are the two parts of the funds
    (personal account and pooled) kept with each transfer: received for a transfer in, sent for one out."""
    year = monitoring.china_year(session, column=Transfer.updated_at)

    def moved(which: str):
        return sum((monitoring.json_fen(session, column=Transfer.amounts_json, path=(which, part))
                    for part in ("personal_account", "pooled")), start=0)

    statement = (select(year, func.sum(sql_case((Transfer.direction == "in", moved("received")), else_=0)),
                        func.sum(sql_case((Transfer.direction == "in", 0), else_=moved("sent"))))
                 .select_from(Transfer)
                 .where(Transfer.state.in_(("merged", "completed")), year < before)
                 .group_by(year))
    if area != monitoring.PROVINCE:
        statement = statement.join(Person, Person.id == Transfer.person_id).where(
            monitoring.prefecture_column(Person.id_number) == area)
    return {int(when): (figures.yuan(int(money_in or 0)), figures.yuan(int(money_out or 0)))
            for when, money_in, money_out in session.execute(statement)}


def history(session: Session, *, area: str, before: int) -> list[projection.YearFigures]:
    """The area's complete years before ``before`` (the current year): income and expenditure, contributors and
    pensioners a month, fiscal subsidies arrived, funds transferred in and out."""
    year = cast(extract("year", MonitoringMonth.month), Integer)
    rows = session.execute(
        select(year, func.count(MonitoringMonth.id), func.sum(MonitoringMonth.collected_fen),
               func.sum(MonitoringMonth.payments_out_fen), func.sum(MonitoringMonth.contributors),
               func.sum(MonitoringMonth.pensioners))
        .where(MonitoringMonth.area == area, MonitoringMonth.month < date(before, 1, 1)).group_by(year).order_by(year))
    subsidies = receipts_by_year(session, area=area, kind="subsidy", before=before)
    transfers = transfers_by_year(session, area=area, before=before)
    return [projection.YearFigures(int(when), figures.yuan(int(money_in or 0)), figures.yuan(int(money_out or 0)),
                                   _per_month(contributors, months), _per_month(pensioners, months),
                                   figures.yuan(subsidies.get(int(when), 0)),
                                   *transfers.get(int(when), (Decimal(0), Decimal(0))))
            for when, months, money_in, money_out, contributors, pensioners in rows if int(months) == 12]


def _per_month(total, months) -> Decimal:
    return (Decimal(int(total or 0)) / int(months)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def draft(session: Session, *, area: str, year: int, today: date) -> projection.Draft | None:
    """The budget for ``year`` drawn from the years that are over by ``today``."""
    return projection.draft(year, history(session, area=area, before=min(year, today.year)))


def execution(session: Session, *, area: str, year: int, today: date) -> tuple[projection.Draft | None,
                                                                                  list[projection.ExecutionMonth]]:
    """The budget for ``year`` (the approved version when there is one, else the draft from the years before) and
    each month of the year on record against it."""
    budget = approved_lines(session, area=area, year=year) or draft(session, area=area, year=year, today=today)
    if budget is None:
        return None, []
    rows = session.execute(
        select(MonitoringMonth.month, MonitoringMonth.collected_fen, MonitoringMonth.payments_out_fen)
        .where(MonitoringMonth.area == area, MonitoringMonth.month >= date(year, 1, 1),
               MonitoringMonth.month <= date(year, 12, 1)))
    return budget, projection.execution(budget, ((month, figures.yuan(int(money_in)), figures.yuan(int(money_out)))
                                                 for month, money_in, money_out in rows))


def budgets_for_assessment(session: Session, *, year: int, today: date) -> dict[str, projection.Draft]:
    """Each prefecture's budget for ``year`` (for the assessment's budget completion and subsidy arrival): the
    approved version when there is one, else the draft from the years before; none without either."""
    found = {}
    for area in monitoring.PREFECTURES:
        budget = approved_lines(session, area=area, year=year) or draft(session, area=area, year=year, today=today)
        if budget is not None:
            found[area] = budget
    return found


def incomes(session: Session, *, year: int, today: date) -> dict[str, Decimal]:
    """Each prefecture's budgeted income for ``year`` (for the assessment's budget completion); none without one."""
    return {area: budget.income for area, budget in budgets_for_assessment(session, year=year, today=today).items()
            if budget.income}


# --- the approval chain -------------------------------------------------------------------------------------------
# The bureau drafts a version here; each later step (the provincial department's review, the finance department's,
# the approval) is a case of kind ``budget_review`` in the central queue, for the province (``parties.area_party``),
# naming the version it decides on. A handler who drafted the version or decided an earlier step of it cannot
# decide the step: the case is filed in the name of whoever acted last, and the decision refuses anyone earlier.
# Approving the case agrees (the next step's case is filed; the approval freezes the version), rejecting it returns
# the version to the bureau with the reason. Each decision is also kept in ``fund_budget_step`` with its case: the
# budget's own record of its chain, where steps recorded before the chain went through the queue stay readable.

CHAIN_REFUSALS = {
    "frozen": N_("This year's budget is approved and frozen; nothing more can be decided on it."),
    "not_open": N_("This version was returned or replaced by a later one; decide on the current version."),
    "wrong_step": N_("This step is not the next one for this version; reload the page to see where it stands."),
    "same_person": N_("You drafted this version or decided an earlier step of it; another person must decide this "
                      "step."),
    "under_review": N_("A version of this year's budget is under review; it must be returned before a new one is "
                       "drafted."),
    "stale": N_("The budget changed since you opened the page; reload it and decide on the current version."),
    "no_evidence": N_("No complete year is on record yet, so no budget can be drafted from evidence."),
}
MAX_STEP_NOTE = 500
# The province's lines a step's case carries, so whoever decides reads the figures on the case itself (yuan).
PAYLOAD_LINES = ("income", "subsidy", "expenditure", "transfers_in", "transfers_out", "balance", "gap")


@dataclass(frozen=True)
class Version:
    budget: FundBudget
    steps: list[FundBudgetStep]
    lines: dict[str, dict[str, str]]  # area → line → decimal string
    cases: dict[int, Case]  # the queue cases of its steps, by id: the decided ones and the one waiting

    @property
    def next_step(self) -> str | None:
        return projection.NEXT_STEP.get(self.budget.state)

    @property
    def waiting(self) -> Case | None:
        """The case in which the next step waits to be decided, if any."""
        step = self.next_step
        found = [case for case in self.cases.values() if case.state in [str(s) for s in OPEN_STATES]
                 and cases.payload_of(case).get("step") == step]
        return found[-1] if found else None

    def area(self, area: str) -> projection.Draft | None:
        found = self.lines.get(area)
        return projection.frozen(self.budget.year, found) if found is not None else None


def _step_cases(session: Session, budget_ids: list[int]) -> dict[int, dict[int, Case]]:
    """The budget_review cases of the province, by the version they name."""
    found: dict[int, dict[int, Case]] = {}
    if not budget_ids:
        return found
    province = parties.area_party(monitoring.PROVINCE)
    for case in session.execute(select(Case).where(Case.kind == str(Kind.BUDGET_REVIEW),
                                                   Case.applicant_kind == province.kind,
                                                   Case.applicant_id == province.id).order_by(Case.id)).scalars():
        budget_id = cases.payload_of(case).get("budget_id")
        if budget_id in budget_ids:
            found.setdefault(budget_id, {})[case.id] = case
    return found


def versions(session: Session, *, year: int) -> list[Version]:
    """Every version of the year's budget, latest first, with its steps in order and their cases."""
    budgets = session.execute(select(FundBudget).where(FundBudget.year == year)
                              .order_by(FundBudget.version.desc())).scalars().all()
    steps: dict[int, list[FundBudgetStep]] = {}
    if budgets:
        for step in session.execute(select(FundBudgetStep).where(FundBudgetStep.budget_id.in_([b.id for b in budgets]))
                                    .order_by(FundBudgetStep.decided_at, FundBudgetStep.id)).scalars():
            steps.setdefault(step.budget_id, []).append(step)
    filed = _step_cases(session, [item.id for item in budgets])
    return [Version(item, steps.get(item.id, []), json.loads(item.figures or "{}"), filed.get(item.id, {}))
            for item in budgets]


def staff_names(session: Session, *, ids: set[int]) -> dict[int, str]:
    """The names of the staff who drafted or decided budget steps."""
    if not ids:
        return {}
    return dict(session.execute(select(StaffMember.id, StaffMember.name).where(StaffMember.id.in_(ids))).all())


def approved_lines(session: Session, *, area: str, year: int) -> projection.Draft | None:
    """The area's figures in the year's approved (frozen) budget; None when none is approved."""
    figures_json = session.execute(select(FundBudget.figures).where(FundBudget.year == year,
                                                                    FundBudget.state == "approved")).scalar()
    if figures_json is None:
        return None
    found = json.loads(figures_json).get(area)
    return projection.frozen(year, found) if found is not None else None


def _refused(code: str, field: str = "decision") -> ValidationFailed:
    return ValidationFailed({field: Msg(CHAIN_REFUSALS[code])})


def _note(note: str | None, *, required: bool) -> str:
    note = (note or "").strip()
    if required and not note:
        raise ValidationFailed({"note": Msg(N_("Say why the version goes back to the bureau."))})
    if len(note) > MAX_STEP_NOTE:
        raise ValidationFailed({"note": Msg(N_("Keep the text under %(count)s characters."), {"count": MAX_STEP_NOTE})})
    return note


def _file_step(session: Session, *, budget: FundBudget, step: str, filed_by: int, actor: Actor,
               now: datetime) -> Case:
    """The queue case in which ``step`` of the version waits, filed in the name of ``filed_by`` (who may not
    decide it)."""
    province = projection.frozen(budget.year, json.loads(budget.figures or "{}").get(monitoring.PROVINCE, {}))
    payload = {"budget_id": budget.id, "year": budget.year, "version": budget.version, "step": step,
               "province": {line: str(getattr(province, line)) for line in PAYLOAD_LINES}}
    return queue.submit(session, kind=Kind.BUDGET_REVIEW, applicant=parties.area_party(monitoring.PROVINCE),
                        payload=payload, prefecture=monitoring.PROVINCE, channel="counter",
                        idempotency_key=f"budget:{budget.id}:{step}", now=now, actor=actor,
                        counter_staff_id=filed_by)


def _outside_the_queue(version: Version) -> bool:
    """A version left in the chain from before the chain went through the queue: open, with no case waiting."""
    return version.next_step is not None and version.waiting is None


def refusal_to_draft(session: Session, *, year: int) -> str | None:
    """Why the bureau may not draft a new version of ``year``'s budget now (a key of CHAIN_REFUSALS), or None.
    A version left mid-chain from before the chain went through the queue does not stand in the way: the new
    draft replaces it."""
    return projection.may_draft(version.budget.state for version in versions(session, year=year)
                                if not _outside_the_queue(version))


def draft_version(session: Session, *, year: int, actor: Actor, note: str, now: datetime, today: date) -> FundBudget:
    """The provincial social insurance bureau drafts a new version of ``year``'s budget, province-wide and per
    prefecture, from the evidence of the years before, and sends it to the provincial department's review (a case
    in the central queue). A version in the chain must be returned before a new one is drafted; one left mid-chain
    from before the chain went through the queue is replaced (``superseded``)."""
    note = _note(note, required=False)
    earlier = versions(session, year=year)
    refusal = refusal_to_draft(session, year=year)
    if refusal:
        raise _refused(refusal)
    lines = {}
    evidence: set[int] = set()
    for area in monitoring.AREAS:
        found = draft(session, area=area, year=year, today=today)
        if found is not None:
            lines[area] = projection.lines_of(found)
            evidence.update(item.year for item in found.evidence)
    if monitoring.PROVINCE not in lines:
        raise _refused("no_evidence")
    staff_id = actor.principal.account_id
    budget = FundBudget(year=year, version=max((v.budget.version for v in earlier), default=0) + 1, state="drafted",
                        figures=json.dumps(lines, sort_keys=True), note=note, drafted_by=staff_id, drafted_at=now,
                        evidence_years=", ".join(str(item) for item in sorted(evidence)))
    for version in earlier:
        if _outside_the_queue(version):
            version.budget.state = "superseded"
            session.add(version.budget)
    session.add(budget)
    session.flush()
    session.add(FundBudgetStep(budget_id=budget.id, step="draft", agreed=True, note=note, decided_by=staff_id,
                               decided_at=now))
    audit.record(session=session, actor=actor, action="budget.drafted", now=now, object_type="fund_budget",
                 object_id=budget.id, detail={"year": year, "version": budget.version})
    session.flush()
    _file_step(session, budget=budget, step=projection.NEXT_STEP["drafted"], filed_by=staff_id, actor=actor, now=now)
    return budget


def _version_of_case(session: Session, case: Case) -> tuple[FundBudget | None, dict]:
    payload = cases.payload_of(case)
    budget_id = payload.get("budget_id")
    budget = session.get(FundBudget, budget_id) if isinstance(budget_id, int) else None
    return budget, payload


def check_step(session: Session, *, case: Case, payload: dict) -> CheckResult:
    """The version named is still waiting for the step the case is for."""
    budget, payload = _version_of_case(session, case)
    if budget is None or budget.version != payload.get("version") \
            or projection.NEXT_STEP.get(budget.state) != payload.get("step"):
        return CheckResult("budget_step", False, N_("This version no longer waits for this step (it was returned, "
                                                    "replaced or decided): reject this case."))
    return CheckResult("budget_step", True, N_("Approve to agree with version %(version)s of the %(year)s budget "
                                               "at this step; reject to return it to the bureau, saying why in the "
                                               "note."), {"version": budget.version, "year": budget.year})


def decide_from_case(session: Session, *, case: Case, approved: bool, now: datetime, note: str) -> None:
    """The case's decision is the step's: approving agrees (and files the next step, or freezes the version at the
    approval), rejecting returns the version to the bureau with the note. Refused, and nothing kept: a step on a
    version that no longer waits for it, a decider who drafted the version or decided an earlier step of it, a
    return without a reason. Rejecting a case whose version no longer waits for it changes nothing."""
    budget, payload = _version_of_case(session, case)
    step = payload.get("step")
    if budget is None:
        if approved:
            raise _refused("not_open")
        return
    session.refresh(budget, with_for_update=True)
    waiting = budget.version == payload.get("version") and projection.NEXT_STEP.get(budget.state) == step
    if not waiting and not approved:
        return
    if budget.version != payload.get("version"):
        raise _refused("stale")
    note = _note(note, required=not approved)
    deciders = session.execute(select(FundBudgetStep.decided_by)
                               .where(FundBudgetStep.budget_id == budget.id)).scalars().all()
    decider = case.handler_id
    try:
        state = projection.decide(budget.state, step, agreed=approved, actor=decider, earlier=deciders)
    except projection.ChainRefused as refusal:
        raise _refused(refusal.code) from None
    budget.state = state
    if state == "approved":
        budget.approved_at = now
    session.add(budget)
    session.add(FundBudgetStep(budget_id=budget.id, step=step, agreed=approved, note=note, decided_by=decider,
                               decided_at=now, case_id=case.id))
    audit.record(session=session, actor=SYSTEM, action="budget.step", now=now, object_type="fund_budget",
                 object_id=budget.id, detail={"year": budget.year, "version": budget.version, "step": step,
                                              "agreed": approved, "case": case.reference})
    session.flush()
    following = projection.NEXT_STEP.get(state)
    if following is not None:
        _file_step(session, budget=budget, step=following, filed_by=decider, actor=SYSTEM, now=now)


KIND_SPECS = (
    KindSpec(Kind.BUDGET_REVIEW, checks=(check_step,), effect=decide_from_case,
             shown=frozenset({"budget_id", "year", "version", "step", "province"})),
)


# --- money arriving in the provincial special account -------------------------------------------------------------

RECEIPT_KINDS = ("remittance", "subsidy")
MAX_RECEIPT_NOTE = 200


def record_receipt(session: Session, *, area: str, month: date | None, kind: str, amount: str, note: str,
                   actor: Actor, now: datetime) -> FundReceipt:
    """A supervisor records money that arrived in the provincial special account: a prefecture's remittance of its
    collections, or a fiscal subsidy."""
    errors: dict[str, Msg] = {}
    if area not in monitoring.PREFECTURES:
        errors["area"] = Msg(N_("Choose the prefecture the money is for."))
    if month is None:
        errors["month"] = Msg(N_("Enter the month as year-month, for example 2026-03."))
    if kind not in RECEIPT_KINDS:
        errors["kind"] = Msg(N_("Choose what the money is."))
    try:
        value = Decimal((amount or "").strip().replace(",", ""))
        if not value.is_finite() or value <= 0 or value.as_tuple().exponent < -2 or value >= Decimal(10) ** 14:
            raise InvalidOperation
    except InvalidOperation:
        errors["amount"] = Msg(N_("Enter the amount in yuan, above zero, to the fen (for example 1250000.00)."))
        value = None
    note = (note or "").strip()
    if len(note) > MAX_RECEIPT_NOTE:
        errors["note"] = Msg(N_("Keep the text under %(count)s characters."), {"count": MAX_RECEIPT_NOTE})
    if errors:
        raise ValidationFailed(errors)
    receipt = FundReceipt(area=area, month=month, kind=kind, amount_fen=to_fen(value), note=note,
                          recorded_by=actor.principal.account_id, recorded_at=now)
    session.add(receipt)
    session.flush()
    audit.record(session=session, actor=actor, action="budget.receipt", now=now, object_type="fund_receipt",
                 object_id=receipt.id, detail={"area": area, "month": month.isoformat(), "kind": kind,
                                               "amount": str(value)})
    return receipt


def receipts(session: Session, *, area: str = "", limit: int = 24) -> list[FundReceipt]:
    statement = select(FundReceipt).order_by(FundReceipt.month.desc(), FundReceipt.id.desc()).limit(limit)
    if area in monitoring.PREFECTURES:
        statement = statement.where(FundReceipt.area == area)
    return list(session.execute(statement).scalars())


def receipts_in_period(session: Session, *, start: date, through: date) -> dict[tuple[str, str], int]:
    """(area, kind) → fen arrived in the months from ``start`` to ``through``."""
    rows = session.execute(select(FundReceipt.area, FundReceipt.kind, func.sum(FundReceipt.amount_fen))
                           .where(FundReceipt.month >= start, FundReceipt.month <= through)
                           .group_by(FundReceipt.area, FundReceipt.kind))
    return {(area, kind): int(total or 0) for area, kind, total in rows}


def _average_yuan(total_fen, count) -> Decimal:
    """A sum of fen over a count, in yuan to the fen (integers only: no float from the database's AVG)."""
    return figures.average_money(figures.yuan(int(total_fen or 0)), int(count or 0)) or Decimal(0)


def cohorts(session: Session, *, month: date, assumptions_on: date) -> list[projection_model.Cohort]:
    """The province's cohorts (sex, year of birth) as the record stands in ``month``: contributors with their average
    base, pensioners (current awards; a retiree not yet awarded draws the average award, or the first-pension share
    of the average base when there is none) with their average pension."""
    birth_year = cast(extract("year", Person.birth_date), Integer)
    people: dict[tuple[str, int], dict] = {}

    def entry(sex: str, year: int) -> dict:
        return people.setdefault((sex, int(year)), {"contributors": 0, "base": Decimal(0), "pensioners": 0,
                                                    "pension": Decimal(0)})

    for sex, year, count, base_total, rows in session.execute(
            select(Person.sex, birth_year, func.count(distinct(ContributionMonth.person_id)),
                   func.sum(ContributionMonth.base_fen), func.count(ContributionMonth.id))
            .join(Person, Person.id == ContributionMonth.person_id)
            .where(ContributionMonth.month == month, ContributionMonth.source.in_(monitoring.DUE_SOURCES))
            .group_by(Person.sex, birth_year)):
        row = entry(sex, year)
        row["contributors"], row["base"] = int(count), _average_yuan(base_total, rows)
    current = and_(PensionAward.superseded_by.is_(None), PensionAward.stopped_after.is_(None))
    for sex, year, count, pension_total in session.execute(
            select(Person.sex, birth_year, func.count(PensionAward.id), func.sum(PensionAward.monthly_fen))
            .join(Person, Person.id == PensionAward.person_id).where(current).group_by(Person.sex, birth_year)):
        row = entry(sex, year)
        row["pensioners"], row["pension"] = int(count), _average_yuan(pension_total, count)
    awarded = [row for row in people.values() if row["pensioners"]]
    contributing = [row for row in people.values() if row["contributors"]]
    if awarded:
        fallback = sum(row["pension"] * row["pensioners"] for row in awarded) / sum(r["pensioners"] for r in awarded)
    elif contributing:
        ratio = projection_model.assumptions_used(assumptions_on).value["new_pension_ratio"]
        fallback = ratio * sum(r["base"] * r["contributors"] for r in contributing) / sum(
            r["contributors"] for r in contributing)
    else:
        fallback = Decimal(0)
    has_award = exists().where(PensionAward.person_id == EmploymentSpell.person_id)
    for sex, year, count in session.execute(
            select(Person.sex, birth_year, func.count(distinct(EmploymentSpell.person_id)))
            .join(Person, Person.id == EmploymentSpell.person_id)
            .outerjoin(DeathReport, DeathReport.person_id == EmploymentSpell.person_id)
            .where(EmploymentSpell.end_reason == "retired", EmploymentSpell.end_month < month, ~has_award,
                   DeathReport.id.is_(None))
            .group_by(Person.sex, birth_year)):
        row = entry(sex, year)
        total = row["pensioners"] + int(count)
        row["pension"] = (row["pension"] * row["pensioners"] + fallback * int(count)) / total
        row["pensioners"] = total
    return [projection_model.Cohort(sex, year, Decimal(row["contributors"]), Decimal(row["pensioners"]),
                                    row["base"], row["pension"].quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
            for (sex, year), row in sorted(people.items()) if sex in ("male", "female")]


def long_horizon(session: Session, *, today: date) -> projection_model.Projection | None:
    """The province's fund to the horizon from the record as it stands in the last month before this year with anyone
    insured; None without one."""
    month = session.execute(
        select(func.max(MonitoringMonth.month))
        .where(MonitoringMonth.area == monitoring.PROVINCE, MonitoringMonth.insured > 0,
               MonitoringMonth.month < date(today.year, 1, 1))).scalar()
    if month is None:
        return None
    month = monitoring.as_month(month)
    totals = session.execute(
        select(func.sum(MonitoringMonth.due_fen), func.sum(MonitoringMonth.collected_fen),
               func.sum(MonitoringMonth.payments_out_fen))
        .where(MonitoringMonth.area == monitoring.PROVINCE, MonitoringMonth.month <= month)).one()
    last_year = session.execute(
        select(func.sum(MonitoringMonth.due_fen), func.sum(MonitoringMonth.collected_fen))
        .where(MonitoringMonth.area == monitoring.PROVINCE, MonitoringMonth.month >= date(month.year, 1, 1),
               MonitoringMonth.month <= month)).one()
    collection_rate = figures.ratio(int(last_year[1] or 0), int(last_year[0] or 0)) or Decimal(1)
    on = date(today.year, 1, 1)
    rate = param("employer_rate").at(on).value + param("individual_rate").at(on).value
    assumptions = projection_model.Assumptions.from_parameters(on, contribution_rate=rate,
                                                              collection_rate=collection_rate)
    opening = figures.yuan(int(totals[1] or 0) - int(totals[2] or 0))
    return projection_model.project(cohorts(session, month=month, assumptions_on=on), start_year=month.year,
                                    opening_balance=opening, assumptions=assumptions)
