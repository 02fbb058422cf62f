"""A controllable clock and the office-hours calendar the SLA tests share.

Time is explicit in these tests (nothing sleeps): ``clock`` replaces
``django.utils.timezone.now`` for the test, and ``london(day, hour)`` names instants in
December 2026 (the 7th is a Monday) on a Monday-to-Friday, 09:00-17:00 London calendar.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from deskside.sla.models import BusinessCalendar, WorkingPeriod

LONDON = ZoneInfo("Europe/London")


def london(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant in December 2026 (the 7th is a Monday), London time, as UTC."""
    return datetime(2026, 12, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


class ControlledClock:
    def __init__(self) -> None:
        self.now = london(7, 10)

    def set(self, value: datetime) -> None:
        self.now = value


# Named so that test modules can import them without their arguments shadowing the import.
@pytest.fixture(name="clock")
def clock_fixture(monkeypatch: pytest.MonkeyPatch) -> ControlledClock:
    controlled = ControlledClock()
    monkeypatch.setattr(timezone, "now", lambda: controlled.now)
    return controlled


@pytest.fixture(name="calendar")
def calendar_fixture(db: None) -> BusinessCalendar:
    office = BusinessCalendar.objects.create(name="Office hours", timezone="Europe/London")
    for weekday in range(5):
        WorkingPeriod.objects.create(
            calendar=office, weekday=weekday, start_time=time(9), end_time=time(17)
        )
    return office
