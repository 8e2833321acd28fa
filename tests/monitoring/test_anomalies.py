"""Smart monitoring: each anomaly rule with a case that fires and one that does not; the flags are refreshed
idempotently and a supervisor's explanation is kept."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import select

from portal.errors import ValidationFailed
from portal.models import BaseDeclaration, DeathReport, MonitoringFlag
from portal.policy import anomalies as rules
from portal.services import anomalies, monitoring
from tests import factories
from tests.monitoring.support import (
    NOW,
    OCTOBER,
    SEPTEMBER,
    TODAY,
    Province,
    award,
    month_row,
    pension_payment,
    person,
    spell,
)

JAN = date(2026, 1, 1)


def month(n: int) -> date:
    return date(2026, n, 1)


def refreshed(db):
    monitoring.refresh(db, now=NOW, today=TODAY)
    report = anomalies.refresh_flags(db, now=NOW, today=TODAY)
    db.commit()
    return report


def found(db, rule: str) -> list[MonitoringFlag]:
    return [flag for flag in anomalies.flags(db, status="all") if flag.rule == rule]


def test_the_thresholds_are_dated_parameter_data_marked_provisional():
    used = rules.thresholds(TODAY)
    assert used.provisional and used.value["collection_rate_drop_points"] == 10


def test_a_collection_rate_falling_ten_points_fires_and_five_points_does_not():
    series = [(month(9), 1000000, 900000), (month(10), 1000000, 700000), (month(11), 1000000, 650000)]
    drops = rules.collection_rate_drops(series, points=Decimal(10), minimum_due_fen=100000)
    assert [(drop.month, drop.before, drop.rate) for drop in drops] == [(month(10), Decimal("0.9000"),
                                                                         Decimal("0.7000"))]


def test_a_fall_after_a_month_with_little_due_does_not_fire():
    series = [(month(9), 50000, 50000), (month(10), 1000000, 0)]
    assert rules.collection_rate_drops(series, points=Decimal(10), minimum_due_fen=100000) == []


def test_back_payments_three_times_the_average_fire_and_fewer_than_the_minimum_do_not():
    usual = [(month(n), 1) for n in range(1, 7)]
    spikes = rules.back_payment_spikes([*usual, (month(7), 5)], factor=Decimal(3), minimum=5, window=6)
    assert [(spike.month, spike.count, spike.average) for spike in spikes] == [(month(7), 5, Decimal("1.00"))]
    assert rules.back_payment_spikes([*usual, (month(7), 4)], factor=Decimal(3), minimum=5, window=6) == []


def test_the_province_s_october_collection_fall_in_changchun_is_flagged_with_its_evidence(db):
    Province(db)
    refreshed(db)
    flags = found(db, "collection_rate_drop")
    assert [(flag.area, flag.month) for flag in flags] == [("220100", OCTOBER)]  # 100% in September, 50% in October
    assert json.loads(flags[0].evidence) == {"before": "1.0000", "rate": "0.5000"}


def test_an_employer_enrolling_three_people_near_retirement_in_a_month_is_flagged_and_two_are_not(db):
    busy, quiet = factories.employer(db, region="220500"), factories.employer(db, region="220600")
    for index in range(3):
        spell(db, person_row=person(db, birth=date(1967, 1, 1 + index)), employer_row=busy, start=OCTOBER)
    for index in range(2):
        spell(db, person_row=person(db, birth=date(1967, 2, 1 + index)), employer_row=quiet, start=OCTOBER)
    spell(db, person_row=person(db, birth=date(1990, 1, 1)), employer_row=quiet, start=OCTOBER)  # young: not counted
    db.commit()
    refreshed(db)
    flags = found(db, "enrolment_near_retirement")
    assert [(flag.area, flag.month, flag.subject) for flag in flags] == [("220500", OCTOBER, busy.credit_code)]
    assert json.loads(flags[0].evidence)["count"] == 3


def test_a_pension_paid_for_a_month_after_the_death_is_flagged_and_the_death_month_is_not(db):
    late, timely = person(db, birth=date(1950, 1, 1)), person(db, birth=date(1951, 1, 1))
    for who, paid in ((late, [SEPTEMBER, OCTOBER]), (timely, [SEPTEMBER])):
        row = award(db, person_row=who, first=SEPTEMBER)
        for paid_month in paid:
            pension_payment(db, award_row=row, month=paid_month)
        db.add(DeathReport(person_id=who.id, date_of_death=date(2026, 9, 20), evidence="certificate", created_at=NOW))
    db.commit()
    refreshed(db)
    flags = found(db, "pension_after_death")
    assert [(flag.subject, flag.month) for flag in flags] == [(late.id_number, SEPTEMBER)]
    assert json.loads(flags[0].evidence) == {"amount": "3000.00", "died": "2026-09-20", "months": 1}


def test_two_pensions_into_one_card_are_flagged_and_a_card_of_ones_own_is_not(db):
    shared = [award(db, person_row=person(db, birth=date(1955, 1, 1))) for _ in range(2)]
    own = award(db, person_row=person(db, birth=date(1956, 1, 1)))
    own.card_number = "6222000000009999"
    for row in shared:
        row.card_number = "6222000000001234"
    db.add_all([own, *shared])
    db.commit()
    refreshed(db)
    flags = found(db, "shared_bank_account")
    assert [flag.subject for flag in flags] == ["6222000000001234"]
    assert json.loads(flags[0].evidence) == {"card": "•••• 1234", "pensions": 2}


def test_a_base_below_half_of_the_year_before_is_flagged_and_one_at_two_thirds_is_not(db):
    employer = factories.employer(db, region="220700")
    dropped, lowered = person(db), person(db)
    for who, after in ((dropped, 250000), (lowered, 400000)):
        db.add(BaseDeclaration(employer_id=employer.id, contribution_year=2025, person_id=who.id, wage_fen=600000,
                               base_fen=600000, created_at=NOW))
        db.add(BaseDeclaration(employer_id=employer.id, contribution_year=2026, person_id=who.id, wage_fen=after,
                               base_fen=after, created_at=NOW))
    db.commit()
    refreshed(db)
    flags = found(db, "base_drop")
    assert [(flag.area, flag.month, flag.subject) for flag in flags] == [("220700", date(2026, 7, 1),
                                                                         dropped.id_number)]


def test_a_second_refresh_changes_no_flag_and_a_finding_gone_takes_its_open_flag_with_it(db):
    province = Province(db)
    first = refreshed(db)
    assert first.added >= 1
    again = refreshed(db)
    assert (again.added, again.removed) == (0, 0)
    province.woman_october.status = "paid"  # October in Changchun is fully collected after all
    db.add(province.woman_october)
    db.commit()
    assert refreshed(db).removed == 1
    assert found(db, "collection_rate_drop") == []


def test_an_explained_flag_keeps_its_note_and_stays_explained_while_the_rule_fires(db):
    Province(db)
    refreshed(db)
    boss = factories.staff(db, roles="supervisor")
    flag = found(db, "collection_rate_drop")[0]
    with pytest.raises(ValidationFailed):
        anomalies.explain(db, flag_id=flag.id, note="  ", staff_id=boss.id, now=NOW)
    anomalies.explain(db, flag_id=flag.id, note="一户大企业十月缓缴，已批准", staff_id=boss.id, now=NOW)
    db.commit()
    refreshed(db)
    kept = db.exec(select(MonitoringFlag).where(MonitoringFlag.id == flag.id)).one()
    assert (kept.status, kept.note) == ("explained", "一户大企业十月缓缴，已批准")
    assert anomalies.flags(db, status="open") == [f for f in anomalies.flags(db, status="open") if f.id != flag.id]


def test_a_month_billed_ahead_and_not_yet_due_is_not_flagged_for_its_low_collection(db):
    province = Province(db)
    month_row(db, person_row=province.man, month=month(11), employer_row=province.changchun, status="billed")
    db.commit()
    monitoring.refresh(db, now=NOW, today=date(2026, 11, 20))  # November is due on the 25th
    anomalies.refresh_flags(db, now=NOW, today=date(2026, 11, 20))
    db.commit()
    assert [flag.month for flag in found(db, "collection_rate_drop")] == [OCTOBER]
    monitoring.refresh(db, now=NOW, today=date(2026, 11, 26))
    anomalies.refresh_flags(db, now=NOW, today=date(2026, 11, 26))
    db.commit()
    assert [flag.month for flag in found(db, "collection_rate_drop")] == [month(11), OCTOBER]  # newest first
