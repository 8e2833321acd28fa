"""Who may call a route. Every endpoint declares one of these; a test walks the routes to prove it."""

from __future__ import annotations

from dataclasses import dataclass, field

from portal.auth.principal import Principal


@dataclass(frozen=True)
class Access:
    kind: str  # public | person | employer | staff
    roles: frozenset[str] = field(default_factory=frozenset)
    employer_admin: bool = False

    def allows(self, principal: Principal | None) -> bool:
        if self.kind == "public":
            return True
        if principal is None or principal.kind != self.kind:
            return False
        if self.kind == "staff" and self.roles:
            return bool(principal.roles & self.roles)
        if self.employer_admin:
            return principal.is_employer_admin
        return True

    def describe(self) -> str:
        extra = f"[{','.join(sorted(self.roles))}]" if self.roles else ""
        return f"{self.kind}{extra}{'[admin]' if self.employer_admin else ''}"


PUBLIC = Access("public")
PERSON = Access("person")
EMPLOYER = Access("employer")
EMPLOYER_ADMIN = Access("employer", employer_admin=True)


def STAFF(*roles: str) -> Access:  # noqa: N802 - reads as a constant at the call site
    return Access("staff", roles=frozenset(roles))
