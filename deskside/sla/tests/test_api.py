"""The SLA over the API: each ticket's clocks, and calendars and policies for administrators."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, time
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deskside.api.testing import assert_error, token_client
from deskside.sla.models import BusinessCalendar, SlaPolicy, WorkingPeriod
from deskside.sla.services import sla_sweep
from deskside.testing import Personas
from deskside.tickets import services
from deskside.tickets.models import Channel, Ticket

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
Commit = Callable[..., AbstractContextManager[Any]]


def london(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    current = [london(7, 10)]
    monkeypatch.setattr(timezone, "now", lambda: current[0])
    return current


@pytest.fixture
def office(db: None) -> BusinessCalendar:
    calendar = BusinessCalendar.objects.create(name="Office hours", timezone="Europe/London")
    for weekday in range(5):
        WorkingPeriod.objects.create(
            calendar=calendar, weekday=weekday, start_time=time(9), end_time=time(17)
        )
    return calendar


@pytest.fixture
def policy(office: BusinessCalendar) -> SlaPolicy:
    return SlaPolicy.objects.create(
        name="Business-critical",
        calendar=office,
        priorities=[1],
        first_response_minutes=60,
        next_update_minutes=120,
        resolution_minutes=240,
    )


def open_ticket(personas: Personas, priority: int = 1) -> Ticket:
    return services.ticket_create(
        actor=personas.requester,
        requester=personas.requester,
        subject="Payroll down",
        body="Nobody can run the payroll.",
        channel=Channel.PORTAL,
        priority=priority,
        team=personas.team,
    )


# --- A ticket's clocks ---------------------------------------------------------------------


def test_ticket_carries_its_sla(now: list[datetime], personas: Personas, policy: SlaPolicy) -> None:
    ticket = open_ticket(personas)
    now[0] = london(7, 11, 1)
    sla_sweep()
    body = token_client(personas.agent).get(f"/api/v1/tickets/{ticket.pk}").json()
    sla = body["sla"]
    assert sla["policy"] == "Business-critical"
    assert sla["first_response_due"] == "2026-12-07T11:00:00Z"
    assert sla["resolution_due"] == "2026-12-07T14:00:00Z"
    assert sla["next_update_due"] is None
    assert sla["paused"] is False
    assert sla["paused_minutes"] == 0
    assert sla["first_response_breached"] is True
    assert sla["resolution_breached"] is False
    assert sla["next_update_breaches"] == 0
    assert [(e["clock"], e["threshold"]) for e in sla["events"]] == [
        ("first_response", 75),
        ("first_response", 90),
        ("first_response", 100),
    ]
    assert set(sla["events"][0]) == {"clock", "threshold", "due_at", "recorded_at"}


def test_list_carries_sla_without_events_and_requesters_see_no_events(
    now: list[datetime], personas: Personas, policy: SlaPolicy
) -> None:
    ticket = open_ticket(personas)
    plain = open_ticket(personas, priority=3)
    now[0] = london(7, 11, 1)
    sla_sweep()
    items = {
        item["id"]: item
        for item in token_client(personas.agent).get("/api/v1/tickets").json()["items"]
    }
    assert items[plain.pk]["sla"] is None
    assert items[ticket.pk]["sla"]["policy"] == "Business-critical"
    assert "events" not in items[ticket.pk]["sla"]
    mine = token_client(personas.requester).get(f"/api/v1/tickets/{ticket.pk}").json()
    assert mine["sla"]["events"] == []


def test_a_change_returns_the_fresh_sla(
    now: list[datetime], personas: Personas, policy: SlaPolicy
) -> None:
    ticket = open_ticket(personas, priority=3)
    response = token_client(personas.agent).patch(
        f"/api/v1/tickets/{ticket.pk}", {"priority": 1}, content_type="application/json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["sla"]["first_response_due"] == "2026-12-07T11:00:00Z"


def _ticket_queries(client: Any) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/api/v1/tickets").status_code == 200
    # The rate limiter's cache queries vary with its own housekeeping; they are not per row.
    # Savepoints and the token's bookkeeping vary from call to call; rows are SELECTs.
    return len(
        [
            q
            for q in captured.captured_queries
            if q["sql"].startswith("SELECT") and "deskside_cache" not in q["sql"]
        ]
    )


def test_list_of_tickets_does_not_query_per_row(
    now: list[datetime], personas: Personas, policy: SlaPolicy
) -> None:
    client = token_client(personas.agent)
    for _ in range(2):
        open_ticket(personas)
    few = _ticket_queries(client)
    for _ in range(10):
        open_ticket(personas)
    assert _ticket_queries(client) <= few


# --- Calendars and policies ----------------------------------------------------------------

CALENDAR = {
    "name": "Service desk",
    "timezone": "Europe/Paris",
    "periods": [
        {"weekday": 0, "start_time": "09:00", "end_time": "12:30"},
        {"weekday": 0, "start_time": "13:30", "end_time": "17:00"},
    ],
    "holidays": [{"date": "2026-12-25", "name": "Christmas Day"}],
    "exceptions": [
        {"date": "2026-12-24", "name": "Short day", "start_time": "09:00", "end_time": "12:00"}
    ],
}


@pytest.mark.parametrize("who", ["agent", "team_lead", "requester"])
def test_only_administrators_reach_sla_configuration(
    personas: Personas, office: BusinessCalendar, who: str
) -> None:
    client = token_client(getattr(personas, who))
    for response in (
        client.get("/api/v1/sla/calendars"),
        client.get(f"/api/v1/sla/calendars/{office.pk}"),
        client.post("/api/v1/sla/calendars", CALENDAR, content_type="application/json"),
        client.get("/api/v1/sla/policies"),
        client.delete(f"/api/v1/sla/calendars/{office.pk}"),
    ):
        assert_error(response, 403, "forbidden")


def test_calendar_create_get_update_delete(
    personas: Personas, django_capture_on_commit_callbacks: Commit
) -> None:
    client = token_client(personas.admin)
    with (
        mock.patch("deskside.sla.tasks.sla_recompute_task") as task,
        django_capture_on_commit_callbacks(execute=True),
    ):
        created = client.post("/api/v1/sla/calendars", CALENDAR, content_type="application/json")
    assert created.status_code == 201, created.json()
    body = created.json()
    task.assert_called_once_with(body["id"])
    assert body["periods"][1] == {"weekday": 0, "start_time": "13:30:00", "end_time": "17:00:00"}
    assert body["holidays"] == [{"date": "2026-12-25", "name": "Christmas Day", "source": "manual"}]
    assert body["exceptions"][0]["name"] == "Short day"

    listed = client.get("/api/v1/sla/calendars").json()
    assert listed["count"] == 1
    assert listed["items"][0]["name"] == "Service desk"

    changed = client.patch(
        f"/api/v1/sla/calendars/{body['id']}",
        {"name": "Desk", "holidays": []},
        content_type="application/json",
    ).json()
    assert changed["name"] == "Desk"
    assert changed["holidays"] == []
    assert len(changed["periods"]) == 2  # not sent, so kept

    assert client.delete(f"/api/v1/sla/calendars/{body['id']}").status_code == 204
    assert_error(client.get(f"/api/v1/sla/calendars/{body['id']}"), 404, "not_found")


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (
            {"periods": [
                {"weekday": 0, "start_time": "09:00", "end_time": "13:00"},
                {"weekday": 0, "start_time": "12:00", "end_time": "17:00"},
            ]},
            "periods",
            "overlap",
        ),
        (
            {"periods": [{"weekday": 1, "start_time": "17:00", "end_time": "09:00"}]},
            "periods.0.end_time",
            "after the start",
        ),
        ({"timezone": "Europe/Atlantis"}, "timezone", "time zone"),
        ({"periods": [], "exceptions": []}, "periods", "no working hours"),
        (
            {"exceptions": [{"date": "2026-12-24", "start_time": "09:00"}]},
            "exceptions.0.end_time",
            "both a start and an end",
        ),
    ],
)  # fmt: skip
def test_calendar_mistakes_name_the_field(
    personas: Personas, change: dict[str, Any], field: str, words: str
) -> None:
    response = token_client(personas.admin).post(
        "/api/v1/sla/calendars", {**CALENDAR, **change}, content_type="application/json"
    )
    error = assert_error(response, 400, "invalid")
    assert field in error["details"]["fields"], error
    assert words in error["details"]["fields"][field][0]["message"]


def test_a_calendar_in_use_cannot_be_deleted(personas: Personas, policy: SlaPolicy) -> None:
    response = token_client(personas.admin).delete(f"/api/v1/sla/calendars/{policy.calendar_id}")
    error = assert_error(response, 400, "invalid")
    assert "Business-critical" in error["message"]


def test_policy_create_update_delete_and_tickets_follow(
    now: list[datetime],
    personas: Personas,
    office: BusinessCalendar,
    django_capture_on_commit_callbacks: Commit,
) -> None:
    ticket = open_ticket(personas, priority=2)
    client = token_client(personas.admin)
    payload = {
        "name": "High",
        "calendar_id": office.pk,
        "priorities": [1, 2],
        "team_ids": [personas.team.pk],
        "first_response_minutes": 30,
        "resolution_minutes": 480,
        "warning_percentages": [50, 80],
    }
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post("/api/v1/sla/policies", payload, content_type="application/json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["calendar"] == {"id": office.pk, "name": "Office hours"}
    assert body["team_ids"] == [personas.team.pk]
    assert body["warning_percentages"] == [50, 80]
    ticket.refresh_from_db()
    assert ticket.sla_due_at == london(7, 10, 30)  # the open ticket now follows it

    with django_capture_on_commit_callbacks(execute=True):
        client.patch(
            f"/api/v1/sla/policies/{body['id']}",
            {"first_response_minutes": 90},
            content_type="application/json",
        )
    ticket.refresh_from_db()
    assert ticket.sla_due_at == london(7, 11, 30)

    assert client.get("/api/v1/sla/policies").json()["count"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"/api/v1/sla/policies/{body['id']}").status_code == 204
    ticket.refresh_from_db()
    assert ticket.sla_due_at is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"first_response_minutes": 0}, "first_response_minutes"),
        ({"resolution_minutes": -5}, "resolution_minutes"),
        ({"next_update_minutes": 0}, "next_update_minutes"),
        ({"priorities": [7]}, "priorities"),
        ({"warning_percentages": [120]}, "warning_percentages"),
        ({"calendar_id": 999999}, "calendar_id"),
        ({"team_ids": [999999]}, "team_ids"),
    ],
)
def test_policy_mistakes_name_the_field(
    personas: Personas, office: BusinessCalendar, change: dict[str, Any], field: str
) -> None:
    payload = {
        "name": "High",
        "calendar_id": office.pk,
        "first_response_minutes": 30,
        "resolution_minutes": 480,
        **change,
    }
    response = token_client(personas.admin).post(
        "/api/v1/sla/policies", payload, content_type="application/json"
    )
    error = assert_error(response, 400, "invalid")
    assert field in error["details"]["fields"], error
    if field.endswith("_minutes"):
        assert error["details"]["fields"][field][0]["message"] == (
            "A target must be at least one minute."
        )
