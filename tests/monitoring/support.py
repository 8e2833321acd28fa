"""A small hand-computed province for the monitoring tests: built from the shared factories plus the rows the
monitoring reads (contribution months, spells, cases, payments)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

from portal.identifiers import make_resident_id
from portal.models import (
    Case,
    ContributionMonth,
    EmploymentSpell,
    FlexibleEnrolment,
    Payment,
    PaymentOrder,
    Person,
)
from tests import factories

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
TODAY = date(2026, 11, 28)
SEPTEMBER, OCTOBER = date(2026, 9, 1), date(2026, 10, 1)
_serial = itertools.count(101)


def person(db, *, sex: str = "male", birth: date = date(1985, 3, 15), region: str = "220102") -> Person:
    """A person of the given sex (the identity number's sequence digit is odd for men)."""
    sequence = next(_serial) * 2 + (1 if sex == "male" else 0)
    return factories.person(db, birth=birth, region=region, id_number=make_resident_id(region, birth, sequence % 1000))


def spell(db, *, person_row, employer_row, start=date(2020, 1, 1), end=None, reason="") -> EmploymentSpell:
    row = EmploymentSpell(person_id=person_row.id, employer_id=employer_row.id, start_month=start, end_month=end,
                          end_reason=reason, wage_fen=600000, created_at=NOW)
    db.add(row)
    db.flush()
    return row


def flexible(db, *, person_row, start=date(2024, 1, 1)) -> FlexibleEnrolment:
    row = FlexibleEnrolment(person_id=person_row.id, start_month=start, created_at=NOW)
    db.add(row)
    db.flush()
    return row


def month_row(db, *, person_row, month, employer_row=None, employer_fen=96000, individual_fen=48000, status="paid",
              source=None, base_fen=600000) -> ContributionMonth:
    row = ContributionMonth(person_id=person_row.id, month=month, base_fen=base_fen, employer_part_fen=employer_fen,
                            individual_part_fen=individual_fen, personal_account_fen=individual_fen,
                            source=source or ("employer_filing" if employer_row else "flexible_payment"),
                            status=status, employer_id=employer_row.id if employer_row else None, created_at=NOW)
    db.add(row)
    db.flush()
    return row


def case(db, *, prefecture="220100", due_on=date(2026, 10, 20), decided_at=None, state="closed",
         kind="employer_verification") -> Case:
    serial = next(_serial)
    row = Case(reference=f"JL20261001{serial:06d}", kind=kind, applicant_kind="employer", applicant_id=1,
               prefecture=prefecture, route="single", state=state, due_on=due_on, idempotency_key=f"k{serial}",
               submitted_at=datetime(2026, 10, 1, 2, tzinfo=UTC), decided_at=decided_at, updated_at=NOW)
    db.add(row)
    db.flush()
    return row


def payment(db, *, payer_kind="employer", payer_id, amount_fen, paid_at) -> Payment:
    serial = next(_serial)
    order = PaymentOrder(reference=f"P{serial:010d}", payer_kind=payer_kind, payer_id=payer_id,
                         contributions_fen=amount_fen, amount_fen=amount_fen, pay_by=paid_at.date(), status="paid",
                         created_at=paid_at, paid_at=paid_at)
    db.add(order)
    db.flush()
    row = Payment(order_id=order.id, amount_fen=amount_fen, paid_at=paid_at, external_id=f"X{serial}",
                  created_at=paid_at)
    db.add(row)
    db.flush()
    return row


class Province:
    """Changchun: an employer with two employees (a man of 41 paid both months, a woman of 28 paid in September and
    in arrears in October) and a retiree who left in August; Jilin City: one man of 58, paid in October only
    (September billed); a flexible worker born in Siping, a woman of 36, paid both months, enrolled in October.
    Requests in Changchun: one decided on time in October, one decided late, one open and overdue (due 10-20).
    Collections: 2,880.00 yuan from the Changchun employer confirmed on 15 October (China time)."""

    def __init__(self, db):
        self.changchun = factories.employer(db, region="220100")
        self.jilin = factories.employer(db, region="220200")
        self.man = person(db, sex="male", birth=date(1985, 3, 15))
        self.woman = person(db, sex="female", birth=date(1998, 6, 1))
        self.retiree = person(db, sex="male", birth=date(1966, 8, 1))
        self.older = person(db, sex="male", birth=date(1968, 1, 1), region="220202")
        self.flexible = person(db, sex="female", birth=date(1990, 2, 1), region="220302")
        spell(db, person_row=self.man, employer_row=self.changchun)
        spell(db, person_row=self.woman, employer_row=self.changchun)
        spell(db, person_row=self.retiree, employer_row=self.changchun, end=date(2026, 8, 1), reason="retired")
        spell(db, person_row=self.older, employer_row=self.jilin)
        flexible(db, person_row=self.flexible, start=OCTOBER)
        for month in (SEPTEMBER, OCTOBER):
            month_row(db, person_row=self.man, month=month, employer_row=self.changchun)
            month_row(db, person_row=self.flexible, month=month, employer_fen=0, individual_fen=120000)
        month_row(db, person_row=self.woman, month=SEPTEMBER, employer_row=self.changchun)
        self.woman_october = month_row(db, person_row=self.woman, month=OCTOBER, employer_row=self.changchun,
                                       status="arrears")
        self.older_september = month_row(db, person_row=self.older, month=SEPTEMBER, employer_row=self.jilin,
                                          status="billed")
        month_row(db, person_row=self.older, month=OCTOBER, employer_row=self.jilin)
        case(db, decided_at=datetime(2026, 10, 19, 20, tzinfo=UTC))  # 10-20 in China: on time
        case(db, decided_at=datetime(2026, 10, 21, 2, tzinfo=UTC))  # late
        case(db, state="in_progress")  # open, due 10-20: overdue on 11-28
        payment(db, payer_id=self.changchun.id, amount_fen=288000, paid_at=datetime(2026, 10, 14, 17, tzinfo=UTC))
        db.commit()


def award(db, *, person_row, region="220102", first=SEPTEMBER, stopped_after=None, monthly_fen=300000):
    from portal.models import PensionAward

    serial = next(_serial)
    row = PensionAward(code=f"A{serial:09d}", person_id=person_row.id, region=region,
                       retirement_month=first, first_payment_month=first, claim_date=first, actual_months=360,
                       deemed_months=0, average_index="1.00", divisor_months="139", monthly_fen=monthly_fen,
                       explanation_json="{}", bank_code="ICBC", card_number="6222000000000000",
                       stopped_after=stopped_after, awarded_at=NOW)
    db.add(row)
    db.flush()
    return row


def pension_payment(db, *, award_row, month, run_month=None, pension_fen=300000, adjustment_fen=0):
    from portal.models import PensionPayment

    row = PensionPayment(person_id=award_row.person_id, award_id=award_row.id, month=month,
                         run_month=run_month or month, pension_fen=pension_fen, adjustment_fen=adjustment_fen,
                         amount_fen=pension_fen + adjustment_fen, region=award_row.region, bank_code="ICBC",
                         paid_at=NOW)
    db.add(row)
    db.flush()
    return row
