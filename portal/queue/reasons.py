"""Reason codes recorded with decisions, returns and send-backs.

Codes are stable machine values stored on the case; the labels are what the
applicant and staff read. Each code belongs to one use so that, say, a rejection
cannot be filed under a "please correct your form" reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ReasonUse(StrEnum):
    APPROVE = "approve"  # handler approves, or recommends approval
    REJECT = "reject"  # handler rejects, or recommends rejection
    RETURN = "return"  # handed back to the applicant to correct or supply something
    SEND_BACK = "send_back"  # reviewer sends the case back to the handler


@dataclass(frozen=True)
class Reason:
    code: str
    use: ReasonUse
    zh_CN: str
    en: str


REASONS: tuple[Reason, ...] = (
    Reason("conditions_met", ReasonUse.APPROVE, "符合办理条件", "All conditions are met"),
    Reason(
        "conditions_met_after_correction",
        ReasonUse.APPROVE,
        "补正后符合办理条件",
        "Conditions are met after correction",
    ),
    Reason("not_eligible", ReasonUse.REJECT, "不符合办理条件", "The applicant is not eligible"),
    Reason(
        "insufficient_evidence",
        ReasonUse.REJECT,
        "证明材料不足以支持申请",
        "The evidence does not support the request",
    ),
    Reason("duplicate_request", ReasonUse.REJECT, "重复申请", "A request for the same matter already exists"),
    Reason(
        "outside_time_limit",
        ReasonUse.REJECT,
        "超出规定办理期限",
        "The request is outside the permitted time limit",
    ),
    Reason(
        "record_conflict",
        ReasonUse.REJECT,
        "与参保缴费记录不符",
        "The request conflicts with the contribution record",
    ),
    Reason("commitment_false", ReasonUse.REJECT, "承诺不实", "The commitment is false"),
    Reason("missing_document", ReasonUse.RETURN, "缺少申请材料", "A required document is missing"),
    Reason("illegible_document", ReasonUse.RETURN, "材料不清晰", "A document is illegible"),
    Reason(
        "information_mismatch",
        ReasonUse.RETURN,
        "填报信息与登记信息不一致",
        "The information given does not match our records",
    ),
    Reason("signature_missing", ReasonUse.RETURN, "缺少签字或盖章", "A signature or seal is missing"),
    Reason("identity_unverified", ReasonUse.RETURN, "身份信息未能核验", "The identity could not be verified"),
    Reason("calculation_error", ReasonUse.SEND_BACK, "核算有误", "The calculation is wrong"),
    Reason(
        "evidence_not_checked",
        ReasonUse.SEND_BACK,
        "材料核验不充分",
        "The evidence was not checked thoroughly",
    ),
    Reason("policy_misapplied", ReasonUse.SEND_BACK, "政策适用有误", "The wrong rule was applied"),
    Reason(
        "recommendation_unsupported",
        ReasonUse.SEND_BACK,
        "经办意见依据不足",
        "The recommendation is not supported by the file",
    ),
)

BY_CODE: dict[str, Reason] = {r.code: r for r in REASONS}


def is_valid(code: str, use: ReasonUse) -> bool:
    reason = BY_CODE.get(code)
    return reason is not None and reason.use is use


def reasons_for(use: ReasonUse) -> list[Reason]:
    return [r for r in REASONS if r.use is use]


def label(code: str, locale: str = "zh_CN") -> str:
    """Label in the portal's locale; anything that is not English gets Chinese."""
    reason = BY_CODE[code]
    return reason.en if locale.lower().startswith("en") else reason.zh_CN
