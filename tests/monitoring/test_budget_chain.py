"""The fund budget's approval chain (吉政发〔2020〕2号 §三(三)): the provincial social insurance bureau drafts a version
province-wide and per prefecture, the provincial department reviews it, then the finance department, then it is
approved and frozen; each step is another person's and names the version it decided on. Money arriving in the
provincial special account (remittances, fiscal subsidies) is recorded and feeds the draft."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import select

from portal.auth.principal import Actor, Principal
from portal.errors import ValidationFailed
from portal.models import FundBudget, FundBudgetStep, MonitoringMonth
from portal.policy import budget as chain
from portal.services import budget
from tests import factories
from tests.monitoring.support import NOW, TODAY


def supervisor(db, name="监督员") -> Actor:
    row = factories.staff(db, name=name, roles="supervisor")
    return Actor(Principal(kind="staff", account_id=row.id, display_name=row.name, roles=frozenset({"supervisor"})))


def two_years_on_record(db):
    for year, collected, paid in ((2024, 100000, 120000), (2025, 110000, 130000)):
        for month in range(1, 13):
            for area in ("220000", "220100"):
                db.add(MonitoringMonth(month=date(year, month, 1), area=area, collected_fen=collected,
                                       payments_out_fen=paid, contributors=100, pensioners=60, computed_at=NOW))
    db.commit()


def reason(error) -> str:
    return error.value.errors["decision"].text


# --- the pure chain -------------------------------------------------------------------------------------------------

def test_each_step_moves_the_version_on_and_the_approval_freezes_it():
    assert chain.decide("drafted", "department_review", agreed=True, actor=2, earlier=[1]) == "department_reviewed"
    assert chain.decide("department_reviewed", "finance_review", agreed=True, actor=3, earlier=[1, 2]) == \
        "finance_reviewed"
    assert chain.decide("finance_reviewed", "approval", agreed=True, actor=4, earlier=[1, 2, 3]) == "approved"


def test_a_step_that_does_not_agree_returns_the_version_to_the_bureau():
    assert chain.decide("department_reviewed", "finance_review", agreed=False, actor=3, earlier=[1, 2]) == "returned"


@pytest.mark.parametrize(("state", "step", "actor", "code"), [
    ("approved", "approval", 9, "frozen"),
    ("returned", "department_review", 9, "not_open"),
    ("superseded", "department_review", 9, "not_open"),
    ("drafted", "finance_review", 9, "wrong_step"),
    ("drafted", "department_review", 1, "same_person"),
])
def test_the_chain_refuses_a_frozen_or_closed_version_a_step_out_of_turn_and_one_person_twice(state, step, actor,
                                                                                               code):
    with pytest.raises(chain.ChainRefused) as refused:
        chain.decide(state, step, agreed=True, actor=actor, earlier=[1])
    assert refused.value.code == code


def test_a_new_version_waits_for_a_version_under_review_to_come_back_and_never_follows_an_approved_one():
    assert chain.may_draft([]) is None
    assert chain.may_draft(["drafted", "returned"]) is None
    assert chain.may_draft(["department_reviewed"]) == "under_review"
    assert chain.may_draft(["returned", "approved"]) == "frozen"


# --- the service ----------------------------------------------------------------------------------------------------

def test_the_bureau_drafts_a_version_province_wide_and_per_prefecture_from_the_record(db):
    two_years_on_record(db)
    bureau = supervisor(db)
    version = budget.draft_version(db, year=2027, actor=bureau, note="初稿", now=NOW, today=TODAY)
    db.commit()

    stored = budget.versions(db, year=2027)[0]
    assert (stored.budget.version, stored.budget.state, stored.budget.evidence_years) == (1, "drafted", "2024, 2025")
    assert set(stored.lines) == {"220000", "220100"}
    province = stored.area("220000")
    assert (province.income, province.expenditure, province.gap) == (Decimal("15600.00"), Decimal("18000.00"),
                                                                      Decimal("2400.00"))
    assert (province.sharing.fund_surplus, province.sharing.governments) == (Decimal("1920.00"), Decimal("480.00"))
    assert [(step.step, step.decided_by) for step in stored.steps] == [("draft", bureau.principal.account_id)]
    assert stored.next_step == "department_review" and version.id == stored.budget.id


def test_the_budget_goes_through_its_chain_and_the_approved_version_is_frozen_and_executed_against(db):
    two_years_on_record(db)
    bureau, department, finance, government = (supervisor(db, name) for name in ("甲", "乙", "丙", "丁"))
    version = budget.draft_version(db, year=2026, actor=bureau, note="", now=NOW, today=TODAY)
    for who, step in ((department, "department_review"), (finance, "finance_review"), (government, "approval")):
        budget.decide_step(db, budget_id=version.id, version=1, step=step, agreed=True, note="", actor=who, now=NOW)
    db.commit()

    assert db.get(FundBudget, version.id).state == "approved"
    assert [step.step for step in budget.versions(db, year=2026)[0].steps] == list(chain.STEPS)
    with pytest.raises(ValidationFailed) as refused:
        budget.draft_version(db, year=2026, actor=bureau, note="", now=NOW, today=TODAY)
    assert reason(refused) == budget.CHAIN_REFUSALS["frozen"]
    with pytest.raises(ValidationFailed) as refused:
        budget.decide_step(db, budget_id=version.id, version=1, step="approval", agreed=True, note="", actor=bureau,
                           now=NOW)
    assert reason(refused) == budget.CHAIN_REFUSALS["frozen"]

    # Later records change the evidence but not the approved budget, which execution reads.
    db.add(MonitoringMonth(month=date(2026, 1, 1), area="220100", collected_fen=5000000, payments_out_fen=0,
                           computed_at=NOW))
    db.commit()
    approved, months = budget.execution(db, area="220100", year=2026, today=TODAY)
    assert (approved.income, approved.expenditure) == (Decimal("14400.00"), Decimal("16800.00"))
    assert (months[0].income, months[0].income_variance) == (Decimal("50000.00"), Decimal("48800.00"))


def test_the_drafter_cannot_review_a_stale_version_is_refused_and_a_return_needs_a_reason(db):
    two_years_on_record(db)
    bureau, department = supervisor(db, "甲"), supervisor(db, "乙")
    version = budget.draft_version(db, year=2027, actor=bureau, note="", now=NOW, today=TODAY)
    with pytest.raises(ValidationFailed) as refused:
        budget.decide_step(db, budget_id=version.id, version=1, step="department_review", agreed=True, note="",
                           actor=bureau, now=NOW)
    assert reason(refused) == budget.CHAIN_REFUSALS["same_person"]
    with pytest.raises(ValidationFailed) as refused:
        budget.decide_step(db, budget_id=version.id, version=2, step="department_review", agreed=True, note="",
                           actor=department, now=NOW)
    assert reason(refused) == budget.CHAIN_REFUSALS["stale"]
    with pytest.raises(ValidationFailed) as refused:
        budget.decide_step(db, budget_id=version.id, version=1, step="department_review", agreed=False, note=" ",
                           actor=department, now=NOW)
    assert "note" in refused.value.errors
    assert db.get(FundBudget, version.id).state == "drafted"


def test_a_returned_version_is_redrafted_as_the_next_version_and_a_draft_not_yet_reviewed_is_replaced(db):
    two_years_on_record(db)
    bureau, department = supervisor(db, "甲"), supervisor(db, "乙")
    first = budget.draft_version(db, year=2027, actor=bureau, note="", now=NOW, today=TODAY)
    budget.decide_step(db, budget_id=first.id, version=1, step="department_review", agreed=False,
                       note="支出增长偏低", actor=department, now=NOW)
    second = budget.draft_version(db, year=2027, actor=bureau, note="按意见修改", now=NOW, today=TODAY)
    third = budget.draft_version(db, year=2027, actor=bureau, note="再修改", now=NOW, today=TODAY)
    db.commit()

    assert [(v.budget.version, v.budget.state) for v in budget.versions(db, year=2027)] == [
        (3, "drafted"), (2, "superseded"), (1, "returned")]
    returned = db.exec(select(FundBudgetStep).where(FundBudgetStep.budget_id == first.id,
                                                    FundBudgetStep.step == "department_review")).one()
    assert (returned.agreed, returned.note) == (False, "支出增长偏低")
    with pytest.raises(ValidationFailed) as refused:
        budget.decide_step(db, budget_id=second.id, version=2, step="department_review", agreed=True, note="",
                           actor=department, now=NOW)
    assert reason(refused) == budget.CHAIN_REFUSALS["not_open"]
    assert third.version == 3


def test_no_draft_without_a_complete_year_on_record(db):
    with pytest.raises(ValidationFailed) as refused:
        budget.draft_version(db, year=2027, actor=supervisor(db), note="", now=NOW, today=TODAY)
    assert reason(refused) == budget.CHAIN_REFUSALS["no_evidence"]


def test_fiscal_subsidies_recorded_as_arrived_enter_the_draft_and_lower_the_gap(db):
    two_years_on_record(db)
    clerk = supervisor(db)
    for year in (2024, 2025):
        budget.record_receipt(db, area="220100", month=date(year, 6, 1), kind="subsidy", amount="1200.00", note="",
                              actor=clerk, now=NOW)
    db.commit()

    province = budget.draft(db, area="220000", year=2027, today=TODAY)
    assert (province.subsidy, province.gap) == (Decimal("1200.00"), Decimal("1200.00"))
    assert province.balance == Decimal("-1200.00")
    assert budget.draft(db, area="220200", year=2027, today=TODAY) is None


@pytest.mark.parametrize(("fields", "wrong"), [
    ({"area": "220000"}, "area"),
    ({"month": None}, "month"),
    ({"kind": "gift"}, "kind"),
    ({"amount": "-5"}, "amount"),
    ({"amount": "1.234"}, "amount"),
    ({"amount": "abc"}, "amount"),
    ({"note": "字" * 201}, "note"),
])
def test_a_receipt_with_a_wrong_field_is_refused_and_nothing_is_stored(db, fields, wrong):
    values = {"area": "220100", "month": date(2026, 3, 1), "kind": "remittance", "amount": "100.00", "note": ""}
    values.update(fields)
    with pytest.raises(ValidationFailed) as refused:
        budget.record_receipt(db, actor=supervisor(db), now=NOW, **values)
    assert set(refused.value.errors) == {wrong}
    assert budget.receipts(db) == []
