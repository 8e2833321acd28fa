"""The fund budget: next year's draft from the trend of the complete years before it, the gap shared 80/20 by the
fund's surplus and governments (provisional), and execution against it month by month."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime
from decimal import Decimal

from portal.models import MonitoringMonth, Transfer
from portal.policy import budget as projection
from portal.services import budget
from tests import factories
from tests.monitoring.support import NOW, TODAY


def years(*rows):
    return [projection.YearFigures(year, Decimal(income), Decimal(spent), Decimal(10), Decimal(5))
            for year, income, spent in rows]


def test_the_draft_extends_the_straight_line_through_the_years_before():
    draft = projection.draft(2026, years((2023, 1000, 1100), (2024, 1100, 1300), (2025, 1200, 1500)))
    assert (draft.income, draft.expenditure, draft.gap) == (Decimal("1300.00"), Decimal("1700.00"), Decimal("400.00"))
    assert [item.year for item in draft.evidence] == [2023, 2024, 2025]


def test_a_gap_is_shared_80_by_the_fund_s_surplus_and_20_by_governments_provisionally():
    draft = projection.draft(2026, years((2024, 1100, 1300), (2025, 1200, 1500)))
    assert draft.gap == Decimal("400.00")
    assert (draft.sharing.fund_surplus, draft.sharing.governments) == (Decimal("320.00"), Decimal("80.00"))
    assert draft.sharing.provisional


def test_no_gap_no_sharing_and_one_year_of_evidence_is_repeated():
    draft = projection.draft(2026, years((2025, 1500, 1200)))
    assert (draft.income, draft.expenditure, draft.gap, draft.sharing) == (Decimal("1500.00"), Decimal("1200.00"),
                                                                            Decimal("0"), None)


def test_a_falling_trend_stops_at_zero_and_no_evidence_drafts_nothing():
    assert projection.trend([(2024, Decimal(100)), (2025, Decimal(10))], 2027) == Decimal("0.00")
    assert projection.draft(2026, years((2026, 1, 1), (2027, 1, 1))) is None


def test_execution_sets_each_month_against_a_twelfth_of_the_budget():
    draft = projection.draft(2026, years((2025, 1200, 600)))
    months = projection.execution(draft, [(date(2026, 1, 1), Decimal("90"), Decimal("55")),
                                          (date(2025, 12, 1), Decimal("1"), Decimal("1"))])
    assert [(row.month, row.budget_income, row.income_variance, row.expenditure_variance) for row in months] == [
        (date(2026, 1, 1), Decimal("100.00"), Decimal("-10.00"), Decimal("5.00"))]


def stored(db, area, month, collected, money_out):
    db.add(MonitoringMonth(month=month, area=area, collected_fen=collected, payments_out_fen=money_out,
                           contributors=100, pensioners=60, computed_at=NOW))


def test_the_service_drafts_from_years_over_and_complete_only_and_executes_month_by_month(db):
    for month in range(7, 13):
        stored(db, "220100", date(2023, month, 1), 999999, 0)  # half a year: no evidence
    for month in range(1, 13):
        stored(db, "220100", date(2024, month, 1), 100000, 120000)
        stored(db, "220100", date(2025, month, 1), 110000, 130000)
    for month in range(1, 13):  # the current year, on record to December (billed ahead), is not over: no evidence
        stored(db, "220100", date(2026, month, 1), 115000, 140000)
    db.commit()

    assert [(item.year, item.income, item.expenditure, item.contributors) for item in
            budget.history(db, area="220100", before=2026)] == [(2024, Decimal("12000.00"), Decimal("14400.00"), Decimal("100.00")),
                                                   (2025, Decimal("13200.00"), Decimal("15600.00"), Decimal("100.00"))]
    draft, months = budget.execution(db, area="220100", year=2026, today=TODAY)
    assert (draft.income, draft.expenditure, draft.gap) == (Decimal("14400.00"), Decimal("16800.00"),
                                                            Decimal("2400.00"))
    assert (draft.sharing.fund_surplus, draft.sharing.governments) == (Decimal("1920.00"), Decimal("480.00"))
    assert len(months) == 12
    assert (months[0].budget_income, months[0].income, months[0].income_variance) == (
        Decimal("1200.00"), Decimal("1150.00"), Decimal("-50.00"))
    assert budget.incomes(db, year=2026, today=TODAY) == {"220100": Decimal("14400.00")}
    assert budget.draft(db, area="220100", year=2027, today=TODAY).evidence[-1].year == 2025


def test_the_long_horizon_starts_from_the_record_s_cohorts_at_the_end_of_last_year(db):
    from portal.policy.projection import Cohort
    from tests import factories
    from tests.monitoring.support import award, month_row, person, spell

    employer = factories.employer(db, region="220100")
    worker = person(db, sex="male", birth=date(1970, 3, 1))
    month_row(db, person_row=worker, month=date(2025, 12, 1), employer_row=employer, base_fen=600000)
    widow = person(db, sex="female", birth=date(1960, 5, 1))
    award(db, person_row=widow, first=date(2020, 6, 1), monthly_fen=300000)
    retired = person(db, sex="male", birth=date(1964, 1, 1))
    spell(db, person_row=retired, employer_row=employer, start=date(2000, 1, 1), end=date(2025, 6, 1),
          reason="retired")  # no award yet: draws the average award
    db.commit()
    from portal.services import monitoring

    monitoring.refresh(db, now=NOW, today=TODAY)
    db.commit()

    assert budget.cohorts(db, month=date(2025, 12, 1), assumptions_on=TODAY) == [
        Cohort("female", 1960, Decimal(0), Decimal(1), Decimal(0), Decimal("3000.00")),
        Cohort("male", 1964, Decimal(0), Decimal(1), Decimal(0), Decimal("3000.00")),
        Cohort("male", 1970, Decimal(1), Decimal(0), Decimal("6000.00"), Decimal(0))]
    run = budget.long_horizon(db, today=TODAY)
    assert run.start_year == 2025 and [run.years[0].year, run.years[-1].year] == [2026, 2050]
    assert run.provisional


def transfer(db, *, direction: str, state: str, region: str, updated_at, amounts: dict) -> Transfer:
    serial = next(_transfers)
    row = Transfer(reference=f"ZY20251201{serial:06d}", direction=direction,
                   person_id=factories.person(db, region=region).id, other_province="310000", state=state,
                   amounts_json=json.dumps(amounts), created_at=updated_at, updated_at=updated_at)
    db.add(row)
    db.flush()
    return row


_transfers = itertools.count(1)


def test_the_funds_moved_by_transfers_are_summed_by_year_china_time_and_by_the_persons_prefecture(db):
    both = {"received": {"personal_account": "1000.10", "pooled": "2000.05"}}
    # Into Changchun, merged in 2025; one merged at 01:00 on 1 January 2026 China time (still 2025 in UTC) counts
    # for 2026, which is not over; one still under query moved nothing yet.
    transfer(db, direction="in", state="merged", region="220102", updated_at=datetime(2025, 6, 1, 2, tzinfo=UTC),
             amounts=both)
    transfer(db, direction="in", state="merged", region="220102", updated_at=datetime(2025, 12, 31, 17, tzinfo=UTC),
             amounts=both)
    transfer(db, direction="in", state="query", region="220102", updated_at=datetime(2025, 6, 1, 2, tzinfo=UTC),
             amounts=both)
    # Into Jilin for a person whose identity number was issued in Beijing: the province's, no prefecture's.
    transfer(db, direction="in", state="merged", region="110101", updated_at=datetime(2025, 3, 1, 2, tzinfo=UTC),
             amounts={"received": {"personal_account": "0.01", "pooled": "0.02"}, "expected": {"pooled": "9"}})
    # Out of Siping, completed in 2024 and 2025.
    for year in (2024, 2025):
        transfer(db, direction="out", state="completed", region="220302",
                 updated_at=datetime(year, 5, 1, 2, tzinfo=UTC),
                 amounts={"sent": {"personal_account": "300.00", "pooled": "0.33"}, "total": "300.33"})
    db.commit()

    assert budget.transfers_by_year(db, area="220000", before=2026) == {
        2024: (Decimal("0.00"), Decimal("300.33")), 2025: (Decimal("3000.18"), Decimal("300.33"))}
    assert budget.transfers_by_year(db, area="220100", before=2026) == {2025: (Decimal("3000.15"), Decimal("0.00"))}
    assert budget.transfers_by_year(db, area="220300", before=2025) == {2024: (Decimal("0.00"), Decimal("300.33"))}
    assert budget.transfers_by_year(db, area="220200", before=2026) == {}
    assert budget.transfers_by_year(db, area="220100", before=2027)[2026] == (Decimal("3000.15"), Decimal("0.00"))
