"""SQLModel tables, one module per aggregate. Import from here: ``from portal.models import Person``."""

from portal.models.accounts import Employer, EmployerOperator, Person, PersonAccount, StaffMember
from portal.models.security import AuditEvent, AuditHead, WebSession

__all__ = [
    "AuditEvent",
    "AuditHead",
    "Employer",
    "EmployerOperator",
    "Person",
    "PersonAccount",
    "StaffMember",
    "WebSession",
]
