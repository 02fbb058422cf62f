"""The queue and ticket pages run the same number of queries however much there is to show."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.fixtures import Settings

from deskside.testing import Personas
from deskside.tickets import services
from deskside.tickets.attachments import UploadedFile
from deskside.tickets.models import Channel, LinkKind, Ticket


@pytest.fixture(autouse=True)
def _private_files(settings: Settings, tmp_path: Path) -> None:
    # Uploaded test files go to a throwaway folder, never the real data directory.
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "files")},
        },
    }
    settings.MEDIA_ROOT = tmp_path / "files"


def _ticket(personas: Personas, number: int) -> Ticket:
    ticket = services.ticket_create(
        actor=personas.requester,
        requester=personas.requester,
        subject=f"Problem {number}",
        body="Details.",
        channel=Channel.EMAIL,
        team=personas.team,
    )
    services.ticket_assign(ticket=ticket, actor=personas.agent, assignee=personas.other_agent)
    services.ticket_tag_add(ticket=ticket, actor=personas.agent, name=f"tag{number % 3}")
    return ticket


def _queries(client: Client, address: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(address)
    assert response.status_code == 200
    return len(captured)


MaxQueries = Callable[[int], AbstractContextManager[Any]]


def test_queue_page_query_count_does_not_grow(
    client: Client, personas: Personas, django_assert_max_num_queries: MaxQueries
) -> None:
    client.force_login(personas.agent)
    for number in range(5):
        _ticket(personas, number)
    address = reverse("tickets:queue") + "?queue=all&tag=tag1&sort=priority"
    small = _queries(client, address)
    plain_small = _queries(client, reverse("tickets:queue"))
    for number in range(5, 30):
        _ticket(personas, number)
    with django_assert_max_num_queries(small):
        client.get(address)
    with django_assert_max_num_queries(plain_small):
        client.get(reverse("tickets:queue"))
    assert small < 40  # a sanity bound, so a new N+1 on a fixed part also shows up


def test_ticket_page_query_count_does_not_grow(
    client: Client, personas: Personas, django_assert_max_num_queries: MaxQueries
) -> None:
    client.force_login(personas.agent)
    ticket = _ticket(personas, 1)
    address = reverse("tickets:ticket", kwargs={"pk": ticket.pk})

    def add_conversation(count: int) -> None:
        for number in range(count):
            file = UploadedFile(name=f"log{number}.txt", content=b"x", content_type="text/plain")
            services.ticket_reply(
                ticket=ticket, actor=personas.agent, body=f"Reply {number}", files=[file]
            )
            services.ticket_add_note(ticket=ticket, actor=personas.agent, body=f"Note {number}")
            other = _ticket(personas, 100 + number)
            services.ticket_link(
                source=ticket, target=other, kind=LinkKind.RELATED, actor=personas.agent
            )
            services.ticket_watcher_add(
                ticket=ticket, actor=personas.agent, watcher=personas.team_lead
            )

    add_conversation(3)
    small = _queries(client, address)
    add_conversation(15)
    with django_assert_max_num_queries(small):
        client.get(address)
    # A sanity bound (44 with the SLA and help-article panels), so a new N+1 on a fixed
    # part also shows up.
    assert small < 50


def test_upload_through_the_page_is_stored(client: Client, personas: Personas) -> None:
    client.force_login(personas.agent)
    ticket = _ticket(personas, 1)
    upload = SimpleUploadedFile("photo.png", b"\x89PNG", content_type="image/png")
    client.post(
        reverse("tickets:ticket_compose", kwargs={"pk": ticket.pk}),
        {"kind": "note", "body": "Photo of the error", "attachments": [upload]},
    )
    assert ticket.attachments.get().filename == "photo.png"
