"""Working-day calendars for tests: the shipped notices plus a hypothetical 2027 one, as if encoded later."""

from __future__ import annotations

import yaml

from portal.queue.calendar import DATA_FILE, WorkingCalendar, parse_calendar

# Not the real 2027 notice (unpublished when this was written): a plausible one that differs from the
# library's statutory days, so a due date recomputed with it moves. Spring Festival runs two weekdays
# longer (11 and 12 February) and Saturday 20 February is worked in exchange for one of them.
HYPOTHETICAL_2027 = {
    "source": "test fixture: a hypothetical notice for 2027",
    "confidence": "test",
    "holidays": [
        {"name": "元旦 New Year's Day", "from": "2027-01-01", "to": "2027-01-03"},
        {"name": "春节 Spring Festival", "from": "2027-02-05", "to": "2027-02-13"},
    ],
    "working_weekends": ["2027-02-20"],
}


def calendar_with_2027() -> WorkingCalendar:
    with open(DATA_FILE, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    data["years"][2027] = HYPOTHETICAL_2027
    return parse_calendar(data)
