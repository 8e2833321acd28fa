"""The prefectures' assessment: a quantified score from provisional weights, a ranking, the laggards named for
targeted supervision with their worst indicator; by hand on a small province."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from portal.policy import assessment as scoring
from portal.services import assessment, monitoring
from tests.monitoring.support import NOW, OCTOBER, TODAY, Province

WEIGHTS = scoring.weights(date(2026, 10, 1))


def test_the_weights_are_dated_parameter_data_marked_provisional():
    assert WEIGHTS.provisional and WEIGHTS.confidence == "unsourced"
    assert all(WEIGHTS.value[code] > 0 for code in scoring.INDICATORS)  # scaled over those with records
    assert {"remittance", "subsidy_arrival"} <= set(scoring.INDICATORS)


def test_a_score_weighs_each_achieved_share_capped_at_one():
    score = scoring.score_area("220100", {"collection_rate": Decimal("1.2"), "contribution_rate": Decimal("0.8"),
                                          "enrolment_completion": Decimal("0.5"), "budget_completion": Decimal("1"),
                                          "on_time_share": Decimal("0.9")}, WEIGHTS)
    assert score.score == Decimal("30") + Decimal("20.00") + Decimal("10.00") + Decimal("15") + Decimal("9.00")
    assert score.worst == "enrolment_completion" and not score.supervise


def test_an_indicator_without_records_is_left_out_and_the_others_scaled_to_a_hundred():
    score = scoring.score_area("220200", {"collection_rate": Decimal("1"), "contribution_rate": Decimal("1"),
                                          "enrolment_completion": Decimal("1"), "budget_completion": None,
                                          "on_time_share": Decimal("1")}, WEIGHTS)
    assert score.score == Decimal("100.00")
    assert [item.points for item in score.indicators][3] is None


def test_the_ranking_shares_a_rank_between_equal_scores_and_puts_unscored_areas_last():
    make = lambda area, value: scoring.AreaScore(area, (), value, None, False)  # noqa: E731
    ranked = scoring.ranking([make("A", Decimal(70)), make("B", None), make("C", Decimal(90)), make("D", Decimal(70))])
    assert [(item.area, item.rank) for item in ranked] == [("C", 1), ("A", 2), ("D", 2), ("B", None)]


def test_the_province_s_prefectures_are_scored_ranked_and_the_laggards_flagged(db):
    Province(db)
    monitoring.refresh(db, now=NOW, today=TODAY)
    db.commit()

    result = assessment.assess(db, year=2026, today=TODAY)

    assert result.through == OCTOBER and result.months == 10
    by_area = {item.area: item for item in result.scores}
    # Changchun: collected 4,320.00 of 5,760.00 (0.75), 3 of 4 person-months paid (0.75), no enrolment against
    # 20,000 planned, 1 of 2 requests on time; weights 30, 25, 20, 10 of 85 (no budget yet).
    changchun = by_area["220100"]
    assert [item.points for item in changchun.indicators] == [Decimal("26.47"), Decimal("22.06"), Decimal("0.00"),
                                                              None, None, None, Decimal("5.88")]
    assert changchun.score == Decimal("54.41")
    assert changchun.worst == "enrolment_completion" and changchun.supervise
    assert by_area["220300"].score == Decimal("73.34")  # the flexible worker: every month paid, one enrolment
    assert by_area["220200"].score == Decimal("36.67")
    assert [item.area for item in result.scores[:3]] == ["220300", "220100", "220200"]
    assert [item.rank for item in result.scores[:3]] == [1, 2, 3]
    assert by_area["220300"].supervise  # 73.34 is under the line of 80 too
    assert by_area["220400"].score == Decimal("0.00")  # Liaoyuan: no records, nothing enrolled against its plan


def test_remittance_and_the_arrival_of_fiscal_subsidies_count_from_the_money_recorded_as_arrived(db):
    from portal.auth.principal import Actor, Principal
    from portal.services import budget
    from tests import factories

    Province(db)
    clerk = factories.staff(db, roles="supervisor")
    actor = Actor(Principal(kind="staff", account_id=clerk.id, display_name=clerk.name, roles=frozenset({"supervisor"})))
    monitoring.refresh(db, now=NOW, today=TODAY)
    budget.record_receipt(db, area="220100", month=date(2026, 5, 1), kind="remittance", amount="3240.00", note="",
                          actor=actor, now=NOW)
    budget.record_receipt(db, area="220100", month=date(2026, 6, 1), kind="subsidy", amount="500.00", note="",
                          actor=actor, now=NOW)
    db.commit()

    result = assessment.assess(db, year=2026, today=TODAY, budget_income={},
                               budget_subsidy={"220100": Decimal("1200.00")})

    changchun = {item.area: item for item in result.scores}["220100"]
    achieved = {item.code: item.achieved for item in changchun.indicators}
    # 3,240.00 remitted of 4,320.00 collected; 500.00 arrived of 1,200.00 × 10/12 budgeted.
    assert (achieved["remittance"], achieved["subsidy_arrival"]) == (Decimal("0.75"), Decimal("0.5"))
    # (30 × 0.75 + 25 × 0.75 + 20 × 0 + 10 × 0.75 + 5 × 0.5 + 10 × 0.5) over weights of 100
    assert changchun.score == Decimal("56.25")
    # Once remittances are recorded, a prefecture that collected and remitted nothing has remitted none of it.
    jilin = {item.code: item.achieved for item in {s.area: s for s in result.scores}["220200"].indicators}
    assert jilin["remittance"] == Decimal(0) and jilin["subsidy_arrival"] is None
