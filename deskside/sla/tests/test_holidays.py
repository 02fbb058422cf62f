"""Tests for the holiday sources: the `holidays` package and uploaded .ics files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from deskside.sla.holidays import holidays_from_ical, public_holidays

FIXTURES = Path(__file__).parent / "fixtures"

# Put between the lines of two events in one _calendar() call.
NEXT_EVENT = ("END:VEVENT", "BEGIN:VEVENT", "UID:next@deskside.test", "DTSTAMP:20260101T000000Z")


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# ------------------------------------------------------------------- public holidays


def test_public_holidays_for_england() -> None:
    found = public_holidays("GB", "ENG", [2026])
    assert (date(2026, 12, 25), "Christmas Day") in found
    assert (date(2026, 1, 1), "New Year's Day") in found
    assert found == sorted(found)
    assert all(day.year == 2026 for day, _ in found)


def test_public_holidays_over_several_years_and_without_a_region() -> None:
    found = public_holidays("us", None, range(2026, 2028))
    days = {day for day, _ in found}
    assert {date(2026, 7, 3), date(2027, 7, 5)} <= days  # Independence Day, observed
    assert {day.year for day in days} == {2026, 2027}
    assert len(days) == len(found)


def test_regions_differ() -> None:
    scotland = {day for day, _ in public_holidays("GB", "SCT", [2026])}
    england = {day for day, _ in public_holidays("GB", "ENG", [2026])}
    assert date(2026, 1, 2) in scotland - england


def test_no_years_gives_no_holidays() -> None:
    assert public_holidays("GB", "ENG", []) == []


@pytest.mark.parametrize("code", ["XX", "", "utils", "Great Britain"])
def test_unknown_country_is_refused(code: str) -> None:
    with pytest.raises(ValueError, match="no list of public holidays for the country code"):
        public_holidays(code, None, [2026])


def test_unknown_region_is_refused_and_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="no region with the code 'XYZ'") as caught:
        public_holidays("GB", "XYZ", [2026])
    assert "ENG" in str(caught.value)


# ---------------------------------------------------------------------------- iCalendar


def test_single_all_day_event() -> None:
    assert holidays_from_ical(fixture("single_all_day.ics")) == [
        (date(2026, 12, 25), "Christmas Day")
    ]


def test_mixed_calendar() -> None:
    found = holidays_from_ical(fixture("holidays_mixed.ics"))
    names = dict(found)
    assert found == sorted(found)
    assert len(names) == len(found)
    # A three-day range: DTEND (1 January) is exclusive.
    assert [day for day, name in found if name == "Year-end shutdown"] == [
        date(2026, 12, 29),
        date(2026, 12, 30),
        date(2026, 12, 31),
    ]
    assert date(2027, 1, 1) not in names
    # A timed event closes the date it starts on in its own zone (23:00 New York is
    # already the next day in UTC), and only that date.
    assert names[date(2026, 9, 18)] == "Company offsite"
    assert date(2026, 9, 19) not in names
    # No SUMMARY: a default name.
    assert names[date(2026, 7, 4)] == "Holiday"


def test_yearly_rules_are_expanded_for_three_years() -> None:
    found = holidays_from_ical(fixture("holidays_mixed.ics"))
    assert [day for day, name in found if name == "Thanksgiving"] == [
        date(2026, 11, 26),
        date(2027, 11, 25),
        date(2028, 11, 23),
        date(2029, 11, 22),
    ]
    # EXDATE removes 2027 from the yearly Founders' Day; nothing after three years.
    assert [day for day, name in found if name == "Founders' Day"] == [
        date(2026, 3, 1),
        date(2028, 3, 1),
        date(2029, 3, 1),
    ]


def test_other_recurrences_keep_only_their_first_date() -> None:
    found = holidays_from_ical(fixture("holidays_mixed.ics"))
    assert [day for day, name in found if name == "Weekly stand-up"] == [date(2026, 1, 5)]


def test_the_first_event_on_a_date_names_it() -> None:
    names = dict(holidays_from_ical(fixture("holidays_mixed.ics")))
    assert names[date(2026, 12, 30)] == "Year-end shutdown"


def test_yearly_rule_with_until_and_count() -> None:
    data = _calendar(
        "DTSTART;VALUE=DATE:20260101",
        "RRULE:FREQ=YEARLY;UNTIL=20271231T000000Z",
        "SUMMARY:New Year",
        *NEXT_EVENT,
        "DTSTART;VALUE=DATE:20260501",
        "RRULE:FREQ=YEARLY;COUNT=2",
        "SUMMARY:May Day",
    )
    found = holidays_from_ical(data)
    assert [day for day, name in found if name == "New Year"] == [
        date(2026, 1, 1),
        date(2027, 1, 1),
    ]
    assert [day for day, name in found if name == "May Day"] == [
        date(2026, 5, 1),
        date(2027, 5, 1),
    ]


def test_an_event_without_dtend_is_one_day() -> None:
    data = _calendar("DTSTART;VALUE=DATE:20260824", "SUMMARY:Summer bank holiday")
    assert holidays_from_ical(data) == [(date(2026, 8, 24), "Summer bank holiday")]


def test_duration_sets_the_length_of_an_all_day_event() -> None:
    data = _calendar("DTSTART;VALUE=DATE:20260406", "DURATION:P2D", "SUMMARY:Easter")
    assert [day for day, _ in holidays_from_ical(data)] == [date(2026, 4, 6), date(2026, 4, 7)]


def test_an_event_longer_than_a_year_is_refused() -> None:
    data = _calendar("DTSTART;VALUE=DATE:20200101", "DTEND;VALUE=DATE:20300101", "SUMMARY:Forever")
    with pytest.raises(ValueError, match="at most 366 days"):
        holidays_from_ical(data)


def test_a_calendar_without_events_has_no_holidays() -> None:
    data = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nEND:VCALENDAR\r\n"
    assert holidays_from_ical(data) == []


@pytest.mark.parametrize(
    "data",
    [
        b"this is not a calendar",
        b"\xff\xfe\x00\x01\x02binary junk",
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:cut off",
        b"BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261225\r\nEND:VEVENT\r\n",  # no calendar
        b"<html><body>Holidays</body></html>",
    ],
)
def test_garbage_is_refused(data: bytes) -> None:
    with pytest.raises(ValueError, match=r"not an iCalendar \(\.ics\) calendar"):
        holidays_from_ical(data)


@pytest.mark.parametrize("data", [b"", b"  \r\n"])
def test_an_empty_file_is_refused(data: bytes) -> None:
    with pytest.raises(ValueError, match="empty"):
        holidays_from_ical(data)


def _calendar(*lines: str) -> bytes:
    """A calendar holding one event made of `lines` (or more, split by NEXT_EVENT)."""
    body = "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Deskside tests//EN",
            "BEGIN:VEVENT",
            "UID:first@deskside.test",
            "DTSTAMP:20260101T000000Z",
            *lines,
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )
    return body.encode()
