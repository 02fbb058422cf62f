"""Holiday sources for SLA calendars: national public holidays and uploaded .ics files.

Both return a sorted list of ``(date, name)`` pairs with one entry per date, ready to
become a schedule's closed dates. Neither touches the network: the `holidays` package
ships its data, and an .ics file arrives as bytes.

Recurring events in an .ics file: only yearly rules (``FREQ=YEARLY``, which is how
holiday calendars repeat "Christmas Day" and "fourth Thursday in November") are
expanded, and only up to three years after the event's first date, so an endless rule
cannot produce an endless list. Other recurrences (weekly, monthly, daily) are not
holidays in any sense we can use, so only their first occurrence is taken.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import holidays as holidays_package
from dateutil.rrule import rrulestr
from icalendar import Calendar

if TYPE_CHECKING:
    from collections.abc import Iterable

    from icalendar.cal import Component

__all__ = ["holidays_from_ical", "public_holidays"]

# How far a yearly RRULE is expanded past the event's first date.
RECURRENCE_YEARS = 3

# A single event longer than this is a mistake (or an attack), not a holiday; expanding
# it would put thousands of closed dates in the database.
MAX_EVENT_DAYS = 366

DEFAULT_NAME = "Holiday"


def public_holidays(
    country: str, subdivision: str | None, years: Iterable[int]
) -> list[tuple[date, str]]:
    """The public holidays of a country (and optionally one of its regions).

    `country` is an ISO 3166-1 alpha-2 code such as "GB"; `subdivision` a code the
    `holidays` package knows for that country, such as "ENG". Raises ValueError with
    a plain message for a code it does not know.
    """
    code = country.strip().upper()
    supported = holidays_package.list_supported_countries()
    # Checked against the list first because the package looks the code up as a module
    # attribute, so a string such as "utils" would otherwise not fail cleanly.
    if code not in supported:
        raise ValueError(f"There is no list of public holidays for the country code '{country}'.")
    region = subdivision.strip() if subdivision else None
    try:
        calendar = holidays_package.country_holidays(
            code, subdiv=region or None, years=sorted(set(years))
        )
    except NotImplementedError as exc:
        raise ValueError(
            f"The country '{code}' has no region with the code '{subdivision}'. "
            f"Known regions: {', '.join(supported[code]) or 'none'}."
        ) from exc
    return sorted((day, str(name)) for day, name in calendar.items())


def holidays_from_ical(data: bytes) -> list[tuple[date, str]]:
    """The holidays in an uploaded iCalendar (.ics) file.

    All-day events close every date from DTSTART up to (not including) DTEND; timed
    events close the date they start on, in their own time zone. SUMMARY names the
    holiday ("Holiday" if it has none). The result is sorted by date with one entry per
    date: where events share a date, the first one in the file names it. Raises
    ValueError with a plain message for data that is not a calendar.
    """
    calendar = _parse(data)
    names: dict[date, str] = {}
    for event in calendar.walk("VEVENT"):
        name = str(event.get("SUMMARY", "")).strip() or DEFAULT_NAME
        for day in _event_dates(event):
            names.setdefault(day, name)
    return sorted(names.items())


def _parse(data: bytes) -> Calendar:
    not_a_calendar = "The file is not an iCalendar (.ics) calendar."
    if not data or not data.strip():
        raise ValueError("The file is empty.")
    try:
        parsed = Calendar.from_ical(data)
    except (ValueError, UnicodeDecodeError, IndexError, KeyError, TypeError) as exc:
        # icalendar reports malformed input through several exception types.
        raise ValueError(not_a_calendar) from exc
    if not isinstance(parsed, Calendar) or parsed.name != "VCALENDAR":
        raise ValueError(not_a_calendar)
    return parsed


def _as_date(value: Any) -> date | None:
    """The local date of an iCalendar DATE or DATE-TIME value, or None."""
    moment = getattr(value, "dt", value)
    if isinstance(moment, datetime):
        return moment.date()  # the date as written, in the event's own time zone
    if isinstance(moment, date):
        return moment
    return None


def _event_dates(event: Component) -> list[date]:
    start_value = event.get("DTSTART")
    if start_value is None:
        return []  # an event without a start is not something we can place
    start = _as_date(start_value)
    if start is None:
        return []
    all_day = not isinstance(start_value.dt, datetime)
    length = 1
    if all_day:
        end = _as_date(event.get("DTEND"))
        duration = getattr(event.get("DURATION"), "dt", None)
        if end is not None:
            length = (end - start).days  # DTEND is exclusive for all-day events
        elif isinstance(duration, timedelta):
            length = duration.days
        length = max(length, 1)  # a zero or negative range still marks its start date
        if length > MAX_EVENT_DAYS:
            raise ValueError(
                f"The event '{event.get('SUMMARY', DEFAULT_NAME)}' lasts {length} days; "
                f"a holiday can be at most {MAX_EVENT_DAYS} days long."
            )
    dates: list[date] = []
    for first_day in _occurrences(event, start):
        dates.extend(first_day + timedelta(days=offset) for offset in range(length))
    return dates


def _occurrences(event: Component, start: date) -> list[date]:
    """The first dates of each occurrence: `start`, plus yearly repeats (see module doc)."""
    rule = event.get("RRULE")
    if rule is None:
        return [start]
    rules = rule if isinstance(rule, list) else [rule]
    if not all(str(part.get("FREQ", [""])[0]).upper() == "YEARLY" for part in rules):
        return [start]
    horizon = _years_later(start, RECURRENCE_YEARS)
    excluded = _excluded_dates(event)
    anchor = datetime.combine(start, datetime.min.time())
    found: set[date] = {start}
    for part in rules:
        text = part.to_ical().decode()
        # UNTIL may carry a time zone while our anchor is naive; dateutil refuses to
        # mix the two, so drop UNTIL and rely on the horizon (plus COUNT, if given),
        # applying UNTIL's date ourselves.
        until = part.get("UNTIL")
        text = ";".join(p for p in text.split(";") if not p.upper().startswith("UNTIL="))
        limit = horizon
        if until:
            until_date = _as_date(until[0])
            if until_date is not None:
                limit = min(limit, until_date)
        try:
            recurrence = rrulestr(text, dtstart=anchor)
        except (ValueError, TypeError):
            return [start]  # a rule we cannot read: keep the event itself
        for moment in recurrence.between(anchor, datetime.combine(limit, anchor.time()), inc=True):
            found.add(moment.date())
    return sorted(found - excluded)


def _excluded_dates(event: Component) -> set[date]:
    value = event.get("EXDATE")
    if value is None:
        return set()
    groups = value if isinstance(value, list) else [value]
    excluded: set[date] = set()
    for group in groups:
        for item in getattr(group, "dts", []):
            day = _as_date(item)
            if day is not None:
                excluded.add(day)
    return excluded


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)
