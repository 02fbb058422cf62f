"""The Django admin for calendars and policies: whole-schedule checks, holiday imports, and
deadlines that move when an administrator saves."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, time
from typing import Any
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from deskside.sla.models import BusinessCalendar, Holiday, SlaPolicy, WorkingPeriod
from deskside.testing import Personas

pytestmark = pytest.mark.django_db

Commit = Callable[..., AbstractContextManager[Any]]


def inline(prefix: str, rows: list[dict[str, str]], initial: int = 0) -> dict[str, str]:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{name}": value for name, value in row.items()})
    return data


def calendar_form(periods: list[dict[str, str]], **extra: str) -> dict[str, str]:
    return {
        "name": "Office hours",
        "timezone": "Europe/London",
        "holiday_country": "GB",
        "holiday_subdivision": "ENG",
        **inline("periods", periods),
        **inline("holidays", []),
        **inline("exceptions", []),
        **extra,
    }


@pytest.fixture
def admin_client(client: Client, personas: Personas) -> Client:
    client.force_login(personas.admin)
    return client


@pytest.fixture
def office(db: None) -> BusinessCalendar:
    calendar = BusinessCalendar.objects.create(
        name="Office", timezone="Europe/London", holiday_country="GB", holiday_subdivision="ENG"
    )
    WorkingPeriod.objects.create(
        calendar=calendar, weekday=0, start_time=time(9), end_time=time(17)
    )
    return calendar


def test_saving_a_calendar_queues_a_recompute(
    admin_client: Client, django_capture_on_commit_callbacks: Commit
) -> None:
    with (
        mock.patch("deskside.sla.tasks.sla_recompute_task") as task,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = admin_client.post(
            reverse("admin:sla_businesscalendar_add"),
            calendar_form([{"weekday": "0", "start_time": "09:00", "end_time": "17:00"}]),
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    calendar = BusinessCalendar.objects.get()
    assert calendar.periods.count() == 1
    task.assert_called_once_with(calendar.pk)


def test_overlapping_hours_are_shown_on_the_working_hours(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("admin:sla_businesscalendar_add"),
        calendar_form(
            [
                {"weekday": "0", "start_time": "09:00", "end_time": "13:00"},
                {"weekday": "0", "start_time": "12:00", "end_time": "17:00"},
            ]
        ),
    )
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.non_form_errors()
    assert "overlap" in " ".join(errors)
    assert not BusinessCalendar.objects.exists()


def test_an_end_before_the_start_is_shown_on_that_row(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("admin:sla_businesscalendar_add"),
        calendar_form([{"weekday": "0", "start_time": "17:00", "end_time": "09:00"}]),
    )
    assert response.status_code == 200
    form = response.context["inline_admin_formsets"][0].formset.forms[0]
    assert "after the start" in " ".join(form.errors["end_time"])


def test_a_week_without_hours_is_refused_unless_open_all_hours(admin_client: Client) -> None:
    response = admin_client.post(reverse("admin:sla_businesscalendar_add"), calendar_form([]))
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.non_form_errors()
    assert "no working hours" in " ".join(errors)
    response = admin_client.post(
        reverse("admin:sla_businesscalendar_add"), calendar_form([], always_open="on")
    )
    assert response.status_code == 302


def test_overlapping_exception_hours_are_shown_on_the_exceptions(admin_client: Client) -> None:
    data = calendar_form([{"weekday": "0", "start_time": "09:00", "end_time": "17:00"}])
    data.update(
        inline(
            "exceptions",
            [
                {"date": "2026-12-24", "start_time": "09:00", "end_time": "12:00"},
                {"date": "2026-12-24", "start_time": "11:00", "end_time": "13:00"},
            ],
        )
    )
    response = admin_client.post(reverse("admin:sla_businesscalendar_add"), data)
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][2].formset.non_form_errors()
    assert "overlap" in " ".join(errors)


def test_public_holidays_for_a_year(
    admin_client: Client, office: BusinessCalendar, django_capture_on_commit_callbacks: Commit
) -> None:
    address = reverse("admin:sla_businesscalendar_public_holidays", args=[office.pk])
    assert admin_client.get(address).status_code == 200
    with (
        mock.patch("deskside.sla.tasks.sla_recompute_task") as task,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = admin_client.post(address, {"year": "2026"})
    assert response.status_code == 302
    task.assert_called_once_with(office.pk)
    days = set(Holiday.objects.filter(calendar=office).values_list("date", flat=True))
    assert date(2026, 12, 25) in days
    assert date(2026, 8, 31) in days  # England's summer bank holiday
    # Twice adds nothing new.
    admin_client.post(address, {"year": "2026"})
    assert Holiday.objects.filter(calendar=office).count() == len(days)


def test_public_holidays_action_needs_a_country(admin_client: Client) -> None:
    calendar = BusinessCalendar.objects.create(name="Nowhere")
    response = admin_client.post(
        reverse("admin:sla_businesscalendar_changelist"),
        {"action": "add_public_holidays_this_year", "_selected_action": [str(calendar.pk)]},
        follow=True,
    )
    assert "has no country set" in response.content.decode()
    assert not Holiday.objects.exists()


def test_ics_upload_imports_holidays(admin_client: Client, office: BusinessCalendar) -> None:
    ics = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        b"BEGIN:VEVENT\r\nUID:1\r\nDTSTART;VALUE=DATE:20261228\r\nDTEND;VALUE=DATE:20261230\r\n"
        b"SUMMARY:Office closed\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    address = reverse("admin:sla_businesscalendar_import_ics", args=[office.pk])
    assert admin_client.get(address).status_code == 200
    response = admin_client.post(
        address, {"file": SimpleUploadedFile("closed.ics", ics, content_type="text/calendar")}
    )
    assert response.status_code == 302
    assert list(Holiday.objects.filter(calendar=office).values_list("date", "name", "source")) == [
        (date(2026, 12, 28), "Office closed", "ical"),
        (date(2026, 12, 29), "Office closed", "ical"),
    ]


def test_a_file_that_is_not_a_calendar_is_refused_in_words(
    admin_client: Client, office: BusinessCalendar
) -> None:
    address = reverse("admin:sla_businesscalendar_import_ics", args=[office.pk])
    response = admin_client.post(
        address, {"file": SimpleUploadedFile("x.ics", b"hello", content_type="text/calendar")}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert not Holiday.objects.exists()


def test_saving_a_policy_queues_a_recompute(
    admin_client: Client, office: BusinessCalendar, django_capture_on_commit_callbacks: Commit
) -> None:
    data = {
        "name": "Standard",
        "is_active": "on",
        "position": "1",
        "calendar": str(office.pk),
        "priorities": "[]",
        "first_response_minutes": "60",
        "resolution_minutes": "480",
        "warning_percentages": "75, 90",
        "pause_when_waiting_on_requester": "on",
    }
    with (
        mock.patch("deskside.sla.tasks.sla_recompute_task") as task,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = admin_client.post(reverse("admin:sla_slapolicy_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert SlaPolicy.objects.get().name == "Standard"
    task.assert_called_once_with(None)


def test_a_zero_target_is_refused_on_its_field(
    admin_client: Client, office: BusinessCalendar
) -> None:
    data = {
        "name": "Standard",
        "position": "1",
        "calendar": str(office.pk),
        "priorities": "[]",
        "first_response_minutes": "0",
        "resolution_minutes": "480",
        "warning_percentages": "75, 90",
    }
    response = admin_client.post(reverse("admin:sla_slapolicy_add"), data)
    assert response.status_code == 200
    assert "at least one minute" in " ".join(
        response.context["adminform"].form.errors["first_response_minutes"]
    )


def test_agents_cannot_reach_the_admin(client: Client, personas: Personas) -> None:
    client.force_login(personas.agent)
    response = client.get(reverse("admin:sla_businesscalendar_changelist"))
    assert response.status_code == 302
