"""Who is acting on a case and who it is for: applicants, staff, what each may see and do."""

from __future__ import annotations

from dataclasses import dataclass

from portal.auth.principal import Actor, Principal
from portal.errors import N_, Msg, PortalError
from portal.models import Case, StaffMember
from portal.policy import regions
from portal.queue.routing import (
    Route,
)
from portal.queue.states import (
    Action,
    ActorKind,
    CaseFacts,
    Recommendation,
    Role,
    State,
    allowed_actions,
)
from portal.queue.states import Actor as MachineActor

PREFECTURES = regions.PREFECTURES
PROVINCE = regions.PROVINCE
# A case is for a person or an employer, or for an area (the province or a prefecture) when staff open it on the
# fund's behalf: the verification of an anomaly found in a prefecture's figures, a review step of the province's
# fund budget. An area has no account and no inbox; staff follow its cases in the queue and on the monitoring pages.
AREA = "area"
APPLICANT_KINDS = ("person", "employer", AREA)
MACHINE_SYSTEM = MachineActor("system", ActorKind.SYSTEM)


@dataclass(frozen=True)
class Applicant:
    """Who a case is for: a person or an employer, and the account that filed it; or an area (``area_party``)."""

    kind: str  # person | employer | area
    id: int  # person.id, employer.id, or the area's six-digit code
    account_id: int | None = None

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.id}"


def applicant_of(who: Applicant | Actor | Principal) -> Applicant:
    if isinstance(who, Applicant):
        return who
    principal = who.principal if isinstance(who, Actor) else who
    party = principal.party if principal is not None else None
    if party is not None:
        return Applicant(*party, principal.account_id)
    raise PortalError(Msg(N_("Only a person or an employer can submit a request.")))


def area_party(code: str) -> Applicant:
    """The province (220000) or one of its prefectures as the party a case is for: cases staff open on the fund's
    behalf. The case is handled where the area is (``case_prefecture_allowed``)."""
    if code != PROVINCE and code not in PREFECTURES:
        raise PortalError(Msg(N_("Choose the prefecture that handles this request.")))
    return Applicant(AREA, int(code))


def area_of(case: Case) -> str | None:
    """The area a case is for (its six-digit code), or None when it is for a person or an employer."""
    return f"{case.applicant_id:06d}" if case.applicant_kind == AREA else None


def case_prefecture_allowed(applicant: Applicant, prefecture: str) -> bool:
    """Where a case may be handled: a prefecture, or - for a case of the province itself - the province, which only
    provincial staff cover (``covers``)."""
    return prefecture in PREFECTURES or (applicant.kind == AREA and prefecture == PROVINCE
                                         and applicant.id == int(PROVINCE))


def staff_ref(staff_id: int | None) -> str | None:
    return None if staff_id is None else f"staff:{staff_id}"


def staff_id_of(ref: str | None) -> int | None:
    return None if ref is None else int(ref.split(":", 1)[1])


def machine_actor(actor: Actor) -> MachineActor:
    """The state machine's view of whoever is acting."""
    principal = actor.principal
    if principal is None:
        if actor.kind == "system":
            return MACHINE_SYSTEM
        return MachineActor("anonymous", ActorKind.APPLICANT)
    if principal.kind == "staff":
        roles = frozenset(Role(r) for r in principal.roles if r in Role._value2member_map_)
        return MachineActor(f"staff:{principal.account_id}", ActorKind.STAFF, roles)
    return MachineActor(applicant_of(principal).ref, ActorKind.APPLICANT)


def staff_actor(staff: StaffMember) -> MachineActor:
    roles = frozenset(Role(r) for r in staff.role_set if r in Role._value2member_map_)
    return MachineActor(f"staff:{staff.id}", ActorKind.STAFF, roles)


def covers(region: str | None, prefecture: str) -> bool:
    """Provincial staff see every prefecture; staff posted to a prefecture see that one only."""
    return region in (None, "", PROVINCE) or region == prefecture


def may_see(actor: Actor, case: Case) -> bool:
    principal = actor.principal
    if principal is None:
        return actor.kind == "system"
    if principal.kind == "staff":
        return covers(principal.region, case.prefecture)
    applicant = applicant_of(principal)
    return (applicant.kind, applicant.id) == (case.applicant_kind, case.applicant_id)


def facts_of(case: Case) -> CaseFacts:
    return CaseFacts(
        kind=case.kind,
        state=State(case.state),
        path=Route(case.route),
        applicant_account_id=f"{case.applicant_kind}:{case.applicant_id}",
        handler_id=staff_ref(case.handler_id),
        reviewer_id=staff_ref(case.reviewer_id),
        recommendation=Recommendation(case.recommendation) if case.recommendation else None,
        recommendation_reason=case.recommendation_reason,
        checks_passed=case.checks_passed,
        opened=case.opened_at is not None,
    )


def actions_for(case: Case, actor: Actor) -> list[Action]:
    """What the actor may attempt now, for the page (the service still checks everything)."""
    if not may_see(actor, case) or filed_at_counter_by(case, actor):
        return []
    return [action for action in allowed_actions(facts_of(case), machine_actor(actor))
            if not returns_to_nobody(case, action)]


def returns_to_nobody(case: Case, action: Action) -> bool:
    """A case for an area has no applicant to answer it: it is never returned to one."""
    return case.applicant_kind == AREA and action == Action.RETURN_TO_APPLICANT


def filed_at_counter_by(case: Case, actor: Actor) -> bool:
    principal = actor.principal
    return (principal is not None and principal.kind == "staff" and case.counter_staff_id is not None
            and case.counter_staff_id == principal.account_id)


prefecture_of = regions.prefecture_of
