"""SLA times in plain words, in the desk's time zone (London here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pytest_django.fixtures import Settings

from deskside.sla.models import BusinessCalendar, SlaPolicy, TicketSla
from deskside.sla.phrasing import due_label, expected_answer_phrase, when_phrase
from deskside.tickets.models import StatusKind, Ticket

LONDON = ZoneInfo("Europe/London")


def london(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """2026; 7 December 2026 is a Monday."""
    return datetime(2026, month, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


@pytest.fixture(autouse=True)
def _desk_in_london(settings: Settings) -> None:
    settings.TIME_ZONE = "Europe/London"


NOW = london(12, 7, 10)  # Monday 10:00


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (london(12, 7, 14), "today at 14:00"),
        (london(12, 8, 9, 30), "tomorrow at 09:30"),
        (london(12, 10, 9, 30), "on Thursday at 09:30"),
        (london(12, 13, 9, 30), "on Sunday at 09:30"),
        (london(12, 14, 9, 30), "on 14 December at 09:30"),
        (london(1, 5, 9, 30).replace(year=2027), "on 5 January 2027 at 09:30"),
        (london(12, 6, 16), "yesterday at 16:00"),
    ],
)
def test_when_phrase(moment: datetime, expected: str) -> None:
    assert when_phrase(moment, NOW) == expected


def test_when_phrase_uses_the_desk_zone_not_utc() -> None:
    # 23:30 UTC in summer is 00:30 the next day in London.
    now = datetime(2026, 7, 1, 12, tzinfo=UTC)
    assert when_phrase(datetime(2026, 7, 1, 23, 30, tzinfo=UTC), now) == "tomorrow at 00:30"


@pytest.mark.parametrize(
    ("due", "text", "state"),
    [
        (NOW + timedelta(minutes=25), "due in 25 min", "soon"),
        (NOW + timedelta(hours=3), "due in 3 h", "ok"),
        (NOW + timedelta(days=3), "due in 3 days", "ok"),
        (NOW - timedelta(hours=2), "overdue by 2 h", "overdue"),
        (NOW, "overdue by 1 min", "overdue"),
    ],
)
def test_due_label_says_it_in_words(due: datetime, text: str, state: str) -> None:
    label = due_label(due, NOW)
    assert label is not None
    assert (label.text, label.state) == (text, state)


def test_due_label_paused_none_and_stopped() -> None:
    paused = due_label(None, NOW, paused=True)
    assert paused is not None
    assert (paused.text, paused.state) == ("paused", "paused")
    assert due_label(None, NOW) is None
    assert due_label(NOW, NOW, stopped=True) is None


def _ticket(
    *,
    first_due: datetime | None = None,
    next_due: datetime | None = None,
    answered: bool = False,
    paused: bool = False,
    kind: str = StatusKind.OPEN,
    with_policy: bool = True,
) -> Ticket:
    """Unsaved objects: the phrase reads only what is loaded."""
    ticket = Ticket(status_kind=kind, first_response_at=NOW if answered else None)
    policy = SlaPolicy(pk=1, name="Standard", calendar=BusinessCalendar(name="Office"))
    sla = TicketSla(
        ticket=ticket,
        policy=policy if with_policy else None,
        first_response_due=first_due,
        next_update_due=next_due,
        next_update_started_at=NOW if next_due else None,
        paused_since=NOW if paused else None,
    )
    Ticket.sla.related.set_cached_value(ticket, sla)
    return ticket


def test_first_answer_promise() -> None:
    ticket = _ticket(first_due=london(12, 8, 11, 30))
    assert expected_answer_phrase(ticket, NOW) == (
        "You can expect a first answer by 11:30 tomorrow."
    )
    ticket = _ticket(first_due=london(12, 7, 14))
    assert expected_answer_phrase(ticket, NOW) == "You can expect a first answer by 14:00 today."
    ticket = _ticket(first_due=london(12, 11, 9, 30))
    assert expected_answer_phrase(ticket, NOW) == (
        "You can expect a first answer by 09:30 on Friday."
    )


def test_next_update_promise_once_answered() -> None:
    ticket = _ticket(first_due=london(12, 7, 11), next_due=london(12, 7, 15), answered=True)
    assert expected_answer_phrase(ticket, NOW) == ("You can expect our next update by 15:00 today.")


def test_no_promise_when_paused_stopped_unanswerable_or_without_sla() -> None:
    assert expected_answer_phrase(_ticket(answered=True), NOW) is None
    paused = _ticket(next_due=london(12, 7, 15), answered=True, paused=True)
    assert expected_answer_phrase(paused, NOW) is None
    done = _ticket(first_due=london(12, 7, 11), kind=StatusKind.RESOLVED)
    assert expected_answer_phrase(done, NOW) is None
    assert (
        expected_answer_phrase(_ticket(first_due=london(12, 7, 11), with_policy=False), NOW) is None
    )


def test_a_missed_promise_is_owned_up_to() -> None:
    late = expected_answer_phrase(_ticket(first_due=london(12, 7, 9)), NOW)
    assert late is not None
    assert "running late" in late
