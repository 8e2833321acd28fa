"""What a kind of request is: the one place a request kind is declared.

A kind is a name in ``Kind`` (with the safety facts the pure state machine needs: does it move money, does it
decide who someone is) and a ``KindSpec`` that the service owning it registers: its automatic checks, what a
decision does outside the queue, how its details are shown to staff, and the commitment items it accepts.

Adding a kind touches four places:
1. ``Kind`` below (and ``MONEY_KINDS`` / ``IDENTITY_KINDS`` when it is one);
2. the owning service module: checks and effect as plain functions in the one service signature
   (``check(session, *, case, payload)``, ``effect(session, *, case, approved, now, note)``), and a
   ``KIND_SPECS`` tuple of ``KindSpec``;
   ``portal.assembly`` lists the modules whose specs are registered at start-up (add the module there once);
3. ``data/routing.yaml``: its route per tier and its service time;
4. ``templates/staff/payload/<kind>.html``: how staff see its details (the keys in ``KindSpec.shown``; any other
   key is listed generically beneath).
The registry is filled once at start-up (``portal.assembly.assemble``), never by importing at call time, and
``check_complete`` refuses to start when a routed kind has no registration or the reverse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # the types only: the queue's models are below this module, the session is SQLAlchemy's
    from sqlmodel import Session

    from portal.models import Case


class Kind(StrEnum):
    EMPLOYER_VERIFICATION = "employer_verification"
    ENROLMENT_CORRECTION = "enrolment_correction"
    DEFERRAL = "deferral"
    BACK_PAYMENT = "back_payment"
    FLEXIBLE_EXCEPTION = "flexible_exception"
    TRANSFER = "transfer"
    RETIREMENT_CLAIM = "retirement_claim"
    CERTIFICATION_EXCEPTION = "certification_exception"
    SURVIVOR_CLAIM = "survivor_claim"
    CREDIT_OBJECTION = "credit_objection"
    DISHONESTY_LISTING = "dishonesty_listing"
    SPOT_CHECK = "spot_check"
    ANOMALY_VERIFICATION = "anomaly_verification"
    BUDGET_REVIEW = "budget_review"


# Decisions that move money take two people on every tier; routing.py refuses a file that routes them otherwise.
MONEY_KINDS: frozenset[Kind] = frozenset(
    {Kind.BACK_PAYMENT, Kind.TRANSFER, Kind.RETIREMENT_CLAIM, Kind.SURVIVOR_CLAIM}
)

# Decisions on who someone is (an employer's registration, a person's insured identity and record): approving one
# whose automatic checks failed takes a handler and a different reviewer, whatever the route says.
IDENTITY_KINDS: frozenset[Kind] = frozenset({Kind.EMPLOYER_VERIFICATION, Kind.ENROLMENT_CORRECTION})


@dataclass(frozen=True)
class CheckResult:
    code: str
    passed: bool
    message: str  # English message id
    params: dict[str, Any] | None = None

    def as_json(self) -> dict:
        return {"code": self.code, "passed": self.passed, "message": self.message, "params": self.params or {}}


# The one service signature: the session positional, everything else by keyword.
class Check(Protocol):
    """check(session, *, case, payload): one automatic check of a submitted case."""

    def __call__(self, session: Session, *, case: Case, payload: dict) -> CheckResult: ...


class Effect(Protocol):
    """effect(session, *, case, approved, now, note): what the decision changes outside the queue."""

    def __call__(self, session: Session, *, case: Case, approved: bool, now: datetime, note: str) -> None: ...


class Revoke(Protocol):
    """revoke(session, *, case, now): undoes an approval found false afterwards (a spot check); returns the amount
    due again, or None."""

    def __call__(self, session: Session, *, case: Case, now: datetime) -> Any: ...


@dataclass(frozen=True)
class KindSpec:
    kind: Kind
    checks: tuple[Check, ...] = ()
    effect: Effect | None = None
    # The payload keys the kind's staff partial (templates/staff/payload/<kind>.html) shows itself; empty means
    # no partial, so every key is listed generically.
    shown: frozenset[str] = frozenset()
    # Items of the commitment catalogue an applicant may commit to instead of proving (the trust work fills it).
    commitments: tuple[str, ...] = ()
    # What revoking an approval undoes (portal/services/supervision.py), when the kind can be revoked.
    revoke: Revoke | None = None
    # Whether one applicant may have several open cases of the kind at once, each about its own subject (the
    # verification of each anomaly of a prefecture): the common "no other open request" check is then not run.
    several_open: bool = False

    @property
    def payload_template(self) -> str | None:
        return f"staff/payload/{self.kind}.html" if self.shown else None


class RegistryError(RuntimeError):
    """A kind registered twice differently, used before start-up registered it, or routed without a spec."""


_SPECS: dict[str, KindSpec] = {}


def register(*specs: KindSpec) -> None:
    for spec in specs:
        kind = Kind(spec.kind)
        known = _SPECS.get(kind)
        if known is not None and known != spec:
            raise RegistryError(f"{kind} is registered twice with different specs")
        _SPECS[str(kind)] = spec


def spec_of(kind: str) -> KindSpec:
    try:
        return _SPECS[kind]
    except KeyError:
        raise RegistryError(f"request kind {kind!r} is not registered (portal.assembly.assemble() registers the "
                            "kinds at start-up)") from None


def registered() -> Mapping[str, KindSpec]:
    return MappingProxyType(_SPECS)


def check_complete(routed: set[str]) -> None:
    """Every routed kind has a registration, and every registration is routed."""
    unregistered = sorted(map(str, set(routed) - set(_SPECS)))
    unrouted = sorted(map(str, set(_SPECS) - set(routed)))
    if unregistered or unrouted:
        raise RegistryError(f"kinds routed but not registered: {unregistered}; registered but not routed: {unrouted}")
