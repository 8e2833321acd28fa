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
    # Signing a commitment or a claim: only a session signed in with the card and the provider's face check.
    # A person signed in otherwise is sent to confirm with the card (a step-up) and brought back.
    face: bool = False

    def allows(self, principal: Principal | None) -> bool:
        if self.kind == "public":
            return True
        if principal is None or principal.kind != self.kind:
            return False
        if self.awaits_proof(principal) or self.awaits_face(principal):
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

    def awaits_face(self, principal: Principal | None) -> bool:
        """A proven person of the right kind whose session was not signed in with the card's face check."""
        return (self.face and principal is not None and principal.kind == "person" and not self.awaits_proof(principal)
                and not principal.face_verified)

    def describe(self) -> str:
        extra = f"[{','.join(sorted(self.roles))}]" if self.roles else ""
        unproven = "[unproven]" if self.kind == "person" and not self.proven else ""
        face = "[face]" if self.face else ""
        return f"{self.kind}{extra}{'[admin]' if self.employer_admin else ''}{unproven}{face}"


PUBLIC = Access("public")
PERSON = Access("person")
# Only the proof step: a person account that may not have proven itself yet.
PERSON_UNPROVEN = Access("person", proven=False)
PROOF_STEP = "/me/prove"
# Signing commitments and claims: a person confirms with the card and the face check first.
PERSON_FACE = Access("person", face=True)
FACE_STEP = "/auth/essc/login?face=1&next="
EMPLOYER = Access("employer")
EMPLOYER_ADMIN = Access("employer", employer_admin=True)


def STAFF(*roles: str) -> Access:  # noqa: N802 - reads as a constant at the call site
    return Access("staff", roles=frozenset(roles))
