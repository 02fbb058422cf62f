"""Business-time arithmetic for SLA clocks: pure Python and zoneinfo, no Django.

A :class:`Schedule` describes when a team works, in the wall-clock time of one IANA
time zone: weekly periods, closed dates (holidays) and one-off special days. The
functions here answer "when will N working minutes have passed?" and "how many
working minutes lie between two instants?". All instants going in must be aware;
all instants coming out are aware UTC datetimes.

How local wall-clock times become real instants
-----------------------------------------------
Each local date is worked out on its own: its periods are wall-clock ranges that are
turned into UTC instants with zoneinfo, so every period is measured in real elapsed
time. On the day clocks go forward, 00:00-04:00 is three real hours; on the day they
go back it is five, because the repeated hour really is worked twice.

* A wall-clock time that does not exist (it falls in a spring-forward gap) means the
  first instant after the gap: 01:30 on the day London skips 01:00-02:00 is 02:00 BST.
* A wall-clock time that happens twice (an autumn fall-back) means its first
  occurrence (``fold=0``), both for the start and for the end of a period. Using the
  same rule for both keeps the mapping from wall-clock time to instants monotonic, so
  back-to-back periods stay back-to-back and no period can end before it starts.
* An end minute of 1440 means the following local midnight, resolved the same way,
  so consecutive days tile the timeline exactly.

Speed: the caller recomputes SLA clocks for many tickets, so the intervals of each
(schedule, date) pair are cached. :class:`Schedule` is a frozen dataclass, so it is
hashable and can be a cache key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "TWENTY_FOUR_SEVEN",
    "Schedule",
    "ScheduleError",
    "WorkingHours",
    "add_business_minutes",
    "business_minutes_between",
    "is_working",
    "next_working_instant",
    "validate_schedule",
    "working_intervals",
]

MINUTES_PER_DAY = 1440

# How many days in a row may have no working time before we give up. A real schedule
# has working time every week; three years covers any run of holidays, and stops a
# schedule whose working time has run out (say, only special days in the past) from
# looping forever.
MAX_IDLE_DAYS = 3 * 366

_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

Interval = tuple[datetime, datetime]


class ScheduleError(ValueError):
    """A schedule that cannot be used, with the field at fault and a plain message."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class WorkingHours:
    """One weekly working period, in the schedule's local wall-clock time."""

    weekday: int  # 0 = Monday ... 6 = Sunday
    start_minute: int  # minutes after local midnight, 0..1439
    end_minute: int  # 1..1440; 1440 means midnight at the end of the day


@dataclass(frozen=True)
class Schedule:
    """When a team works: weekly periods, closed dates and one-off special days.

    A special day's ranges replace that weekday's periods on that date (an empty
    tuple closes the day), and a special day wins over ``closed_dates``.
    """

    timezone: str  # IANA name, e.g. "Europe/London"
    periods: tuple[WorkingHours, ...] = ()
    closed_dates: frozenset[date] = frozenset()
    special_days: tuple[tuple[date, tuple[tuple[int, int], ...]], ...] = ()
    always_open: bool = False  # 24/7: every instant is working time


TWENTY_FOUR_SEVEN = Schedule(timezone="UTC", always_open=True)


# --------------------------------------------------------------------------- validation


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _check_ranges(where: str, ranges: list[tuple[int, int]]) -> None:
    """Check one day's (start_minute, end_minute) ranges; `where` names the day."""
    for start, end in ranges:
        if not 0 <= start <= MINUTES_PER_DAY - 1:
            raise ScheduleError(
                "start_minute",
                f"{where}: a period starts at minute {start}, but a start must be "
                "between 00:00 and 23:59.",
            )
        if not 1 <= end <= MINUTES_PER_DAY:
            raise ScheduleError(
                "end_minute",
                f"{where}: a period ends at minute {end}, but an end must be "
                "between 00:01 and 24:00 (midnight at the end of the day).",
            )
        if end <= start:
            raise ScheduleError(
                "end_minute",
                f"{where}: a period ends at {_clock(end)}, which is not later than "
                f"its start at {_clock(start)}.",
            )
    ordered = sorted(ranges)
    for (first_start, first_end), (second_start, second_end) in pairwise(ordered):
        if second_start < first_end:
            raise ScheduleError(
                "periods",
                f"{where}: the periods {_clock(first_start)}-{_clock(first_end)} and "
                f"{_clock(second_start)}-{_clock(second_end)} overlap.",
            )


def validate_schedule(schedule: Schedule) -> None:
    """Raise :class:`ScheduleError` if the schedule cannot be used.

    Checks the time zone, each period's weekday and minutes, overlaps within a weekday
    or special day, repeated special days, and that there is some working time at all.
    """
    _zone(schedule.timezone)
    by_weekday: dict[int, list[tuple[int, int]]] = {}
    for period in schedule.periods:
        if not 0 <= period.weekday <= 6:
            raise ScheduleError(
                "weekday",
                f"A period is on weekday {period.weekday}, but the weekday must be "
                "0 (Monday) to 6 (Sunday).",
            )
        by_weekday.setdefault(period.weekday, []).append((period.start_minute, period.end_minute))
    for weekday, ranges in sorted(by_weekday.items()):
        _check_ranges(_WEEKDAY_NAMES[weekday], ranges)

    seen: set[date] = set()
    for day, special_ranges in schedule.special_days:
        if day in seen:
            raise ScheduleError(
                "special_days", f"{day.isoformat()} is listed more than once as a special day."
            )
        seen.add(day)
        _check_ranges(day.isoformat(), list(special_ranges))

    has_special_hours = any(ranges for _, ranges in schedule.special_days)
    if not schedule.always_open and not schedule.periods and not has_special_hours:
        raise ScheduleError(
            "periods",
            "The schedule has no working hours at all. Add working hours, or mark it as open 24/7.",
        )


# ----------------------------------------------------------------------- time zone work


@lru_cache(maxsize=128)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        # ValueError covers malformed keys such as "../etc" or an empty string.
        raise ScheduleError("timezone", f"'{name}' is not a known time zone.") from exc


def _resolve(zone: ZoneInfo, day: date, minute: int) -> datetime:
    """The UTC instant of local wall-clock `minute` on `day` (see the module docstring)."""
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
    first = wall.replace(tzinfo=zone)  # fold=0: the first occurrence if it repeats
    instant = first.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant
    # The wall time falls in a gap. fold=0 resolved it with the offset from before the
    # gap, which lands after the transition; fold=1 used the offset after it, which
    # lands before. The transition lies between the two: find it to the second (zone
    # transitions are on whole seconds). This is rare and its result is cached.
    low = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    high = instant
    after = high.astimezone(zone).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) // 2
        middle = middle.replace(microsecond=0)
        if middle.astimezone(zone).utcoffset() == after:
            high = middle
        else:
            low = middle
    return high


# --------------------------------------------------------------------- per-day intervals


@dataclass(frozen=True)
class _Plan:
    """A schedule reshaped for fast per-day look-ups; built once per schedule."""

    zone: ZoneInfo
    weekly: tuple[tuple[tuple[int, int], ...], ...]  # index = weekday
    special: dict[date, tuple[tuple[int, int], ...]]
    closed: frozenset[date]


@lru_cache(maxsize=256)
def _plan(schedule: Schedule) -> _Plan:
    # Validating here (once per schedule, thanks to the cache) means a bad schedule
    # fails with a clear ScheduleError rather than a confusing error deep inside.
    validate_schedule(schedule)
    weekly: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    for period in schedule.periods:
        weekly[period.weekday].append((period.start_minute, period.end_minute))
    return _Plan(
        zone=_zone(schedule.timezone),
        weekly=tuple(tuple(sorted(ranges)) for ranges in weekly),
        special={day: tuple(sorted(ranges)) for day, ranges in schedule.special_days},
        closed=schedule.closed_dates,
    )


@lru_cache(maxsize=16384)
def _day_intervals(schedule: Schedule, day: date) -> tuple[Interval, ...]:
    plan = _plan(schedule)
    if schedule.always_open:
        ranges: tuple[tuple[int, int], ...] = ((0, MINUTES_PER_DAY),)
    elif day in plan.special:
        ranges = plan.special[day]
    elif day in plan.closed:
        ranges = ()
    else:
        ranges = plan.weekly[day.weekday()]
    merged: list[Interval] = []
    for start_minute, end_minute in ranges:
        start = _resolve(plan.zone, day, start_minute)
        end = _resolve(plan.zone, day, end_minute)
        if end <= start:
            continue  # the whole period fell inside a spring-forward gap
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def working_intervals(schedule: Schedule, day: date) -> tuple[tuple[datetime, datetime], ...]:
    """The working intervals of one local date, as sorted, merged aware UTC pairs."""
    return _day_intervals(schedule, day)


def _require_aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime.")
    return value.astimezone(UTC)


def _intervals_after(schedule: Schedule, at: datetime) -> Iterator[Interval]:
    """Yield the working intervals that end after `at`, in order, day by day.

    It starts a day before `at`'s local date, as cheap insurance (one cached look-up)
    against a clock change at local midnight making an instant's local date differ
    from the day whose periods hold it. It raises ScheduleError after MAX_IDLE_DAYS
    days in a row without working time, so it can never loop forever.
    """
    plan = _plan(schedule)
    day = at.astimezone(plan.zone).date() - timedelta(days=1)
    idle_since = day
    while True:
        for start, end in _day_intervals(schedule, day):
            if end > at:
                idle_since = day + timedelta(days=1)
                yield (max(start, at), end)
        if (day - idle_since).days >= MAX_IDLE_DAYS:
            raise ScheduleError(
                "periods",
                f"The schedule has no working hours in the {MAX_IDLE_DAYS} days from "
                f"{idle_since.isoformat()}.",
            )
        day += timedelta(days=1)


# ------------------------------------------------------------------------ public queries


def is_working(schedule: Schedule, at: datetime) -> bool:
    """Whether the instant `at` is working time (periods are half-open: [start, end))."""
    instant = _require_aware(at, "at")
    plan = _plan(schedule)  # also rejects an invalid schedule
    if schedule.always_open:
        return True
    local_day = instant.astimezone(plan.zone).date()
    for offset in (-1, 0, 1):
        for start, end in _day_intervals(schedule, local_day + timedelta(days=offset)):
            if start <= instant < end:
                return True
    return False


def next_working_instant(schedule: Schedule, at: datetime) -> datetime:
    """`at` (in UTC) if it is working time, else the start of the next working period."""
    instant = _require_aware(at, "at")
    _plan(schedule)  # rejects an invalid schedule, even a 24/7 one
    if schedule.always_open:
        return instant
    start, _ = next(_intervals_after(schedule, instant))
    return start


def add_business_minutes(schedule: Schedule, start: datetime, minutes: float) -> datetime:
    """The instant at which `minutes` of working time have passed since `start`.

    Counting begins at the first working instant at or after `start`. A result that
    lands exactly on the end of a period is that end, not the start of the next
    period. Zero minutes returns `start` unchanged (in UTC), even outside working
    hours; negative minutes raise ValueError.
    """
    instant = _require_aware(start, "start")
    if not math.isfinite(minutes):
        raise ValueError("minutes must be a finite number.")
    if minutes < 0:
        raise ValueError("minutes must not be negative.")
    _plan(schedule)  # rejects an invalid schedule, even when there is nothing to add
    remaining = timedelta(minutes=minutes)
    if minutes == 0:
        return instant
    if schedule.always_open:
        return instant + remaining
    for period_start, period_end in _intervals_after(schedule, instant):
        available = period_end - period_start
        if available >= remaining:
            return period_start + remaining
        remaining -= available
    raise AssertionError("unreachable: _intervals_after never ends")  # pragma: no cover


def business_minutes_between(schedule: Schedule, start: datetime, end: datetime) -> float:
    """Working minutes in [start, end); 0.0 if `end` is not after `start`."""
    first = _require_aware(start, "start")
    last = _require_aware(end, "end")
    plan = _plan(schedule)
    if last <= first:
        return 0.0
    if schedule.always_open:
        return (last - first) / timedelta(minutes=1)
    total = timedelta(0)
    # Sum whole timedeltas (exact microseconds) and divide once, so that splitting a
    # span in two gives the same total as measuring it whole.
    day = first.astimezone(plan.zone).date() - timedelta(days=1)
    last_day = last.astimezone(plan.zone).date() + timedelta(days=1)
    while day <= last_day:
        for period_start, period_end in _day_intervals(schedule, day):
            overlap_start = max(period_start, first)
            overlap_end = min(period_end, last)
            if overlap_end > overlap_start:
                total += overlap_end - overlap_start
        day += timedelta(days=1)
    return total / timedelta(minutes=1)
