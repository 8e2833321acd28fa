"""Who is making a request: the signed-in account, reduced to what access checks need."""

from __future__ import annotations

from dataclasses import dataclass, field

ACCOUNT_KINDS = ("person", "employer", "staff")
STAFF_ROLES = ("handler", "reviewer", "supervisor", "admin")


@dataclass(frozen=True)
class Principal:
    kind: str  # person | employer | staff
    account_id: int
    display_name: str
    person_id: int | None = None
    employer_id: int | None = None
    employer_status: str | None = None
    is_employer_admin: bool = False
    roles: frozenset[str] = field(default_factory=frozenset)
    region: str | None = None
    # A person account sees its record only once proven to be that person. sessions.principal_for always sets
    # this from the account; the default only serves principals built by hand in tests and batch tools.
    identity_proven: bool = True
    # How this session signed in (portal/auth/sessions.py): password | card | face.
    assurance: str = "password"

    @property
    def home(self) -> str:
        return {"person": "/me", "employer": "/employer", "staff": "/staff"}[self.kind]

    @property
    def face_verified(self) -> bool:
        """Signed in with the electronic social security card and the provider's face check."""
        return self.assurance == "face"

    @property
    def actor_id(self) -> str:
        return f"{self.kind}:{self.account_id}"

    @property
    def party(self) -> tuple[str, int] | None:
        """Whom the account acts for: ("person", person id) or ("employer", employer id); None for staff and
        for an account linked to neither."""
        if self.kind == "person" and self.person_id is not None:
            return "person", self.person_id
        if self.kind == "employer" and self.employer_id is not None:
            return "employer", self.employer_id
        return None

    def has_role(self, *roles: str) -> bool:
        return self.kind == "staff" and bool(self.roles & set(roles))


@dataclass(frozen=True)
class Actor:
    """The principal (or the system) plus where the request came from, for the audit log."""

    principal: Principal | None
    address: str = ""

    @property
    def kind(self) -> str:
        if self.principal:
            return self.principal.kind
        return "system" if self is SYSTEM or self.address == "system" else "anonymous"

    @property
    def id(self) -> str:
        return str(self.principal.account_id) if self.principal else ""


SYSTEM = Actor(principal=None, address="system")
