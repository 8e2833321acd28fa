"""The one place that reads the wall clock, so tests and batch runs can pin time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")
_frozen: datetime | None = None


def now() -> datetime:
    return _frozen if _frozen is not None else datetime.now(UTC)


def today() -> date:
    """Today in China: due dates and contribution months follow Beijing time."""
    return now().astimezone(CHINA).date()


def freeze(at: datetime | None) -> None:
    """Pin the clock (tests and the demo); ``None`` releases it."""
    global _frozen
    _frozen = at
