"""Retirement claims: eligibility and the what-if from the person's own record, the claim-date lock, the award."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from portal.errors import Conflict, ValidationFailed
from portal.models import LifeCertification, Person
from portal.policy.money import from_fen
from portal.policy.rules.pension import OPTION_CONTINUE, pension_award
from portal.policy.rules.retirement import Age
from portal.services import claims
from portal.services.person_requests import online
from portal.services.records import build_record
from tests.benefits.support import BAD_CARD, CARD, NOW, TODAY, awarded, decide, retiree

JULY = date(2026, 7, 1)


def test_a_person_with_thirty_years_is_eligible_and_reads_a_what_if_row_for_each_month_in_the_window(db):
    person, _ = retiree(db)
    here = claims.position(db, person=person, today=TODAY)
    assert here.rules.statutory_month == JULY
    assert here.actual_months == 366 and here.deemed_months == 0
    assert here.shortfall is None
    rows = here.estimate.what_if
    assert all(here.rules.earliest_month <= row.retirement_month <= here.rules.latest_month for row in rows)
    assert any(row.is_statutory and row.meets_minimum and row.total > 0 for row in rows)
    assert rows[-1].retirement_month == here.rules.latest_month


def test_a_person_short_of_the_minimum_sees_the_options_and_what_the_missing_months_cost(db):
    person, _ = retiree(db, start=date(2016, 1, 1), base_fen=500000)  # 126 months to 2026-06
    here = claims.position(db, person=person, today=TODAY)
    assert here.shortfall is not None
    assert here.shortfall.missing_months == here.rules.min_contribution_months - 126
    assert here.shortfall.base == Decimal("5000.00")
    assert here.shortfall.cost == Decimal("5000.00") * Decimal("0.20") * here.shortfall.missing_months
    assert OPTION_CONTINUE in here.shortfall.options


def test_saving_the_draft_fixes_the_claim_date_which_later_saves_never_move(db):
    person, actor = retiree(db)
    first = claims.save_draft(db, person=person, retirement_month="2026-07", actor=actor, now=NOW,
                              today=date(2026, 9, 20))
    again = claims.save_draft(db, person=person, retirement_month="2026-08", actor=actor, now=NOW, today=TODAY)
    assert again.id == first.id and again.claim_date == date(2026, 9, 20)
    assert again.retirement_month == date(2026, 8, 1)
    # Paid from the retirement month, or from the claim date's month when the claim came later.
    assert claims.first_payment_month(date(2026, 7, 1), date(2026, 9, 20)) == date(2026, 9, 1)
    assert claims.first_payment_month(date(2026, 12, 1), date(2026, 9, 20)) == date(2026, 12, 1)


def test_a_month_outside_the_window_is_refused(db):
    person, actor = retiree(db)
    with pytest.raises(ValidationFailed) as refused:
        claims.save_draft(db, person=person, retirement_month="2020-01", actor=actor, now=NOW, today=TODAY)
    assert "retirement_month" in refused.value.errors


def test_a_card_number_with_a_wrong_check_digit_or_an_unknown_bank_is_refused(db):
    person, actor = retiree(db)
    claims.save_draft(db, person=person, retirement_month="2026-07", actor=actor, now=NOW, today=TODAY)
    with pytest.raises(ValidationFailed) as refused:
        claims.submit_claim(db, filing=online(db, actor=actor), bank_code="NOPE", card_number=BAD_CARD, commitment=True,
                            token="t1", now=NOW, today=TODAY)
    assert set(refused.value.errors) == {"bank_code", "card_number"}
    assert claims.luhn_ok(CARD) and not claims.luhn_ok(BAD_CARD) and not claims.luhn_ok("1234")


def test_a_claim_without_a_draft_is_refused(db):
    _, actor = retiree(db)
    with pytest.raises(Conflict):
        claims.submit_claim(db, filing=online(db, actor=actor), bank_code="ICBC", card_number=CARD, commitment=True,
                            token="t1", now=NOW, today=TODAY)


def test_approval_by_two_people_awards_the_pension_computed_from_the_actual_record(db):
    person, actor = retiree(db)
    award = awarded(db, actor, today=date(2026, 6, 15))  # claimed before the statutory month
    record = build_record(db, person=person, today=date(2026, 6, 30))
    expected = pension_award(region="220100", retirement_month=JULY, age_at_retirement=Age(60, 4),
                             actual_months=366, deemed_months=0, average_index=record.average_index,
                             account_balance=record.balance_to_date, statutory_month=JULY)
    assert from_fen(award.monthly_fen) == expected.total
    assert from_fen(award.basic_fen) == expected.basic and from_fen(award.account_fen) == expected.personal_account
    assert award.first_payment_month == JULY and award.claim_date == date(2026, 6, 15)
    explanation = json.loads(award.explanation_json)
    assert {"pension_base", "annuity_divisor"} <= {used["name"] for used in explanation["parameters"]}
    assert award.provisional == expected.provisional
    # The claim itself is the first life certification.
    assert db.get(Person, person.id) and db.exec(
        LifeCertification.__table__.select().where(LifeCertification.person_id == person.id)).first()
    found = claims.verify(db, code=award.code.lower())
    assert found is not None and found.monthly == expected.total and found.masked_name != person.name


def test_a_refused_claim_awards_nothing_and_a_new_draft_may_follow(db):
    person, actor = retiree(db)
    filing = online(db, actor=actor)
    claims.save_draft(db, person=person, retirement_month="2026-07", actor=actor, now=NOW, today=TODAY)
    case = claims.submit_claim(db, filing=filing, bank_code="ICBC", card_number=CARD, commitment=True, token="t",
                               now=NOW, today=TODAY)
    decide(db, case, approve=False)
    assert claims.current_award(db, person_id=person.id) is None
    assert claims.save_draft(db, person=person, retirement_month="2026-07", actor=actor, now=NOW, today=TODAY)


def test_an_award_on_a_base_not_yet_published_is_provisional_and_recomputing_settles_the_difference(db):
    person, actor = retiree(db)
    award = awarded(db, actor, today=date(2026, 6, 15))
    assert award.provisional  # the 2026 base is low-medium confidence
    award.monthly_fen -= 1000  # as if the provisional base had been 10 yuan a month lower
    db.add(award)
    db.flush()
    from portal.services import payroll

    payroll.run(db, month=date(2026, 11, 1), now=NOW)
    done = claims.recompute_provisional(db, now=NOW)
    assert [(row.months_paid, row.difference) for row in done] == [(5, Decimal("50.00"))]
    new = claims.current_award(db, person_id=person.id)
    assert new.id != award.id and new.difference_fen == 5000
    paid = payroll.run(db, month=date(2026, 12, 1), now=NOW)
    assert paid.paid == 1
    assert paid.amount == from_fen(new.monthly_fen) + Decimal("50.00")


def test_an_award_from_a_synthetic_history_reproduces_the_hand_computed_siping_statement(db):
    """The Siping figures of tests/policy/test_policy_pension.py (2025-03, 300 paid and 60 deemed months, index 0.85,
    account 60,000.00) reproduced from a month-by-month record built to match them."""
    from portal.identifiers import make_resident_id
    from portal.models import ContributionMonth, EmploymentSpell
    from portal.policy.dates import add_months
    from portal.policy.errors import ParameterNotDefined
    from portal.policy.parameters import param
    from tests import factories

    account = factories.person_account(db, id_number=make_resident_id("220302", date(1965, 3, 8), 15),
                                       birth=date(1965, 3, 8))
    person = db.get(Person, account.person_id)
    employer = factories.employer(db, region="220300")
    db.add(EmploymentSpell(person_id=person.id, employer_id=employer.id, start_month=date(2000, 3, 1),
                           end_month=date(2025, 2, 1), end_reason="retired", created_at=NOW))
    month = date(1995, 3, 1)
    while month <= date(2025, 2, 1):
        deemed = month < date(2000, 3, 1)
        try:
            wage = param("average_wage").at(month).value
        except ParameterNotDefined:  # before the published wages: the month counts, the index does not see it
            wage = Decimal("3000.00")
        base_fen = int((wage * Decimal("0.85") * 100).quantize(Decimal("1")))
        db.add(ContributionMonth(person_id=person.id, month=month, source="deemed" if deemed else "employer_filing",
                                 status="paid", base_fen=0 if deemed else base_fen,
                                 personal_account_fen=0 if deemed else 20000,
                                 employer_id=None if deemed else employer.id, created_at=NOW))
        month = add_months(month, 1)
    db.flush()
    result, record = claims.compute_award(db, person=person, retirement_month=date(2025, 3, 1), today=TODAY)
    assert record.average_index.quantize(Decimal("0.01")) == Decimal("0.85")
    assert (result.basic, result.extra, result.transitional, result.personal_account) == (
        Decimal("2031.88"), Decimal("118.53"), Decimal("435.66"), Decimal("431.65"))
