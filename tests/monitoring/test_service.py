"""The monitoring figures of a small hand-computed province (tests/monitoring/support.py), and the refresh that
keeps them: only months whose records changed are recomputed, and a rerun changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlmodel import select

from portal.models import MonitoringMonth
from portal.services import monitoring
from tests.monitoring.support import (
    NOW,
    OCTOBER,
    SEPTEMBER,
    TODAY,
    Province,
    award,
    flexible,
    month_row,
    pension_payment,
    person,
    spell,
)


def refreshed(db, *, now=NOW, today=TODAY):
    report = monitoring.refresh(db, now=now, today=today)
    db.commit()
    return report


def by_area(db, month):
    return {row.area: row for row in monitoring.overview(db, month=month)}


def test_the_province_counts_every_insured_person_once_and_sets_collected_against_due(db):
    Province(db)
    refreshed(db)
    province = by_area(db, OCTOBER)["220000"]
    assert (province.insured, province.contributors) == (4, 3)
    assert (province.due, province.collected, province.arrears) == (Decimal("5520.00"), Decimal("4080.00"),
                                                                     Decimal("1440.00"))
    assert province.collection_rate == Decimal("0.7391")
    assert province.contribution_rate == Decimal("0.7500")


def test_a_prefecture_counts_its_employers_staff_and_the_flexible_workers_born_there(db):
    Province(db)
    refreshed(db)
    october = by_area(db, OCTOBER)
    assert (october["220100"].insured, october["220100"].contributors, october["220100"].arrears) == (
        2, 1, Decimal("1440.00"))
    assert (october["220200"].insured, october["220200"].contributors) == (1, 1)
    assert (october["220300"].insured, october["220300"].enrolments) == (1, 1)
    september = by_area(db, SEPTEMBER)["220200"]
    assert (september.due, september.collected, september.collection_rate) == (Decimal("1440.00"), Decimal("0.00"),
                                                                                Decimal("0"))


def test_a_retiree_is_a_pensioner_from_the_month_after_the_last_month_worked(db):
    Province(db)
    refreshed(db)
    september, october = by_area(db, SEPTEMBER)["220100"], by_area(db, OCTOBER)["220100"]
    assert (september.pensioners, september.new_pensioners, september.new_pensioners_year) == (1, 1, 1)
    assert (october.pensioners, october.new_pensioners, october.new_pensioners_year) == (1, 0, 1)
    assert october.dependency_ratio == Decimal("1.0000")  # one contributor in Changchun per pensioner
    assert by_area(db, OCTOBER)["220000"].dependency_ratio == Decimal("3.0000")


def test_requests_are_counted_decided_on_time_late_and_overdue_in_china_time(db):
    Province(db)
    refreshed(db)
    changchun = by_area(db, OCTOBER)["220100"]
    assert (changchun.cases_decided, changchun.cases_on_time, changchun.cases_overdue) == (2, 1, 1)
    assert changchun.on_time_share == Decimal("0.5000")


def test_collections_fall_in_the_china_month_they_were_confirmed_and_the_balance_runs_on(db):
    Province(db)
    refreshed(db)
    assert by_area(db, OCTOBER)["220100"].collections_in == Decimal("2880.00")
    flows = monitoring.flows(db, area="220000")
    assert [(flow.month, flow.collections_in_fen, flow.balance_fen) for flow in flows if flow.collections_in_fen] == [
        (OCTOBER, 288000, 288000)]


def test_the_pyramid_puts_each_insured_person_in_their_age_band_by_sex(db):
    Province(db)
    refreshed(db)
    rows = {row.label: (row.men, row.women) for row in monitoring.pyramid(db, area="220000", month=OCTOBER)}
    assert rows["40–44"] == (1, 0)
    assert rows["25–29"] == (0, 1)
    assert rows["55–59"] == (1, 0)
    assert rows["35–39"] == (0, 1)
    assert sum(men + women for men, women in rows.values()) == 4


def test_the_enrolment_plan_is_a_twelfth_of_the_provisional_yearly_plan(db):
    Province(db)
    refreshed(db)
    siping = by_area(db, OCTOBER)["220300"]
    assert siping.plan_monthly == Decimal("500.00")  # 6,000 a year, unsourced
    assert siping.plan_completion == Decimal("0.0020")


def test_a_second_refresh_recomputes_nothing_and_changes_nothing(db):
    Province(db)
    first = refreshed(db)
    assert SEPTEMBER in first.recomputed and OCTOBER in first.recomputed
    before = [(row.month, row.area, row.insured, row.collected_fen, row.computed_at)
              for row in db.exec(select(MonitoringMonth).order_by(MonitoringMonth.month, MonitoringMonth.area))]
    second = refreshed(db, now=datetime(2026, 11, 29, tzinfo=UTC))
    assert second.recomputed == [] and second.removed == []
    after = [(row.month, row.area, row.insured, row.collected_fen, row.computed_at)
             for row in db.exec(select(MonitoringMonth).order_by(MonitoringMonth.month, MonitoringMonth.area))]
    assert after == before


def test_a_payment_for_one_month_recomputes_that_month_only(db):
    province = Province(db)
    refreshed(db)
    province.older_september.status = "paid"
    db.add(province.older_september)
    db.commit()
    later = datetime(2026, 11, 29, tzinfo=UTC)
    report = refreshed(db, now=later)
    assert report.recomputed == [SEPTEMBER]
    assert by_area(db, SEPTEMBER)["220200"].collected == Decimal("1440.00")
    october = db.exec(select(MonitoringMonth).where(MonitoringMonth.month == OCTOBER,
                                                    MonitoringMonth.area == "220000")).one()
    assert october.computed_at == NOW


def test_a_retirement_recomputes_every_later_month(db):
    province = Province(db)
    refreshed(db)
    spell(db, person_row=province.older, employer_row=province.jilin, start=date(2021, 1, 1), end=date(2026, 9, 1),
          reason="retired")
    db.commit()
    report = refreshed(db, now=datetime(2026, 11, 29, tzinfo=UTC))
    assert report.recomputed == [date(2021, 1, 1), OCTOBER]  # its start month is new; October has a new pensioner
    assert by_area(db, OCTOBER)["220200"].new_pensioners == 1


def test_months_before_the_provincial_fund_began_are_not_monitored_but_their_retirements_still_count(db):
    province = Province(db)
    month_row(db, person_row=province.older, month=date(2020, 6, 1), employer_row=province.jilin)
    month_row(db, person_row=province.older, month=date(2020, 7, 1), employer_row=province.jilin)
    spell(db, person_row=province.older, employer_row=province.jilin, start=date(2015, 1, 1), end=date(2019, 5, 1),
          reason="retired")
    db.commit()
    report = refreshed(db)
    assert date(2020, 7, 1) in report.recomputed
    assert min(report.recomputed) == date(2020, 7, 1)
    assert date(2020, 6, 1) not in monitoring.months_available(db)
    assert by_area(db, date(2020, 7, 1))["220200"].insured == 1
    assert by_area(db, OCTOBER)["220000"].pensioners == by_area(db, date(2020, 7, 1))["220000"].pensioners + 1


def test_a_month_whose_records_are_gone_is_forgotten(db):
    province = Province(db)
    refreshed(db)
    db.delete(province.older_september)
    db.commit()
    db.exec(select(MonitoringMonth)).all()
    report = refreshed(db)
    assert report.recomputed == [SEPTEMBER]
    assert by_area(db, SEPTEMBER)["220200"].insured == 0


def test_pensioners_come_from_the_awards_and_a_retiree_with_an_award_counts_once(db):
    province = Province(db)
    retiree_award = award(db, person_row=province.retiree, region="220102", first=SEPTEMBER)
    widow = person(db, sex="female", birth=date(1960, 5, 1), region="220204")
    widow_award = award(db, person_row=widow, region="220204", first=OCTOBER, stopped_after=OCTOBER,
                        monthly_fen=250000)
    for month in (SEPTEMBER, OCTOBER):
        pension_payment(db, award_row=retiree_award, month=month)
    pension_payment(db, award_row=widow_award, month=OCTOBER, pension_fen=240000, adjustment_fen=10000)
    db.commit()
    refreshed(db)

    october = by_area(db, OCTOBER)
    assert (october["220000"].pensioners, october["220000"].new_pensioners) == (2, 1)
    assert (october["220100"].pensioners, october["220200"].pensioners) == (1, 1)
    assert october["220000"].average_pension == Decimal("2750.00")  # (3,000.00 + 2,500.00) / 2
    assert october["220000"].payments_out == Decimal("5500.00")
    assert by_area(db, OCTOBER)["220000"].dependency_ratio == Decimal("1.5000")


def test_an_award_stopped_after_a_death_leaves_the_months_after(db):
    province = Province(db)
    award(db, person_row=province.retiree, first=SEPTEMBER, stopped_after=SEPTEMBER)
    db.commit()
    refreshed(db)
    assert by_area(db, SEPTEMBER)["220100"].pensioners == 1
    assert by_area(db, OCTOBER)["220100"].pensioners == 0


def test_a_recomputed_award_counts_its_pensioner_once(db):
    province = Province(db)
    first = award(db, person_row=province.retiree, first=SEPTEMBER)
    first.superseded_by = -1  # replaced (the unique current award is the new one)
    db.add(first)
    db.flush()
    second = award(db, person_row=province.retiree, first=SEPTEMBER)
    first.superseded_by = second.id
    db.add(first)
    db.commit()
    refreshed(db)
    assert by_area(db, OCTOBER)["220100"].pensioners == 1
    assert by_area(db, SEPTEMBER)["220000"].new_pensioners == 1


def test_an_insured_person_moves_up_an_age_band_in_the_month_of_their_birthday(db):
    thirty_in_october = person(db, sex="female", birth=date(1996, 10, 31), region="220102")
    thirty_in_november = person(db, sex="female", birth=date(1996, 11, 1), region="220102")
    for row in (thirty_in_october, thirty_in_november):
        flexible(db, person_row=row, start=date(2026, 1, 1))
        month_row(db, person_row=row, month=OCTOBER)
    refreshed(db)
    rows = {row.label: row.women for row in monitoring.pyramid(db, area="220100", month=OCTOBER)}
    assert rows["30–34"] == 1
    assert rows["25–29"] == 1
