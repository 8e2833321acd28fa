"""SQLModel tables, one module per aggregate. Import from here: ``from portal.models import Person``."""

from portal.models.accounts import Employer, EmployerOperator, Person, PersonAccount, StaffMember
from portal.models.benefits import (
    CertificationNotice,
    DeathCertificate,
    DeathReport,
    FamilyLink,
    LifeCertification,
    PayrollTotal,
    PensionAdjustment,
    PensionAward,
    PensionPayment,
    RetirementClaim,
    SurvivorAward,
)
from portal.models.certificates import Certificate
from portal.models.credit import CommitmentEvidence, CreditEvent, CreditRating, DishonestyListing
from portal.models.declarations import DeclarationDraft
from portal.models.essc import CardLink, QrSignIn
from portal.models.idempotency import IdempotencyKey
from portal.models.identity import IdentityClaim, IdentityCode
from portal.models.monitoring import (
    FundBudget,
    FundBudgetStep,
    FundReceipt,
    MonitoringDigest,
    MonitoringFlag,
    MonitoringMonth,
    MonitoringPyramid,
)
from portal.models.queue import Case, CaseAttachment, CaseCounter, CaseEvent, Notice
from portal.models.records import (
    BaseDeclaration,
    Bill,
    ContributionMonth,
    EmploymentSpell,
    FlexibleBaseChoice,
    FlexibleEnrolment,
    Payment,
    PaymentOrder,
    PaymentOrderBill,
    PersonalAccountYear,
)
from portal.models.security import AuditEvent, AuditHead, WebSession
from portal.models.transfers import ProvinceMessage, Transfer, TransferLeg

__all__ = [
    "CertificationNotice",
    "DeathCertificate",
    "DeathReport",
    "FamilyLink",
    "LifeCertification",
    "PayrollTotal",
    "PensionAdjustment",
    "PensionAward",
    "PensionPayment",
    "RetirementClaim",
    "SurvivorAward",
    "BaseDeclaration",
    "Bill",
    "ContributionMonth",
    "DeclarationDraft",
    "EmploymentSpell",
    "FlexibleBaseChoice",
    "FlexibleEnrolment",
    "Payment",
    "PaymentOrder",
    "PaymentOrderBill",
    "PersonalAccountYear",
    "QrSignIn",
    "AuditEvent",
    "AuditHead",
    "Case",
    "CaseAttachment",
    "CaseCounter",
    "CaseEvent",
    "CardLink",
    "Certificate",
    "CommitmentEvidence",
    "CreditEvent",
    "CreditRating",
    "DishonestyListing",
    "Employer",
    "EmployerOperator",
    "IdempotencyKey",
    "MonitoringDigest",
    "MonitoringFlag",
    "FundBudget",
    "FundBudgetStep",
    "FundReceipt",
    "MonitoringMonth",
    "MonitoringPyramid",
    "IdentityClaim",
    "IdentityCode",
    "Notice",
    "Person",
    "PersonAccount",
    "ProvinceMessage",
    "StaffMember",
    "Transfer",
    "TransferLeg",
    "WebSession",
]
