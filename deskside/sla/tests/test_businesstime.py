"""Tests for the SLA business-time arithmetic: properties, an oracle, and hand-worked cases.

These are pure functions, so no database is needed. The oracle is `businesstimedelta`,
an independent implementation (pytz based) used only here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import businesstimedelta
import pytest
import pytz
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deskside.sla.businesstime import (
    TWENTY_FOUR_SEVEN,
    Schedule,
    ScheduleError,
    WorkingHours,
    add_business_minutes,
    business_minutes_between,
    is_working,
    next_working_instant,
    validate_schedule,
    working_intervals,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

ZONES = ["Europe/London", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
LONDON = "Europe/London"
NEW_YORK = "America/New_York"
WEEKDAYS = range(5)
NINE, FIVE = 9 * 60, 17 * 60


def local(
    zone: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """An aware datetime from local wall-clock parts (the first, if they happen twice)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo(zone))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def office(
    zone: str,
    ranges: Iterable[tuple[int, int]] = ((NINE, FIVE),),
    days: Iterable[int] = WEEKDAYS,
    closed: Iterable[date] = (),
    special: tuple[tuple[date, tuple[tuple[int, int], ...]], ...] = (),
) -> Schedule:
    ranges = tuple(ranges)
    return Schedule(
        timezone=zone,
        periods=tuple(WorkingHours(day, start, end) for day in days for start, end in ranges),
        closed_dates=frozenset(closed),
        special_days=special,
    )


def minutes(delta: timedelta) -> float:
    return delta / timedelta(minutes=1)


def interval_lengths(schedule: Schedule, day: date) -> list[float]:
    return [minutes(end - start) for start, end in working_intervals(schedule, day)]


# ------------------------------------------------------------------- generated schedules

# Boundary minutes that matter: midnight, the DST change hours of the zones above
# (01:00-03:00 in London, New York and Lord Howe), ordinary office hours.
INTERESTING_MINUTES = [0, 60, 90, 120, 150, 180, 540, 720, 780, 1020, 1439, 1440]
minute_values = st.one_of(st.sampled_from(INTERESTING_MINUTES), st.integers(0, 1440))


@st.composite
def day_ranges(draw: st.DrawFn, max_periods: int = 3) -> tuple[tuple[int, int], ...]:
    """Sorted, non-overlapping (start, end) ranges for one day."""
    count = draw(st.integers(0, max_periods))
    points = sorted(
        draw(st.lists(minute_values, min_size=2 * count, max_size=2 * count, unique=True))
    )
    return tuple(zip(points[::2], points[1::2], strict=True))


# Instants near the DST changes of the zones above, where mistakes would hide.
TRANSITIONS = [
    utc(2026, 3, 29, 1),  # London spring forward
    utc(2026, 10, 25, 1),  # London fall back
    utc(2026, 3, 8, 7),  # New York spring forward
    utc(2026, 11, 1, 6),  # New York fall back
    utc(2026, 4, 4, 15),  # Lord Howe back 30 minutes
    utc(2026, 10, 3, 15, 30),  # Lord Howe forward 30 minutes
]
starts = st.one_of(
    st.datetimes(
        min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
    ),
    st.builds(
        lambda base, offset: base + timedelta(seconds=offset),
        st.sampled_from(TRANSITIONS),
        st.integers(-3 * 86400, 3 * 86400),
    ),
)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Schedule, datetime]:
    """A valid schedule with a few holidays and special days near a start instant."""
    start = draw(starts)
    zone = draw(st.sampled_from(ZONES))
    periods = [
        WorkingHours(weekday, begin, end)
        for weekday in range(7)
        for begin, end in draw(day_ranges())
    ]
    if not periods:
        periods = [WorkingHours(0, NINE, FIVE)]
    near = st.builds(lambda offset: start.date() + timedelta(days=offset), st.integers(-2, 20))
    closed = draw(st.frozensets(near, max_size=4))
    special_dates = draw(st.lists(near, max_size=2, unique=True))
    special = tuple((day, draw(day_ranges(max_periods=2))) for day in special_dates)
    schedule = Schedule(zone, tuple(periods), closed, special)
    validate_schedule(schedule)
    return schedule, start


def weekly_minutes(schedule: Schedule) -> int:
    return sum(period.end_minute - period.start_minute for period in schedule.periods)


def is_period_end(schedule: Schedule, at: datetime) -> bool:
    day = at.astimezone(ZoneInfo(schedule.timezone)).date()
    return any(
        end == at
        for offset in (-1, 0, 1)
        for _, end in working_intervals(schedule, day + timedelta(days=offset))
    )


PROPERTY_SETTINGS = settings(
    deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(case=cases(), fraction=st.floats(0, 4, allow_nan=False))
def test_add_then_measure_gives_back_the_minutes(
    case: tuple[Schedule, datetime], fraction: float
) -> None:
    schedule, start = case
    # Up to about four weeks of the schedule's working time, so that even a schedule
    # with one short period a week stays quick.
    amount = fraction * weekly_minutes(schedule)
    result = add_business_minutes(schedule, start, amount)
    assert result >= start
    assert result.tzinfo is UTC
    assert business_minutes_between(schedule, start, result) == pytest.approx(amount, abs=1e-6)


@PROPERTY_SETTINGS
@given(case=cases(), fractions=st.lists(st.floats(0, 3, allow_nan=False), min_size=2, max_size=2))
def test_add_is_monotonic(case: tuple[Schedule, datetime], fractions: list[float]) -> None:
    schedule, start = case
    small, large = sorted(fraction * weekly_minutes(schedule) for fraction in fractions)
    assert add_business_minutes(schedule, start, small) <= add_business_minutes(
        schedule, start, large
    )


@PROPERTY_SETTINGS
@given(
    case=cases(),
    gaps=st.lists(st.integers(0, 21 * 86400), min_size=2, max_size=2),
)
def test_between_is_additive(case: tuple[Schedule, datetime], gaps: list[int]) -> None:
    schedule, first = case
    second = first + timedelta(seconds=gaps[0])
    third = second + timedelta(seconds=gaps[1])
    whole = business_minutes_between(schedule, first, third)
    parts = business_minutes_between(schedule, first, second) + business_minutes_between(
        schedule, second, third
    )
    assert parts == pytest.approx(whole, abs=1e-9)
    assert business_minutes_between(schedule, third, first) == 0.0
    assert whole <= minutes(third - first) + 1e-9


@PROPERTY_SETTINGS
@given(case=cases(), fraction=st.floats(0, 2, allow_nan=False, exclude_min=True))
def test_add_lands_on_working_time_or_a_period_end(
    case: tuple[Schedule, datetime], fraction: float
) -> None:
    schedule, start = case
    result = add_business_minutes(schedule, start, fraction * weekly_minutes(schedule))
    assert is_working(schedule, result) or is_period_end(schedule, result)


@PROPERTY_SETTINGS
@given(case=cases())
def test_next_working_instant_is_working_and_skips_no_work(case: tuple[Schedule, datetime]) -> None:
    schedule, start = case
    found = next_working_instant(schedule, start)
    assert found >= start
    assert is_working(schedule, found)
    assert business_minutes_between(schedule, start, found) == 0.0
    assert (found == start) == is_working(schedule, start)
    assert add_business_minutes(schedule, start, 0) == start


@settings(deadline=None, max_examples=100)
@given(
    start=starts,
    amount=st.floats(0, 10_000_000, allow_nan=False),
    zone=st.sampled_from(ZONES),
)
def test_always_open_is_plain_elapsed_time(start: datetime, amount: float, zone: str) -> None:
    schedule = Schedule(timezone=zone, always_open=True)
    for candidate in (schedule, TWENTY_FOUR_SEVEN):
        result = add_business_minutes(candidate, start, amount)
        assert result == start + timedelta(minutes=amount)
        assert business_minutes_between(candidate, start, result) == pytest.approx(
            amount, rel=1e-12, abs=1e-6
        )
        assert is_working(candidate, start)
        assert next_working_instant(candidate, start) == start


def brute_force_is_working(schedule: Schedule, at: datetime) -> bool:
    """Is `at` working time, read straight off the wall clock (only valid without DST)."""
    wall = at.astimezone(ZoneInfo(schedule.timezone))
    minute = wall.hour * 60 + wall.minute
    specials = dict(schedule.special_days)
    if wall.date() in specials:
        ranges = specials[wall.date()]
    elif wall.date() in schedule.closed_dates:
        ranges = ()
    else:
        ranges = tuple(
            (period.start_minute, period.end_minute)
            for period in schedule.periods
            if period.weekday == wall.weekday()
        )
    return any(start <= minute < end for start, end in ranges)


@settings(deadline=None, max_examples=40)
@given(case=cases(), zone=st.sampled_from(["UTC", "Asia/Kolkata"]))
def test_matches_a_minute_by_minute_count_where_there_is_no_dst(
    case: tuple[Schedule, datetime], zone: str
) -> None:
    # In zones without DST every wall-clock minute is one real minute, so counting
    # minutes one at a time is an independent check of the whole pipeline.
    generated, start = case
    schedule = Schedule(zone, generated.periods, generated.closed_dates, generated.special_days)
    start = start.replace(second=0, microsecond=0)
    window = 3 * 1440
    working = [
        brute_force_is_working(schedule, start + timedelta(minutes=step)) for step in range(window)
    ]
    assert business_minutes_between(
        schedule, start, start + timedelta(minutes=window)
    ) == pytest.approx(sum(working))
    for step in range(0, window, 7):
        at = start + timedelta(minutes=step)
        assert is_working(schedule, at) == working[step]


# --------------------------------------------------------------------- the oracle cases


ORACLE_SENTINEL_HOLIDAY = date(2028, 1, 1)


def oracle_rule(
    zone: str,
    ranges: Iterable[tuple[time, time]] = ((time(9), time(17)),),
    days: Iterable[int] = WEEKDAYS,
    closed: Iterable[date] = (),
) -> businesstimedelta.Rules:
    tz = pytz.timezone(zone)
    rules = [
        businesstimedelta.WorkDayRule(
            start_time=start, end_time=end, working_days=list(days), tz=tz
        )
        for start, end in ranges
    ]
    # The oracle crashes when it finds no holiday ahead of an instant (its look-ahead
    # returns None), so it always gets one far-off holiday: a Saturday, outside every
    # range these tests reach.
    holidays = frozenset(closed) | {ORACLE_SENTINEL_HOLIDAY}
    rules.append(businesstimedelta.HolidayRule(holidays, tz=tz))
    return businesstimedelta.Rules(rules)


# The oracle adds timedeltas to the datetimes it is given, and Python adds to an aware
# datetime in wall-clock time, so it must be given UTC datetimes to measure real time.


def oracle_add(rule: businesstimedelta.Rules, start: datetime, amount: float) -> datetime:
    delta = businesstimedelta.BusinessTimeDelta(rule, seconds=amount * 60)
    result: datetime = delta + start.astimezone(UTC)
    return result.astimezone(UTC)


def oracle_between(rule: businesstimedelta.Rules, start: datetime, end: datetime) -> float:
    return minutes(rule.difference(start.astimezone(UTC), end.astimezone(UTC)).timedelta)


YEAR_END_CLOSED = (date(2026, 12, 25), date(2026, 12, 26), date(2027, 1, 1))
YEAR_END_STARTS = [
    (2026, 12, 23, 15, 0),
    (2026, 12, 24, 16, 30),
    (2026, 12, 24, 17, 0),  # exactly at the end of the day
    (2026, 12, 25, 10, 0),  # inside a holiday
    (2026, 12, 27, 20, 0),  # Sunday evening
    (2026, 12, 31, 16, 59),
    (2027, 1, 1, 9, 0),
]
AMOUNTS = [1, 30, 60, 479, 480, 481, 2400, 5 * 480 + 7]


@pytest.mark.parametrize("zone", [LONDON, NEW_YORK])
@pytest.mark.parametrize("parts", YEAR_END_STARTS)
def test_year_end_agrees_with_the_oracle(zone: str, parts: tuple[int, ...]) -> None:
    schedule = office(zone, closed=YEAR_END_CLOSED)
    rule = oracle_rule(zone, closed=YEAR_END_CLOSED)
    start = local(zone, *parts)
    for amount in AMOUNTS:
        ours = add_business_minutes(schedule, start, amount)
        assert ours == oracle_add(rule, start, amount), amount
        assert business_minutes_between(schedule, start, ours) == pytest.approx(amount)
    for hours in (1, 7, 30, 100, 400):
        end = start.astimezone(UTC) + timedelta(hours=hours)
        assert business_minutes_between(schedule, start, end) == pytest.approx(
            oracle_between(rule, start, end)
        ), hours


# Every day, so the Sunday changeover is a working day: a night shift that spans the
# change (where the real length differs) and ordinary office hours (where it does not).
DST_RANGES = ((0, 4 * 60), (NINE, FIVE))
DST_ORACLE_RANGES = ((time(0), time(4)), (time(9), time(17)))
DST_DAYS = {
    LONDON: [date(2026, 3, 29), date(2026, 10, 25)],
    NEW_YORK: [date(2026, 3, 8), date(2026, 11, 1)],
}


@pytest.mark.parametrize(
    ("zone", "day"), [(zone, day) for zone, days in DST_DAYS.items() for day in days]
)
def test_dst_changes_agree_with_the_oracle(zone: str, day: date) -> None:
    schedule = office(zone, DST_RANGES, days=range(7))
    rule = oracle_rule(zone, DST_ORACLE_RANGES, days=range(7))
    eve = day - timedelta(days=1)
    for start in (
        local(zone, eve.year, eve.month, eve.day, 20),
        local(zone, day.year, day.month, day.day, 0, 30),
        local(zone, day.year, day.month, day.day, 3, 30),
        local(zone, day.year, day.month, day.day, 12),
    ):
        for amount in (10, 90, 150, 179, 180, 181, 299, 300, 301, 600, 1200, 3000):
            ours = add_business_minutes(schedule, start, amount)
            assert ours == oracle_add(rule, start, amount), (start, amount)
        for hours in (2, 5, 13, 30, 80):
            end = start.astimezone(UTC) + timedelta(hours=hours)
            assert business_minutes_between(schedule, start, end) == pytest.approx(
                oracle_between(rule, start, end)
            ), (start, hours)


def test_dst_night_shift_lasts_real_hours() -> None:
    schedule = office(LONDON, ((0, 240),), days=[6])
    assert interval_lengths(schedule, date(2026, 3, 22)) == [240]  # an ordinary Sunday
    assert interval_lengths(schedule, date(2026, 3, 29)) == [180]  # clocks go forward
    assert interval_lengths(schedule, date(2026, 10, 25)) == [300]  # clocks go back
    # Across the repeated hour the clock keeps running: 4 real hours after midnight it
    # is only 03:00 on the wall, and the fifth hour ends the shift at 04:00.
    start = local(LONDON, 2026, 10, 25, 0, 0)
    assert add_business_minutes(schedule, start, 240) == local(LONDON, 2026, 10, 25, 3, 0)
    assert add_business_minutes(schedule, start, 300) == local(LONDON, 2026, 10, 25, 4, 0)


@pytest.mark.parametrize(
    ("zone", "day"), [(zone, day) for zone, days in DST_DAYS.items() for day in days]
)
def test_office_hours_on_a_dst_day_are_eight_hours(zone: str, day: date) -> None:
    assert interval_lengths(office(zone, days=range(7)), day) == [480]


# The oracle (pytz's localize with is_dst=False) resolves a wall-clock time inside the
# spring gap with the winter offset, and a repeated time to its *second* occurrence. We
# deliberately differ (the first instant after the gap; the first occurrence), so these
# edges are checked against hand-computed instants instead.


def test_period_starting_inside_the_spring_gap_starts_when_the_gap_ends() -> None:
    # London skips 01:00-02:00 on 29 March 2026; 01:30 becomes 02:00 BST (01:00 UTC).
    schedule = office(LONDON, ((90, 180),), days=[6])
    assert working_intervals(schedule, date(2026, 3, 29)) == (
        (utc(2026, 3, 29, 1), utc(2026, 3, 29, 2)),
    )
    rule = oracle_rule(LONDON, ((time(1, 30), time(3)),), days=[6])
    start = local(LONDON, 2026, 3, 29, 0, 0)
    assert oracle_add(rule, start, 30) == utc(2026, 3, 29, 2)  # the oracle: 01:30 GMT
    assert add_business_minutes(schedule, start, 30) == utc(2026, 3, 29, 1, 30)


def test_period_inside_the_gap_has_no_working_time_that_day() -> None:
    schedule = office(LONDON, ((70, 110), (NINE, FIVE)), days=[6])
    assert interval_lengths(schedule, date(2026, 3, 29)) == [480]
    assert interval_lengths(schedule, date(2026, 3, 22)) == [40, 480]


def test_repeated_times_use_their_first_occurrence() -> None:
    # London repeats 01:00-02:00 on 25 October 2026. A period from 01:30 starts at the
    # first 01:30 (00:30 UTC) and so runs 2.5 real hours to 03:00 GMT.
    schedule = office(LONDON, ((90, 180),), days=[6])
    assert working_intervals(schedule, date(2026, 10, 25)) == (
        (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 3)),
    )
    # A period that ends at 01:30 ends at the first 01:30 too, so back-to-back periods
    # stay back-to-back and together cover the whole night.
    split = office(LONDON, ((0, 90), (90, 240)), days=[6])
    assert working_intervals(split, date(2026, 10, 25)) == (
        (utc(2026, 10, 24, 23), utc(2026, 10, 25, 4)),
    )
    first_part = office(LONDON, ((0, 90),), days=[6])
    assert interval_lengths(first_part, date(2026, 10, 25)) == [90]


def test_lord_howe_half_hour_changes() -> None:
    # Lord Howe goes 02:00 -> 02:30 on 4 October 2026 and repeats 01:30-02:00 on
    # 5 April 2026.
    schedule = office("Australia/Lord_Howe", ((60, 180),), days=[6])
    assert interval_lengths(schedule, date(2026, 10, 4)) == [90]
    assert interval_lengths(schedule, date(2026, 4, 5)) == [150]
    assert interval_lengths(schedule, date(2026, 4, 12)) == [120]


@pytest.mark.parametrize(
    ("zone", "first", "last"),
    [
        ("America/Santiago", date(2024, 4, 4), date(2024, 4, 9)),  # back at 24:00
        ("America/Santiago", date(2024, 9, 5), date(2024, 9, 10)),  # forward at 00:00
        ("America/Havana", date(2024, 10, 31), date(2024, 11, 5)),  # repeats 00:00-01:00
        ("Asia/Beirut", date(2024, 10, 24), date(2024, 10, 29)),
    ],
)
def test_days_tile_when_clocks_change_at_midnight(zone: str, first: date, last: date) -> None:
    schedule = office(zone, ((0, 1440),), days=range(7))
    day = first
    while day < last:
        (today,) = working_intervals(schedule, day)
        (tomorrow,) = working_intervals(schedule, day + timedelta(days=1))
        assert today[1] == tomorrow[0]
        day += timedelta(days=1)
    start = local(zone, first.year, first.month, first.day, 12)
    end = local(zone, last.year, last.month, last.day, 12)
    # Subtracting two datetimes in the same zone gives wall-clock time; UTC gives real.
    assert business_minutes_between(schedule, start, end) == minutes(
        end.astimezone(UTC) - start.astimezone(UTC)
    )


# ------------------------------------------------------------------- hand-worked cases

LUNCH = ((NINE, 12 * 60), (13 * 60, FIVE))


def test_lunch_break_is_not_working_time() -> None:
    schedule = office(LONDON, LUNCH)
    monday = (2026, 6, 1)
    start = local(LONDON, *monday, 11, 30)
    assert add_business_minutes(schedule, start, 30) == local(LONDON, *monday, 12, 0)
    assert add_business_minutes(schedule, start, 60) == local(LONDON, *monday, 13, 30)
    assert add_business_minutes(schedule, start, 7 * 60) == local(LONDON, 2026, 6, 2, 11, 30)
    assert not is_working(schedule, local(LONDON, *monday, 12, 30))
    assert next_working_instant(schedule, local(LONDON, *monday, 12, 30)) == local(
        LONDON, *monday, 13, 0
    )
    day_end = local(LONDON, *monday, 17, 0)
    assert business_minutes_between(schedule, local(LONDON, *monday, 8, 0), day_end) == 420
    # The same case through the oracle, with lunch as time off.
    tz = pytz.timezone(LONDON)
    rule = businesstimedelta.Rules(
        [
            businesstimedelta.WorkDayRule(time(9), time(17), list(WEEKDAYS), tz=tz),
            businesstimedelta.LunchTimeRule(time(12), time(13), list(WEEKDAYS), tz=tz),
            businesstimedelta.HolidayRule(frozenset({ORACLE_SENTINEL_HOLIDAY}), tz=tz),
        ]
    )
    for amount in (30, 60, 61, 420, 421, 1000):
        assert add_business_minutes(schedule, start, amount) == oracle_add(rule, start, amount)


def test_period_ending_at_midnight() -> None:
    late = Schedule("UTC", (WorkingHours(0, 20 * 60, 1440), WorkingHours(1, 0, 120)))
    monday_night = utc(2026, 6, 1, 23, 30)
    # Monday's evening and Tuesday's early hours join up across midnight.
    assert add_business_minutes(late, monday_night, 60) == utc(2026, 6, 2, 0, 30)
    assert working_intervals(late, date(2026, 6, 1)) == ((utc(2026, 6, 1, 20), utc(2026, 6, 2)),)
    evening = Schedule("UTC", (WorkingHours(0, 20 * 60, 1440),))
    assert add_business_minutes(evening, utc(2026, 6, 1, 23), 60) == utc(2026, 6, 2)
    assert add_business_minutes(evening, utc(2026, 6, 1, 23), 61) == utc(2026, 6, 8, 20, 1)
    # The oracle wrongly skips to next week when it starts *inside* a period that ends at
    # midnight (it compares the time of day with the start time), so start before it.
    rule = oracle_rule("UTC", ((time(20), time(0)),), days=[0])
    for amount in (30, 60, 240, 241, 500):
        start = utc(2026, 6, 1, 19)
        assert add_business_minutes(evening, start, amount) == oracle_add(rule, start, amount)


def test_start_on_saturday_evening_waits_for_monday() -> None:
    schedule = office(LONDON)
    saturday = local(LONDON, 2026, 6, 6, 19, 0)
    assert add_business_minutes(schedule, saturday, 30) == local(LONDON, 2026, 6, 8, 9, 30)
    assert next_working_instant(schedule, saturday) == local(LONDON, 2026, 6, 8, 9, 0)
    assert business_minutes_between(schedule, saturday, local(LONDON, 2026, 6, 8, 9, 0)) == 0


def test_start_inside_a_holiday() -> None:
    schedule = office(LONDON, closed=YEAR_END_CLOSED)
    christmas = local(LONDON, 2026, 12, 25, 11, 0)
    assert not is_working(schedule, christmas)
    assert add_business_minutes(schedule, christmas, 60) == local(LONDON, 2026, 12, 28, 10, 0)
    assert working_intervals(schedule, date(2026, 12, 25)) == ()


def test_special_short_day() -> None:
    schedule = office(
        LONDON, closed=YEAR_END_CLOSED, special=((date(2026, 12, 24), ((600, 840),)),)
    )
    eve = local(LONDON, 2026, 12, 24, 9, 0)
    assert not is_working(schedule, eve)
    assert add_business_minutes(schedule, eve, 240) == local(LONDON, 2026, 12, 24, 14, 0)
    assert add_business_minutes(schedule, eve, 241) == local(LONDON, 2026, 12, 28, 9, 1)
    assert business_minutes_between(schedule, eve, local(LONDON, 2026, 12, 29)) == 240 + 480


def test_special_day_overrides_a_holiday_and_can_close_a_day() -> None:
    new_years_eve = date(2026, 12, 31)
    schedule = office(
        LONDON,
        closed=[new_years_eve],
        special=((new_years_eve, ((NINE, 12 * 60),)), (date(2026, 12, 30), ())),
    )
    assert interval_lengths(schedule, new_years_eve) == [180]
    assert working_intervals(schedule, date(2026, 12, 30)) == ()
    start = local(LONDON, 2026, 12, 30, 10, 0)
    assert add_business_minutes(schedule, start, 10) == local(LONDON, 2026, 12, 31, 9, 10)


def test_landing_exactly_at_the_end_of_a_period() -> None:
    schedule = office(LONDON)
    monday = (2026, 6, 1)
    end_of_day = local(LONDON, *monday, 17, 0)
    assert add_business_minutes(schedule, local(LONDON, *monday, 16, 0), 60) == end_of_day
    assert add_business_minutes(schedule, local(LONDON, *monday, 9, 0), 480) == end_of_day
    assert not is_working(schedule, end_of_day)
    assert next_working_instant(schedule, end_of_day) == local(LONDON, 2026, 6, 2, 9, 0)
    assert add_business_minutes(schedule, end_of_day, 1) == local(LONDON, 2026, 6, 2, 9, 1)


def test_twenty_four_seven() -> None:
    validate_schedule(TWENTY_FOUR_SEVEN)
    start = local(LONDON, 2026, 10, 24, 22, 0)
    assert add_business_minutes(TWENTY_FOUR_SEVEN, start, 600) == utc(2026, 10, 25, 7)
    assert business_minutes_between(TWENTY_FOUR_SEVEN, start, utc(2026, 10, 26)) == 27 * 60
    assert is_working(TWENTY_FOUR_SEVEN, start)


def test_zero_minutes_returns_the_start_even_outside_working_hours() -> None:
    saturday = local(LONDON, 2026, 6, 6, 19, 0)
    result = add_business_minutes(office(LONDON), saturday, 0)
    assert result == saturday
    assert result.tzinfo is UTC


def test_fractional_minutes() -> None:
    start = local(LONDON, 2026, 6, 1, 9, 0)
    assert add_business_minutes(office(LONDON), start, 1.5) == local(LONDON, 2026, 6, 1, 9, 1, 30)


def test_results_are_in_utc_whatever_the_input_zone() -> None:
    start = datetime(2026, 6, 1, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    result = add_business_minutes(office("Asia/Tokyo"), start, 60)
    assert result.tzinfo is UTC
    assert result == utc(2026, 6, 1, 1)


@pytest.mark.parametrize("bad", [-1, -0.001, float("nan"), float("inf")])
def test_add_rejects_bad_minutes(bad: float) -> None:
    with pytest.raises(ValueError, match="minutes"):
        add_business_minutes(office(LONDON), utc(2026, 6, 1), bad)


def test_naive_datetimes_are_rejected() -> None:
    naive = datetime(2026, 6, 1, 9)
    schedule = office(LONDON)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_minutes(schedule, naive, 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        business_minutes_between(schedule, naive, utc(2026, 6, 2))
    with pytest.raises(ValueError, match="timezone-aware"):
        is_working(schedule, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        next_working_instant(schedule, naive)


def test_between_is_zero_for_an_empty_or_reversed_span() -> None:
    schedule = office(LONDON)
    noon = local(LONDON, 2026, 6, 1, 12)
    assert business_minutes_between(schedule, noon, noon) == 0.0
    assert business_minutes_between(schedule, noon, noon - timedelta(hours=1)) == 0.0


def test_gives_up_when_working_time_runs_out() -> None:
    # Working time only on a special day in the past: the search must stop, not spin.
    past_only = Schedule("UTC", special_days=((date(2020, 1, 6), ((NINE, FIVE),)),))
    with pytest.raises(ScheduleError) as caught:
        add_business_minutes(past_only, utc(2026, 1, 1), 10)
    assert caught.value.field == "periods"
    with pytest.raises(ScheduleError):
        next_working_instant(past_only, utc(2026, 1, 1))
    # Every Monday closed for four years on a Monday-only schedule.
    mondays = frozenset(date(2026, 1, 5) + timedelta(weeks=week) for week in range(4 * 53))
    closed_mondays = Schedule("UTC", (WorkingHours(0, NINE, FIVE),), mondays)
    with pytest.raises(ScheduleError):
        add_business_minutes(closed_mondays, utc(2026, 1, 1), 10)


def test_invalid_schedules_are_refused_by_the_arithmetic_too() -> None:
    with pytest.raises(ScheduleError) as caught:
        add_business_minutes(office("Mars/Olympus_Mons"), utc(2026, 1, 1), 10)
    assert caught.value.field == "timezone"


def test_a_long_run_of_working_days_is_exact() -> None:
    schedule = office(NEW_YORK, closed=YEAR_END_CLOSED)
    start = local(NEW_YORK, 2026, 1, 5, 9)
    # 250 working days of 8 hours; the holidays on weekdays push the end back.
    result = add_business_minutes(schedule, start, 250 * 480)
    assert business_minutes_between(schedule, start, result) == 250 * 480
    assert result == oracle_add(oracle_rule(NEW_YORK, closed=YEAR_END_CLOSED), start, 250 * 480)


# ------------------------------------------------------------------------- validation


def _special(*ranges: tuple[int, int]) -> tuple[tuple[date, tuple[tuple[int, int], ...]], ...]:
    return ((date(2026, 12, 24), tuple(ranges)),)


@pytest.mark.parametrize(
    ("schedule", "field", "words"),
    [
        (office("Not/AZone"), "timezone", "not a known time zone"),
        (office(""), "timezone", "not a known time zone"),
        (Schedule("UTC", (WorkingHours(7, NINE, FIVE),)), "weekday", "0 (Monday) to 6 (Sunday)"),
        (Schedule("UTC", (WorkingHours(-1, NINE, FIVE),)), "weekday", "weekday -1"),
        (Schedule("UTC", (WorkingHours(0, -5, FIVE),)), "start_minute", "Monday"),
        (Schedule("UTC", (WorkingHours(0, 1440, 1440),)), "start_minute", "between 00:00"),
        (Schedule("UTC", (WorkingHours(0, NINE, 1441),)), "end_minute", "between 00:01"),
        (Schedule("UTC", (WorkingHours(0, NINE, 0),)), "end_minute", "between 00:01"),
        (Schedule("UTC", (WorkingHours(2, FIVE, NINE),)), "end_minute", "not later than"),
        (Schedule("UTC", (WorkingHours(2, NINE, NINE),)), "end_minute", "Wednesday"),
        (office("UTC", ((NINE, 13 * 60), (12 * 60, FIVE))), "periods", "overlap"),
        (office("UTC", special=_special((600, 700), (650, 800))), "periods", "2026-12-24"),
        (office("UTC", special=_special((700, 600))), "end_minute", "2026-12-24"),
        (office("UTC", special=_special((0, 1500))), "end_minute", "2026-12-24"),
        (
            office("UTC", special=((date(2026, 1, 2), ()), (date(2026, 1, 2), ((0, 60),)))),
            "special_days",
            "more than once",
        ),
        (Schedule("UTC"), "periods", "no working hours"),
        (Schedule("UTC", special_days=_special()), "periods", "no working hours"),
    ],
)
def test_validate_schedule_refuses_bad_input(schedule: Schedule, field: str, words: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        validate_schedule(schedule)
    assert caught.value.field == field
    assert words in caught.value.message
    assert str(caught.value) == caught.value.message
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    "schedule",
    [
        office(LONDON),
        office(LONDON, LUNCH),
        office("UTC", ((0, 720), (720, 1440)), days=range(7)),  # back-to-back is fine
        Schedule("UTC", special_days=_special((600, 840))),  # only a special day
        Schedule("Asia/Kolkata", always_open=True),
        TWENTY_FOUR_SEVEN,
    ],
)
def test_validate_schedule_accepts_good_input(schedule: Schedule) -> None:
    validate_schedule(schedule)
