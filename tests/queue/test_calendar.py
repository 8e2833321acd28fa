"""Working-day calendar: weekends, public holidays, 调休, paused time, and provisional years."""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.queue.calendar import (
    CalendarError,
    OutsideCalendar,
    add_working_days,
    default_calendar,
    due_date,
    is_provisional,
    is_working_day,
    parse_calendar,
    provisional_years,
    working_days_between,
)
from tests.queue.calendars import calendar_with_2027

D = date


def test_an_ordinary_friday_plus_one_working_day_is_monday():
    assert add_working_days(D(2025, 3, 7), 1) == D(2025, 3, 10)


def test_the_start_day_itself_is_not_counted():
    assert add_working_days(D(2025, 3, 10), 1) == D(2025, 3, 11)
    assert add_working_days(D(2025, 3, 10), 0) == D(2025, 3, 10)


def test_weekends_are_not_working_days():
    assert not is_working_day(D(2025, 3, 8)) and not is_working_day(D(2025, 3, 9))


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (D(2025, 1, 1), "元旦"),
        (D(2025, 1, 29), "春节"),
        (D(2025, 4, 4), "清明"),
        (D(2025, 5, 5), "劳动节"),
        (D(2025, 6, 2), "端午"),
        (D(2025, 10, 8), "国庆中秋"),
        (D(2026, 1, 2), "元旦"),
        (D(2026, 2, 23), "春节"),
        (D(2026, 4, 6), "清明"),
        (D(2026, 5, 5), "劳动节"),
        (D(2026, 6, 19), "端午"),
        (D(2026, 9, 25), "中秋"),
        (D(2026, 10, 7), "国庆"),
    ],
)
def test_public_holidays_on_weekdays_are_days_off(day, name):
    assert day.weekday() < 5
    assert not is_working_day(day), name


@pytest.mark.parametrize(
    "day",
    [
        D(2025, 1, 26),
        D(2025, 2, 8),
        D(2025, 4, 27),
        D(2025, 9, 28),
        D(2025, 10, 11),
        D(2026, 1, 4),
        D(2026, 2, 14),
        D(2026, 2, 28),
        D(2026, 5, 9),
        D(2026, 9, 20),
        D(2026, 10, 10),
    ],
)
def test_adjusted_weekend_days_are_working_days(day):
    assert day.weekday() >= 5
    assert is_working_day(day)


def test_a_tiaoxiu_saturday_is_counted_as_a_working_day():
    # Friday 2026-02-13, then Saturday 2026-02-14 is worked before the Spring Festival break.
    assert add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 14)


def test_the_2026_spring_festival_is_skipped():
    assert add_working_days(D(2026, 2, 14), 1) == D(2026, 2, 24)


def test_the_2025_spring_festival_is_skipped():
    assert add_working_days(D(2025, 1, 27), 1) == D(2025, 2, 5)


def test_the_2026_national_day_holiday_is_skipped():
    assert add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)
    assert add_working_days(D(2026, 10, 9), 1) == D(2026, 10, 10)


@pytest.mark.parametrize("year", [2025, 2026])
def test_each_year_has_248_working_days(year):
    # 365 days - 104 weekend days - 13 statutory holidays, with 调休 balancing out.
    assert working_days_between(D(year - 1, 12, 31) if year > 2025 else D(year, 1, 1), D(year, 12, 31)) == 248


def test_working_days_between_counts_the_end_but_not_the_start():
    assert working_days_between(D(2025, 3, 10), D(2025, 3, 14)) == 4
    assert working_days_between(D(2025, 3, 14), D(2025, 3, 10)) == -4
    assert working_days_between(D(2025, 3, 10), D(2025, 3, 10)) == 0


def test_a_due_date_without_pauses_is_plain_working_day_arithmetic():
    assert due_date(D(2025, 9, 26), 5, []) == add_working_days(D(2025, 9, 26), 5)
    # Fri 26 Sep 2025: 28 Sep (Sunday, worked), 29, 30 Sep, then 1-8 Oct off, 9 and 10 Oct.
    assert due_date(D(2025, 9, 26), 5, []) == D(2025, 10, 10)


def test_a_pause_extends_the_due_date_by_the_working_days_it_covers():
    submitted = D(2025, 3, 3)  # Monday
    without = due_date(submitted, 10, [])
    # Returned Wednesday 5 March, resubmitted Wednesday 12 March: five working days paused.
    assert due_date(submitted, 10, [(D(2025, 3, 5), D(2025, 3, 12))]) == add_working_days(without, 5)


def test_a_pause_over_a_weekend_alone_changes_nothing():
    submitted = D(2025, 3, 3)
    assert due_date(submitted, 10, [(D(2025, 3, 7), D(2025, 3, 9))]) == due_date(submitted, 10, [])


def test_a_pause_after_the_due_date_changes_nothing():
    submitted = D(2025, 3, 3)
    late = due_date(submitted, 5, [])
    assert due_date(submitted, 5, [(late + timedelta(days=1), late + timedelta(days=20))]) == late


def test_overlapping_pauses_are_not_counted_twice():
    submitted = D(2025, 3, 3)
    one = due_date(submitted, 10, [(D(2025, 3, 5), D(2025, 3, 12))])
    both = due_date(submitted, 10, [(D(2025, 3, 5), D(2025, 3, 12)), (D(2025, 3, 6), D(2025, 3, 10))])
    assert one == both


def test_a_pause_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError):
        due_date(D(2025, 3, 3), 10, [(D(2025, 3, 12), D(2025, 3, 5))])


def test_a_case_submitted_on_28_december_2026_with_45_working_days_is_due_provisionally_in_2027():
    # 3 days left in 2026; January 2027 has 21 weekdays less New Year's Day; February 20 less the
    # library's Spring Festival weekdays (5, 8, 9, 10 February); then 1 to 8 March.
    due = due_date(D(2026, 12, 28), 45)
    assert due == D(2027, 3, 8)
    assert provisional_years(D(2026, 12, 28), due) == (2027,)


def test_a_provisional_2027_skips_the_spring_festival_the_library_computes():
    spring_festival = [d for d, name in holidays.China(years=2027).items() if "Spring Festival" in name
                       or "New Year's Eve" in name]
    assert D(2027, 2, 5) in spring_festival and D(2027, 2, 10) in spring_festival
    assert not any(is_working_day(d) for d in spring_festival)
    assert is_working_day(D(2027, 2, 4)) and is_working_day(D(2027, 2, 11))
    assert add_working_days(D(2027, 2, 4), 1) == D(2027, 2, 11)


def test_a_provisional_year_knows_no_swapped_working_weekends():
    days_2027 = [D(2027, 1, 1) + timedelta(days=n) for n in range(365)]
    assert not any(is_working_day(d) for d in days_2027 if d.weekday() >= 5)


def test_an_announced_year_is_not_provisional():
    assert not is_provisional(D(2025, 12, 1), D(2026, 12, 31))
    assert provisional_years(D(2026, 1, 5), D(2026, 3, 9)) == ()


def test_only_the_days_counted_make_a_range_provisional():
    # The start day is not counted, so a range ending on it counts nothing.
    assert not is_provisional(D(2027, 1, 4), D(2027, 1, 4))
    assert provisional_years(D(2026, 12, 31), D(2027, 1, 4)) == (2027,)
    assert provisional_years(D(2026, 12, 31), D(2028, 3, 1)) == (2027, 2028)


def test_a_year_encoded_later_is_announced_and_counted_by_its_notice():
    cal = calendar_with_2027()
    assert not cal.is_provisional(D(2026, 12, 28), D(2027, 12, 31))
    assert not cal.is_working_day(D(2027, 2, 12)) and cal.is_working_day(D(2027, 2, 20))
    assert cal.due_date(D(2026, 12, 28), 45) == D(2027, 3, 9)


def test_only_absurd_years_are_refused():
    assert is_working_day(D(2100, 12, 31))  # an ordinary Friday in the library's last year
    with pytest.raises(OutsideCalendar, match="1950..2100"):
        is_working_day(D(2101, 1, 3))
    with pytest.raises(OutsideCalendar):
        is_working_day(D(1949, 9, 30))
    with pytest.raises(OutsideCalendar):
        add_working_days(D(2100, 12, 1), 45)


def test_negative_working_days_are_refused():
    with pytest.raises(ValueError):
        add_working_days(D(2025, 3, 3), -1)


def calendar_data(**year):
    return {"years": {2025: {"holidays": [], "working_weekends": [], **year}}}


def test_a_calendar_with_a_day_both_off_and_worked_fails_to_load():
    data = calendar_data(
        holidays=[{"name": "x", "from": D(2025, 2, 8), "to": D(2025, 2, 8)}], working_weekends=[D(2025, 2, 8)]
    )
    with pytest.raises(CalendarError, match="both holiday and working"):
        parse_calendar(data)


def test_a_working_weekend_that_is_a_weekday_fails_to_load():
    with pytest.raises(CalendarError, match="not a Saturday or Sunday"):
        parse_calendar(calendar_data(working_weekends=["2025-03-05"]))


def test_a_holiday_range_running_backwards_fails_to_load():
    with pytest.raises(CalendarError, match="bad range"):
        parse_calendar(calendar_data(holidays=[{"name": "x", "from": "2025-05-05", "to": "2025-05-01"}]))


def test_a_calendar_with_a_missing_year_fails_to_load():
    data = {"years": {2025: {}, 2027: {}}}
    with pytest.raises(CalendarError, match="consecutive"):
        parse_calendar(data)


covered_days = st.dates(min_value=D(2025, 1, 1), max_value=D(2029, 6, 30))


@given(covered_days, st.integers(0, 60))
def test_counting_back_the_working_days_added_gives_the_same_number(start, n):
    end = add_working_days(start, n)
    assert working_days_between(start, end) == n
    if n:
        assert is_working_day(end)


@given(covered_days, st.integers(1, 30), st.lists(st.tuples(covered_days, st.integers(0, 20)), max_size=3))
def test_pauses_never_bring_a_due_date_forward(start, n, raw_pauses):
    pauses = [(s, s + timedelta(days=k)) for s, k in raw_pauses]
    assert due_date(start, n, pauses) >= due_date(start, n, [])


def test_the_shipped_calendar_announces_2025_and_2026_and_not_2027():
    cal = default_calendar()
    assert (cal.first, cal.last) == (D(2025, 1, 1), D(2026, 12, 31))
    assert cal.is_announced(2026) and not cal.is_announced(2027)
