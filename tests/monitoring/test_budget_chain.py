"""The fund budget's approval chain (吉政发〔2020〕2号 §三(三)): the provincial social insurance bureau drafts a version
province-wide and per prefecture, the provincial department reviews it, then the finance department, then it is
approved and frozen; each step is a case in the central queue, another person's, naming the version it decides on.
Money arriving in the provincial special account (remittances, fiscal subsidies) is recorded and feeds the draft."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import select

from portal.auth.principal import Actor, Principal
from portal.errors import NotFound, ValidationFailed
from portal.models import Case, FundBudget, FundBudgetStep, MonitoringMonth, Notice
from portal.policy import budget as chain
from portal.queue import service as queue
from portal.queue.errors import ActionRefused
from portal.queue.states import Action
from portal.services import budget
from tests import factories
from tests.monitoring.support import NOW, TODAY


def supervisor(db, name="监督员", region=None) -> Actor:
    row = factories.staff(db, name=name, roles="supervisor")
    return Actor(Principal(kind="staff", account_id=row.id, display_name=row.name, roles=frozenset({"supervisor"}),
                           region=region))


def waiting_case(db, year: int) -> Case:
    waiting = budget.versions(db, year=year)[0].waiting
    assert waiting is not None
    return waiting


def decide(db, who: Actor, year: int, *, agreed: bool = True, note: str = "", reason: str = "not_eligible") -> Case:
    """``who`` takes the case in which the version's next step waits and approves (agrees) or rejects (returns) it."""
    case = waiting_case(db, year)
    taken = queue.act(db, reference=case.reference, action=Action.TAKE, actor=who, expected_version=None, now=NOW)
    return queue.act(db, reference=taken.reference, action=Action.APPROVE if agreed else Action.REJECT, actor=who,
                     expected_version=None, now=NOW, note=note, reason_code=None if agreed else reason)


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


def test_a_new_version_waits_for_a_version_in_the_chain_to_come_back_and_never_follows_an_approved_one():
    assert chain.may_draft([]) is None
    assert chain.may_draft(["returned", "superseded"]) is None
    assert chain.may_draft(["drafted", "returned"]) == "under_review"
    assert chain.may_draft(["department_reviewed"]) == "under_review"
    assert chain.may_draft(["returned", "approved"]) == "frozen"


# --- the service and the queue -----------------------------------------------------------------------------------

def test_the_bureau_drafts_a_version_and_it_waits_in_the_queue_for_the_provincial_departments_review(db):
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
    case = stored.waiting
    assert (case.kind, case.state, case.prefecture, case.applicant_kind, case.applicant_id) == (
        "budget_review", "checked", "220000", "area", 220000)
    assert (case.counter_staff_id, case.checks_passed) == (bureau.principal.account_id, True)
    assert db.exec(select(Notice).where(Notice.case_id == case.id)).all() == []  # the province has no inbox


def test_the_budget_goes_through_its_chain_in_the_queue_and_the_approved_version_is_frozen_and_executed_against(db):
    two_years_on_record(db)
    bureau, department, finance, government = (supervisor(db, name) for name in ("甲", "乙", "丙", "丁"))
    version = budget.draft_version(db, year=2026, actor=bureau, note="", now=NOW, today=TODAY)
    decided = []
    for who in (department, finance, government):
        decided.append(decide(db, who, 2026, note="同意"))
    db.commit()

    assert db.get(FundBudget, version.id).state == "approved"
    stored = budget.versions(db, year=2026)[0]
    assert [step.step for step in stored.steps] == list(chain.STEPS)
    assert [step.case_id for step in stored.steps] == [None, *(case.id for case in decided)]
    assert [case.outcome for case in decided] == ["approved"] * 3
    assert stored.waiting is None and stored.next_step is None
    with pytest.raises(ValidationFailed) as refused:
        budget.draft_version(db, year=2026, actor=bureau, note="", now=NOW, today=TODAY)
    assert reason(refused) == budget.CHAIN_REFUSALS["frozen"]

    # Later records change the evidence but not the approved budget, which execution reads.
    db.add(MonitoringMonth(month=date(2026, 1, 1), area="220100", collected_fen=5000000, payments_out_fen=0,
                           computed_at=NOW))
    db.commit()
    approved, months = budget.execution(db, area="220100", year=2026, today=TODAY)
    assert (approved.income, approved.expenditure) == (Decimal("14400.00"), Decimal("16800.00"))
    assert (months[0].income, months[0].income_variance) == (Decimal("50000.00"), Decimal("48800.00"))


def test_nobody_decides_two_steps_of_a_version_and_the_drafter_none(db):
    two_years_on_record(db)
    bureau, department, finance = supervisor(db, "甲"), supervisor(db, "乙"), supervisor(db, "丙")
    budget.draft_version(db, year=2027, actor=bureau, note="", now=NOW, today=TODAY)
    db.commit()
    # The drafter cannot take the case the draft was filed as.
    with pytest.raises(ActionRefused):
        decide(db, bureau, 2027)
    db.rollback()
    decide(db, department, 2027)
    db.commit()
    # The department's reviewer cannot take the finance step filed in their name ...
    with pytest.raises(ActionRefused):
        decide(db, department, 2027)
    db.rollback()
    decide(db, finance, 2027)
    db.commit()
    # ... and the drafter, who may take the approval, cannot decide it: the decision is refused and nothing kept.
    with pytest.raises(ValidationFailed) as refused:
        decide(db, bureau, 2027)
    assert reason(refused) == budget.CHAIN_REFUSALS["same_person"]
    db.rollback()
    stored = budget.versions(db, year=2027)[0]
    assert (stored.budget.state, [step.step for step in stored.steps]) == (
        "finance_reviewed", ["draft", "department_review", "finance_review"])
    assert stored.waiting.state == "checked"


def test_a_return_needs_a_reason_and_sends_the_version_back_to_the_bureau_which_drafts_the_next_one(db):
    two_years_on_record(db)
    bureau, department = supervisor(db, "甲"), supervisor(db, "乙")
    first = budget.draft_version(db, year=2027, actor=bureau, note="", now=NOW, today=TODAY)
    db.commit()
    with pytest.raises(ValidationFailed) as refused:
        budget.draft_version(db, year=2027, actor=bureau, note="再来一版", now=NOW, today=TODAY)
    assert reason(refused) == budget.CHAIN_REFUSALS["under_review"]
    with pytest.raises(ValidationFailed) as refused:
        decide(db, department, 2027, agreed=False, note=" ")
    assert "note" in refused.value.errors
    db.rollback()
    assert db.get(FundBudget, first.id).state == "drafted"

    returned_case = decide(db, department, 2027, agreed=False, note="支出增长偏低")
    second = budget.draft_version(db, year=2027, actor=bureau, note="按意见修改", now=NOW, today=TODAY)
    db.commit()

    assert returned_case.outcome == "rejected"
    assert [(v.budget.version, v.budget.state) for v in budget.versions(db, year=2027)] == [
        (2, "drafted"), (1, "returned")]
    returned = db.exec(select(FundBudgetStep).where(FundBudgetStep.budget_id == first.id,
                                                    FundBudgetStep.step == "department_review")).one()
    assert (returned.agreed, returned.note, returned.case_id) == (False, "支出增长偏低", returned_case.id)
    payload = cases_payload(waiting_case(db, 2027))
    assert {key: payload[key] for key in ("budget_id", "year", "version", "step")} == {
        "budget_id": second.id, "year": 2027, "version": 2, "step": "department_review"}
    assert payload["province"] == {"income": "15600.00", "subsidy": "0.00", "expenditure": "18000.00",
                                   "transfers_in": "0.00", "transfers_out": "0.00", "balance": "-2400.00",
                                   "gap": "2400.00"}


def test_staff_of_a_prefecture_do_not_see_the_provinces_budget_cases(db):
    two_years_on_record(db)
    budget.draft_version(db, year=2027, actor=supervisor(db, "甲"), note="", now=NOW, today=TODAY)
    db.commit()
    changchun = supervisor(db, "长春", region="220100")
    with pytest.raises(NotFound):
        decide(db, changchun, 2027)


def test_steps_recorded_before_the_chain_went_through_the_queue_stay_readable_and_a_new_draft_replaces_it(db):
    """A version whose steps were recorded on the budget page (no case) reads as before."""
    two_years_on_record(db)
    bureau, department = supervisor(db, "甲"), supervisor(db, "乙")
    old = FundBudget(year=2027, version=1, state="department_reviewed", figures="{}", drafted_by=bureau.principal.account_id,
                     drafted_at=NOW)
    db.add(old)
    db.flush()
    db.add(FundBudgetStep(budget_id=old.id, step="draft", decided_by=bureau.principal.account_id, decided_at=NOW))
    db.add(FundBudgetStep(budget_id=old.id, step="department_review", decided_by=department.principal.account_id,
                          decided_at=NOW, note="同意"))
    db.commit()

    stored = budget.versions(db, year=2027)[0]
    assert [(step.step, step.case_id, step.note) for step in stored.steps] == [
        ("draft", None, ""), ("department_review", None, "同意")]
    assert (stored.next_step, stored.waiting, stored.cases) == ("finance_review", None, {})

    # Left mid-chain outside the queue, it does not block the bureau: the next draft replaces it and goes to the
    # queue, and the old steps stay as they were.
    assert budget.refusal_to_draft(db, year=2027) is None
    budget.draft_version(db, year=2027, actor=bureau, note="重新编制", now=NOW, today=TODAY)
    db.commit()
    latest, old_one = budget.versions(db, year=2027)
    assert (latest.budget.version, latest.budget.state, latest.waiting.kind) == (2, "drafted", "budget_review")
    assert (old_one.budget.state, len(old_one.steps)) == ("superseded", 2)
    assert budget.refusal_to_draft(db, year=2027) == "under_review"


def cases_payload(case: Case) -> dict:
    from portal.queue import cases
    return cases.payload_of(case)


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
