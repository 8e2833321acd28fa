"""Routing data: who decides each kind of case, service times, and reason codes."""

from __future__ import annotations

import copy

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from portal.queue import reasons
from portal.queue.routing import (
    DATA_FILE,
    DEFAULT_TIER,
    MONEY_KINDS,
    Kind,
    Route,
    RoutingError,
    Tier,
    default_routing,
    parse_routing,
    route_for,
    service_days_for,
)


@pytest.fixture
def raw():
    with open(DATA_FILE, encoding="utf-8") as f:
        return yaml.safe_load(f)


def test_the_routing_file_routes_every_kind_for_every_tier():
    routing = default_routing()
    assert set(routing.routes) == {(k, t) for k in Kind for t in Tier}
    assert set(routing.service_days) == set(Kind)


def test_money_kinds_are_back_payment_transfer_and_the_two_awards():
    assert {str(k) for k in MONEY_KINDS} == {"back_payment", "transfer", "retirement_claim", "survivor_claim"}


@pytest.mark.parametrize("kind", sorted(MONEY_KINDS))
def test_money_kinds_are_dual_for_every_tier_in_the_shipped_file(kind):
    assert {default_routing().route(kind, t) for t in Tier} == {Route.DUAL}


def test_everyone_is_tier_b_until_credit_ratings_arrive():
    assert DEFAULT_TIER is Tier.B
    assert route_for("employer_verification") is default_routing().route("employer_verification", "B")


def test_service_times_match_the_provincial_standards():
    expected = {
        "employer_verification": 5,
        "deferral": 10,
        "back_payment": 15,
        "transfer": 45,
        "retirement_claim": 20,
    }
    assert {k: service_days_for(k) for k in expected} == expected


def test_the_routing_file_says_its_service_times_are_unsourced(raw):
    assert raw["confidence"] == "unsourced"


@pytest.mark.parametrize("kind", sorted(MONEY_KINDS))
@pytest.mark.parametrize("weaker", ["auto", "single"])
def test_a_file_routing_a_money_kind_below_dual_fails_to_load(raw, kind, weaker):
    raw["kinds"][kind]["route"]["B"] = weaker
    with pytest.raises(RoutingError, match="money decisions must be dual"):
        parse_routing(raw)


def test_a_file_missing_a_kind_fails_to_load(raw):
    del raw["kinds"]["deferral"]
    with pytest.raises(RoutingError, match="without routing"):
        parse_routing(raw)


def test_a_file_with_an_unknown_kind_fails_to_load(raw):
    raw["kinds"]["lottery_win"] = copy.deepcopy(raw["kinds"]["deferral"])
    with pytest.raises(RoutingError, match="unknown kinds"):
        parse_routing(raw)


def test_a_file_missing_a_tier_fails_to_load(raw):
    del raw["kinds"]["deferral"]["route"]["D"]
    with pytest.raises(RoutingError, match="exactly the tiers"):
        parse_routing(raw)


def test_a_file_with_an_unknown_route_fails_to_load(raw):
    raw["kinds"]["deferral"]["route"]["A"] = "nobody"
    with pytest.raises(RoutingError, match="unknown route"):
        parse_routing(raw)


@pytest.mark.parametrize("days", [0, -3, True, "10", 10.5, None, 1000])
def test_a_file_with_a_nonsense_service_time_fails_to_load(raw, days):
    raw["kinds"]["deferral"]["service_days"] = days
    with pytest.raises(RoutingError, match="service_days"):
        parse_routing(raw)


route_maps = st.fixed_dictionaries(
    {
        str(k): st.fixed_dictionaries({str(t): st.sampled_from([str(r) for r in Route]) for t in Tier})
        for k in Kind
    }
)


@given(route_maps)
def test_money_kinds_can_never_be_routed_to_auto_or_single(routes):
    data = {"kinds": {kind: {"service_days": 10, "route": by_tier} for kind, by_tier in routes.items()}}
    weakened = any(r != "dual" for k in MONEY_KINDS for r in routes[str(k)].values())
    try:
        routing = parse_routing(data)
    except RoutingError:
        assert weakened
        return
    assert not weakened
    assert all(routing.route(k, t) is Route.DUAL for k in MONEY_KINDS for t in Tier)


def test_reason_codes_are_unique_and_labelled_in_both_languages():
    codes = [r.code for r in reasons.REASONS]
    assert len(codes) == len(set(codes))
    for r in reasons.REASONS:
        assert r.zh_CN.strip() and r.en.strip()


def test_every_decision_kind_has_reason_codes():
    for use in reasons.ReasonUse:
        assert reasons.reasons_for(use), use


def test_labels_follow_the_locale_and_default_to_chinese():
    assert reasons.label("missing_document") == "缺少申请材料"
    assert reasons.label("missing_document", "en") == "A required document is missing"
    assert reasons.label("missing_document", "zh_CN") == "缺少申请材料"


def test_a_reason_is_valid_only_for_its_own_use():
    assert reasons.is_valid("not_eligible", reasons.ReasonUse.REJECT)
    assert not reasons.is_valid("not_eligible", reasons.ReasonUse.RETURN)
    assert not reasons.is_valid("made_up", reasons.ReasonUse.REJECT)


@pytest.mark.parametrize("days", [None, -1, "ten", True, 1000])
def test_a_file_with_a_nonsense_closing_delay_fails_to_load(raw, days):
    raw["close_after_working_days"] = days
    with pytest.raises(RoutingError, match="close_after_working_days"):
        parse_routing(raw)


def test_decided_cases_close_after_ten_working_days_in_the_shipped_file(raw):
    assert parse_routing(raw).close_after_days == 10
