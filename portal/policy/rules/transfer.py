"""Transfer of the pension relationship between provinces (转移接续, 国办发〔2009〕66号)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from portal.policy.dates import fmt_month, parse_month
from portal.policy.errors import PolicyInputError
from portal.policy.explain import Explainer, Explanation
from portal.policy.money import round_fen

SEXES = ("male", "female")


@dataclass(frozen=True)
class TransferResult:
    personal_account: Decimal  # what moves from the personal account: the two parts below
    account_from_1998: Decimal  # the balance built from 1998-01 on, moved whole
    account_before_1998: Decimal  # of the part built before 1998, only the person's own contributions with interest
    pooled: Decimal
    pooled_months: int
    explanation: Explanation
    provisional: bool


@dataclass(frozen=True)
class InsuredPeriod:
    """A stretch of contributions at one place (a city or province code), in chronological order."""

    place: str
    months: int


@dataclass(frozen=True)
class ClaimPlaceResult:
    place: str
    rule: int  # which clause of Art. 6 decided it: 1 to 4
    explanation: Explanation
    provisional: bool


@dataclass(frozen=True)
class TemporaryAccountResult:
    applies: bool
    explanation: Explanation
    provisional: bool


def transfer_amounts(
    history: Sequence[tuple[date, Decimal]],
    account_balance: Decimal,
    on: date,
    *,
    personal_account_before_1998: Decimal = Decimal("0.00"),
    own_contributions_before_1998: Decimal = Decimal("0.00"),
) -> TransferResult:
    """Funds moved on a transfer (国办发〔2009〕66号 第四条): the personal account built from 1998-01 on moves
    whole; of the part built before 1998 (``personal_account_before_1998``, included in ``account_balance``)
    only the person's own contributions with interest (``own_contributions_before_1998``) move. The pooled
    fund adds 12% of each month's actual contribution base from 1998-01 onward (part-years count by their
    months), rounded once, to the fen, after adding up the months."""
    for name, amount in (("account_balance", account_balance),
                         ("personal_account_before_1998", personal_account_before_1998),
                         ("own_contributions_before_1998", own_contributions_before_1998)):
        if amount < 0:
            raise PolicyInputError(name, "must not be negative")
    if personal_account_before_1998 > account_balance:
        raise PolicyInputError("personal_account_before_1998", "must not be more than the whole account balance")
    if own_contributions_before_1998 > personal_account_before_1998:
        raise PolicyInputError("own_contributions_before_1998",
                               "must not be more than the part of the account built before 1998")
    months = [month for month, _ in history]
    if len(set(months)) != len(months):
        raise PolicyInputError("history", "a month appears more than once")
    ex = Explainer()
    rule = ex.use("pooled_transfer", on, field_name="history")
    start = parse_month(rule["from_month"])
    counted = [(month, base) for month, base in history if month >= start]
    for month, base in counted:
        if base < 0:
            raise PolicyInputError("history", f"base for {fmt_month(month)} must not be negative")
    bases = sum((base for _, base in counted), Decimal(0))
    pooled = round_fen(bases * rule["rate"])
    from_1998 = account_balance - personal_account_before_1998
    moved = from_1998 + own_contributions_before_1998
    if personal_account_before_1998:
        ex.step("transfer.account_split", balance=account_balance, before=personal_account_before_1998,
                from_1998=from_1998, own=own_contributions_before_1998, moved=moved,
                kept=personal_account_before_1998 - own_contributions_before_1998)
    else:
        ex.step("transfer.account", balance=account_balance)
    ex.step("transfer.pooled", months=len(counted), start=fmt_month(start), bases=bases, rate=rule["rate"], amount=pooled)
    explanation = ex.build()
    return TransferResult(moved, from_1998, own_contributions_before_1998, pooled, len(counted), explanation,
                          explanation.provisional)


def claim_place(periods: Sequence[InsuredPeriod], hukou_place: str, on: date) -> ClaimPlaceResult:
    """Where benefits are claimed (待遇领取地, 66号 Art. 6): (1) the 户籍 place if the relationship is there;
    (2) otherwise the last insured place if it has ≥ 10 cumulative years; (3) otherwise the most recent place
    with ≥ 10 cumulative years; (4) otherwise the 户籍 place. Years at a place add up across separate stints."""
    if not periods:
        raise PolicyInputError("periods", "must list at least one insured period")
    for period in periods:
        if isinstance(period.months, bool) or not isinstance(period.months, int) or period.months < 0:
            raise PolicyInputError("periods", "months must be a whole number, 0 or more")
    ex = Explainer()
    threshold = ex.use("claim_place_years", on, field_name="on") * 12
    cumulative: dict[str, int] = {}
    for period in periods:
        cumulative[period.place] = cumulative.get(period.place, 0) + period.months
    last = periods[-1].place
    if last == hukou_place:
        place, rule = hukou_place, 1
    elif cumulative[last] >= threshold:
        place, rule = last, 2
    else:
        earlier = [p.place for p in reversed(periods) if p.place != last and cumulative[p.place] >= threshold]
        place, rule = (earlier[0], 3) if earlier else (hukou_place, 4)
    ex.step(f"transfer.claim_rule_{rule}", place=place, months=cumulative.get(place, 0), threshold=threshold)
    explanation = ex.build()
    return ClaimPlaceResult(place, rule, explanation, explanation.provisional)


def temporary_account(
    *, sex: str, age_years: int, cross_province: bool, to_hukou_place: bool, on: date, exemption: str = ""
) -> TemporaryAccountResult:
    """Whether the new place opens a temporary contribution account (临时缴费账户, 66号 Art. 5): a man aged 50
    or more, or a woman aged 40 or more, moving across provinces to a place that is not their 户籍 place
    keeps the basic relationship where it was. ``exemption`` names why the rule does not apply to this move
    (one of the parameter ``temporary_account_exemptions``: a move approved by a party organisation or a
    human-resources department at county level or above), or is empty."""
    if sex not in SEXES:
        raise PolicyInputError("sex", "must be male or female")
    ex = Explainer()
    ages = ex.use("temporary_account_age", on, field_name="on")
    exempt = False
    if exemption:
        if exemption not in ex.use("temporary_account_exemptions", on, field_name="exemption"):
            raise PolicyInputError("exemption", "is not an exemption the rules know")
        exempt = True
    would_apply = cross_province and not to_hukou_place and age_years >= ages[sex]
    applies = would_apply and not exempt
    ex.step(
        "transfer.temporary_account" if applies else "transfer.general_account",
        age=age_years,
        threshold=ages[sex],
        cross_province="yes" if cross_province else "no",
        hukou="yes" if to_hukou_place else "no",
    )
    if would_apply and exempt:
        ex.step(f"transfer.exempt_{exemption}")
    explanation = ex.build()
    return TemporaryAccountResult(applies, explanation, explanation.provisional)
