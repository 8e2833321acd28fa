"""Who may call a route. Every endpoint declares one of these; a test walks the routes to prove it."""

from __future__ import annotations

from dataclasses import dataclass, field

from portal.auth.principal import Principal


@dataclass(frozen=True)
class Access:
    kind: str  # public | person | employer | staff
    roles: frozenset[str] = field(default_factory=frozenset)
    employer_admin: bool = False
    # Person pages show the record: only to an account proven to be its person (portal/services/identity.py).
    # The proof step itself is the one person page that does without.
    proven: bool = True

    def allows(self, principal: Principal | None) -> bool:
        if self.kind == "public":
            return True
        if principal is None or principal.kind != self.kind:
            return False
        if self.awaits_proof(principal):
            return False
        if self.kind == "staff" and self.roles:
            return bool(principal.roles & self.roles)
        if self.employer_admin:
            return principal.is_employer_admin
        return True

    def awaits_proof(self, principal: Principal | None) -> bool:
        """A person account of the right kind that must first prove it is its person."""
        return (self.kind == "person" and self.proven and principal is not None and principal.kind == "person"
                and not principal.identity_proven)

    def describe(self) -> str:
        extra = f"[{','.join(sorted(self.roles))}]" if self.roles else ""
        unproven = "[unproven]" if self.kind == "person" and not self.proven else ""
        return f"{self.kind}{extra}{'[admin]' if self.employer_admin else ''}{unproven}"


PUBLIC = Access("public")
PERSON = Access("person")
# Only the proof step: a person account that may not have proven itself yet.
PERSON_UNPROVEN = Access("person", proven=False)
PROOF_STEP = "/me/prove"
EMPLOYER = Access("employer")
EMPLOYER_ADMIN = Access("employer", employer_admin=True)


def STAFF(*roles: str) -> Access:  # noqa: N802 - reads as a constant at the call site
    return Access("staff", roles=frozenset(roles))
