"""A bill, once issued, never changes: a rerun of the monthly billing puts months found since on a supplementary
bill and tells the payer, whether the first bill is under an approved deferral, has a payment order, or is paid."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import select

from portal.models import Bill, Employer, Notice
from portal.policy.money import from_fen
from portal.policy.rules.contribution import employee_contribution
from portal.services import applications, billing, enrolment
from tests import factories
from tests.records.support import NOW, TODAY, employer_actor, spell
from tests.records.test_applications import decide
from tests.trust_support import COMMIT

OCTOBER = date(2026, 10, 1)
LATER = NOW + timedelta(hours=3)
LATEST = NOW + timedelta(days=1)


def _firm(db):
    operator = factories.operator(db)
    employer = db.get(Employer, operator.employer_id)
    spell(db, person=factories.person(db, name="王一"), employer=employer, start=date(2026, 1, 1), wage_fen=600000)
    billing.run_billing(db, month=OCTOBER, now=NOW)
    return operator, employer


def _bills(db, employer) -> list[tuple[int, Decimal, int]]:
    """(part, amount, lines) of the employer's October bills."""
    found = db.exec(select(Bill).where(Bill.payer_kind == "employer", Bill.payer_id == employer.id,
                                       Bill.month == OCTOBER).order_by(Bill.part)).all()
    return [(bill.part, from_fen(bill.total_fen),
             len(billing.months_on_bill(db, bill=bill))) for bill in found]


def _enrol_into_october(db, operator, number_of_people=1):
    for n in range(number_of_people):
        person = factories.person(db, name=("孙新", "周新")[n], birth=date(1991, 1, 1 + n))
        enrolment.add_employee(db, actor=employer_actor(operator), id_number=person.id_number, name=person.name,
                               start_month=OCTOBER, wage="8000", now=NOW, today=TODAY)


def _notices(db, employer) -> list[tuple[str, str]]:
    return [(n.title, n.params) for n in db.exec(select(Notice).where(
        Notice.recipient_kind == "employer", Notice.recipient_id == employer.id,
        Notice.title == billing.SUPPLEMENTARY_NOTICE)).all()]


def test_a_bill_under_an_approved_deferral_keeps_its_amount_and_new_lines_go_to_a_supplementary_bill(db):
    operator, employer = _firm(db)
    first = employee_contribution(Decimal("6000.00"), OCTOBER).total
    case = applications.submit_deferral(db, actor=employer_actor(operator), months=["2026-10"], reason="停产",
                                        **COMMIT, token="d1", now=NOW, today=TODAY)
    decide(db, case)
    _enrol_into_october(db, operator)

    report = billing.run_billing(db, month=OCTOBER, now=LATER)
    added = employee_contribution(Decimal("8000.00"), OCTOBER).total
    assert _bills(db, employer) == [(1, first, 1), (2, added, 1)]
    assert report.supplementary == 1
    assert _notices(db, employer) == [(billing.SUPPLEMENTARY_NOTICE, '{"month": "2026-10"}')]

    again = billing.run_billing(db, month=OCTOBER, now=LATEST)
    assert (again.employee_months, again.bills, again.lines, again.supplementary) == (0, 0, 0, 0)
    assert _bills(db, employer) == [(1, first, 1), (2, added, 1)]
    assert len(_notices(db, employer)) == 1


def test_a_bill_with_a_payment_order_is_never_changed_so_the_order_still_pays_exactly_it(db):
    operator, employer = _firm(db)
    [bill] = db.exec(select(Bill).where(Bill.payer_id == employer.id)).all()
    order = billing.create_payment_order(db, actor=employer_actor(operator), bill_ids=[bill.id], pay_on=TODAY,
                                         now=NOW)
    _enrol_into_october(db, operator, number_of_people=2)
    billing.run_billing(db, month=OCTOBER, now=LATER)
    parts = _bills(db, employer)
    assert parts[0] == (1, from_fen(order.contributions_fen), 1)
    assert [(part, lines) for part, _amount, lines in parts[1:]] == [(2, 2)]


def test_an_issued_open_bill_is_not_changed_either(db):
    operator, employer = _firm(db)
    _enrol_into_october(db, operator)
    billing.run_billing(db, month=OCTOBER, now=LATER)
    assert [(part, lines) for part, _amount, lines in _bills(db, employer)] == [(1, 1), (2, 1)]


def test_the_same_run_repeated_at_the_same_moment_fills_its_own_bill_and_tells_nobody_twice(db):
    operator, employer = _firm(db)
    _enrol_into_october(db, operator)
    billing.run_billing(db, month=OCTOBER, now=LATER)
    billing.run_billing(db, month=OCTOBER, now=LATER)
    assert [(part, lines) for part, _amount, lines in _bills(db, employer)] == [(1, 1), (2, 1)]
    assert len(_notices(db, employer)) == 1


def test_the_employer_reads_the_notice_with_the_month_in_words(client, db, frozen_clock):
    from tests.records.test_employer_pages import Firm

    firm = Firm(db)
    operator = db.exec(select(factories.EmployerOperator).where(
        factories.EmployerOperator.employer_id == firm.employer_id)).one()
    billing.run_billing(db, month=OCTOBER, now=NOW)
    _enrol_into_october(db, operator)
    billing.run_billing(db, month=OCTOBER, now=LATER)
    db.commit()
    firm.sign_in(client)
    page = client.get("/employer/notices?lang=en")
    assert "Months were added to October 2026 after its bill was issued" in page.text
    assert "2026年10月" in client.get("/employer/notices?lang=zh_CN").text


def test_enrolling_into_months_already_billed_says_on_the_confirmation_that_they_go_on_supplementary_bills(
        client, db, frozen_clock):
    from tests.conftest import csrf_token
    from tests.records.test_employer_pages import Firm

    firm = Firm(db)
    for month in (OCTOBER, date(2026, 11, 1)):
        billing.run_billing(db, month=month, now=NOW)
    db.commit()
    firm.sign_in(client)
    newcomers = [factories.person(db, name=name, birth=date(1992, 4, 9)) for name in ("孙新", "周新")]
    numbers = [person.id_number for person in newcomers]
    db.commit()

    def add(number, name, start):
        token = csrf_token(client.get("/employer/employees?lang=en").text)
        response = client.post("/employer/employees", data={"csrf_token": token, "id_number": number, "name": name,
                                                            "start_month": start, "wage": "6200"})
        assert response.status_code == 303
        return client.get("/employer/employees?lang=en").text

    page = add(numbers[0], "孙新", "2026-10")
    assert "The bills for October 2026 to November 2026 were already issued and do not change" in page
    assert "contributions for those months go on supplementary bills at the next billing run" in page
    page = add(numbers[1], "周新", "2026-12")
    assert "周新 was added from December 2026." in page and "supplementary" not in page
