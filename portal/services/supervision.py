"""Supervision by class (分类监管) and spot checks afterwards (事后抽查).

Before submitting, an applicant is told how the request will be checked and why: the credit grade gives the
risk tier (``supervision_tiers``), the tier and the kind give the queue's route (portal/queue/data/routing.yaml),
and money always takes two people. After the decision, a share of the automatically approved and the committed
cases of each tier (``spot_check_rates``) is sampled into the queue as ``spot_check`` cases. A handler who
finds the commitment false rejects the spot check with that reason: the decision is revoked by its kind's
``KindSpec.revoke`` (a deferral's months fall due again with their late fees, money paid on a claim is to be
repaid, an enrolment granted by exception ends), the evidence is marked, the false commitment is recorded as a
credit event (which bars commitments from then on), and the applicant is told.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import exists
from sqlmodel import Session, select

from portal import audit
from portal.auth.principal import SYSTEM, Actor
from portal.errors import N_, Msg
from portal.models import Case, CaseEvent, CommitmentEvidence
from portal.policy import commitments as catalogue
from portal.policy.rules import credit as rules
from portal.queue import cases, kinds, notices, parties, routing
from portal.queue import service as queue
from portal.queue.kinds import CheckResult, Kind, KindSpec
from portal.services import commitments, credit

NOT_SAMPLED_KINDS = (Kind.SPOT_CHECK, Kind.DISHONESTY_LISTING, Kind.CREDIT_OBJECTION)


@dataclass(frozen=True)
class Assessment:
    rating: rules.Rating
    tier: str
    route: str  # auto | single | dual
    money: bool
    eligibility: commitments.Eligibility
    items: tuple[str, ...]  # commitment items the kind offers
    how: Msg  # how the request will be checked
    why: Msg  # because …
    improve: tuple[Msg, ...]  # how to be checked more lightly


def tier_of(rating: rules.Rating, on: date) -> str:
    return "D" if rating.listed else rules.tier_of(rating.grade, on)


def assess(session: Session, *, subject: credit.Subject, kind: str, on: date) -> Assessment:
    """How a request of ``kind`` from ``subject`` would be checked if submitted on ``on``, and why."""
    rating = credit.rating_of(session, subject=subject, on=on)
    tier = tier_of(rating, on)
    route = str(routing.route_for(kind, tier))
    money = routing.is_money_kind(kind)
    eligible = commitments.eligibility(session, subject=subject, on=on, rating=rating)
    if route == routing.Route.AUTO:
        how = Msg(N_("Your request will be approved automatically once the automatic checks pass. It may be "
                     "sampled for a check afterwards."))
    elif route == routing.Route.SINGLE:
        how = Msg(N_("One member of staff will check and decide your request."))
    else:
        how = Msg(N_("A member of staff will check your request and a second member of staff will review the "
                     "decision."))
    if rating.listed:
        why = Msg(N_("You are on the serious-dishonesty list, so your requests are checked most closely (tier D)."))
    elif money:
        why = Msg(N_("Decisions that move money always take two people."))
    else:
        why = Msg(N_("Your credit grade is %(grade)s (score %(score)s), which puts your requests in risk tier "
                     "%(tier)s."), {"grade": rating.grade, "score": rating.score, "tier": tier})
    improve = []
    scoring = rules.scoring(on)
    if rating.points_to_next:
        better = next(g for g, lowest in reversed(scoring.thresholds) if rating.score + rating.points_to_next >= lowest)
        improve.append(Msg(N_("%(points)s more points would raise your grade to %(grade)s."),
                           {"points": rating.points_to_next, "grade": better}))
    if not rating.listed and rating.grade != "A":
        improve.append(Msg(N_("Each bill paid by its due date adds %(each)s point, up to %(cap)s points; late "
                              "payments and arrears stop counting after %(months)s months."),
                           {"each": scoring.weights["on_time_payment"], "cap": scoring.on_time_cap,
                            "months": scoring.counts_months["late_payment"]}))
    return Assessment(rating, tier, route, money, eligible, catalogue.items_for(kind), how, why, tuple(improve))


# --- spot checks -------------------------------------------------------------------------------------------------


def _committed(case_id) -> object:
    return exists().where(CommitmentEvidence.case_id == case_id)


def sample(session: Session, *, now: datetime, shares: Mapping[str, Decimal] | None = None,
           batch: int = 500) -> int:
    """Draws spot checks among approved cases that were approved automatically or rest on a commitment.

    Each case is drawn (or not) by a stable hash of its reference against its tier's share, and a drawn case's
    spot check is keyed by that reference, so running this again draws nothing twice. Returns the number opened.
    """
    today = credit.china_today(now)
    opened, last_id = 0, 0
    spot_keys = select(Case.idempotency_key).where(Case.kind == Kind.SPOT_CHECK)
    while True:
        rows = session.exec(select(Case).where(
            Case.id > last_id, Case.outcome == "approved", Case.kind.not_in([str(k) for k in NOT_SAMPLED_KINDS]),
            (Case.route == routing.Route.AUTO) | _committed(Case.id),
            ("spot:" + Case.reference).not_in(spot_keys)).order_by(Case.id).limit(batch)).all()
        if not rows:
            return opened
        last_id = rows[-1].id
        for case in rows:
            share = (shares or {}).get(case.risk_tier)
            if share is None:
                share = rules.spot_check_share(case.risk_tier, today)
            if rules.sampled(case.reference, share):
                open_spot_check(session, case=case, now=now)
                opened += 1


def open_spot_check(session: Session, *, case: Case, now: datetime, actor: Actor = SYSTEM) -> Case:
    """A spot check of one decided case, for a handler (also opened by staff on a case they choose)."""
    evidence = commitments.evidence_of(session, case=case)
    payload = {"case_reference": case.reference, "case_kind": case.kind, "case_route": case.route,
               "case_tier": case.risk_tier, "commitments": [e.item for e in evidence]}
    return queue.submit(session, kind=Kind.SPOT_CHECK, applicant=parties.Applicant(case.applicant_kind, case.applicant_id),
                        payload=payload, prefecture=case.prefecture, idempotency_key=f"spot:{case.reference}",
                        now=now, actor=actor, tier=case.risk_tier)


def _checked_case(session: Session, spot: Case) -> Case | None:
    reference = cases.payload_of(spot).get("case_reference")
    original = session.exec(select(Case).where(Case.reference == reference)).first() if reference else None
    if original is None or (original.applicant_kind, original.applicant_id) != (spot.applicant_kind, spot.applicant_id):
        return None
    return original


def check_spot(session: Session, *, case: Case, payload: dict) -> CheckResult:
    original = _checked_case(session, case)
    if original is None:
        return CheckResult("spot_case", False, N_("The case to check was not found."))
    return CheckResult("spot_case", True, N_("Verify case %(reference)s: approve if it holds, reject with the reason "
                                             "\"commitment false\" if it does not."),
                       {"reference": original.reference})


def apply_spot_check(session: Session, *, case: Case, approved: bool, now: datetime, note: str) -> None:
    """Rejected: the commitment (or the automatic decision) was false - revoke, record, notify, bar."""
    original = _checked_case(session, case)
    if original is None or approved:
        return
    today = credit.china_today(now)
    revoke = kinds.spec_of(original.kind).revoke
    amount = revoke(session, case=original, now=now) if revoke is not None and original.outcome == "approved" else None
    session.add(CaseEvent(case_id=original.id, at=now, actor_kind="system", action="revoked",
                          from_state=original.state, to_state=original.state,
                          note=f"spot check {case.reference}"))
    evidence = commitments.evidence_of(session, case=original)
    for row in evidence:
        row.found_false_at = now
        row.found_false_case_id = case.id
        session.add(row)
    session.flush()
    subject = credit.Subject(original.applicant_kind, original.applicant_id)
    if evidence:
        credit.record_event(session, subject=subject, kind="false_commitment", occurred_on=today, now=now,
                            case_id=case.id, note=original.reference)
    if amount and original.kind == Kind.DEFERRAL:
        title = N_("A check found your request %(reference)s untrue: the decision is revoked and %(amount)s yuan is "
                   "due again with late fees. Commitments are barred: see your credit page.")
    elif amount:
        title = N_("A check found your request %(reference)s untrue: the decision is revoked and the %(amount)s yuan "
                   "paid because of it must be repaid. Commitments are barred: see your credit page.")
    else:
        title = N_("A check found your request %(reference)s untrue: the decision is revoked, it is on your credit "
                   "record and commitments are barred: see your credit page.")
    notices.notify(session, recipient_kind=subject.kind, recipient_id=subject.id, case_id=original.id,
                   now=now, title=title, params={"reference": original.reference, "amount": str(amount or "")})
    audit.record(session=session, actor=SYSTEM, action="case.revoked", now=now, object_type="case",
                 object_id=original.reference, detail={"spot_check": case.reference,
                                                       "amount_due": str(amount) if amount else None})


KIND_SPECS = (
    KindSpec(Kind.SPOT_CHECK, checks=(check_spot,), effect=apply_spot_check,
             shown=frozenset({"case_reference", "case_kind", "case_route", "case_tier", "commitments"})),
)
