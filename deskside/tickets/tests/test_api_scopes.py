"""Read-only tokens may fetch everything their person may see, and change nothing."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from deskside.accounts.models import TokenScope
from deskside.api.testing import assert_error, token_client
from deskside.testing import Personas
from deskside.tickets.models import Message, Ticket
from deskside.tickets.tests.api_helpers import RESOLUTION, make_ticket

pytestmark = pytest.mark.django_db


def test_read_token_reads(personas: Personas) -> None:
    ticket = make_ticket(personas.requester)
    client = token_client(personas.agent, scope=TokenScope.READ)
    for path in (
        "/api/v1/tickets",
        f"/api/v1/tickets/{ticket.pk}",
        f"/api/v1/tickets/{ticket.pk}/messages",
        "/api/v1/categories",
        "/api/v1/statuses",
        "/api/v1/people",
    ):
        assert client.get(path).status_code == 200, path


def test_read_token_cannot_write_anywhere(personas: Personas) -> None:
    ticket = make_ticket(personas.requester)
    other = make_ticket(personas.other_requester)
    client = token_client(personas.admin, scope=TokenScope.READ)
    base = f"/api/v1/tickets/{ticket.pk}"
    json_writes: list[tuple[str, str, object]] = [
        ("post", "/api/v1/tickets", {"subject": "x", "description": "y"}),
        ("patch", base, {"priority": 1}),
        ("post", f"{base}/resolve", {"note": RESOLUTION}),
        ("post", f"{base}/reopen", {}),
        ("post", f"{base}/merge", {"into_id": other.pk}),
        ("post", f"{base}/links", {"target_id": other.pk, "kind": "related"}),
        ("post", f"{base}/messages", {"body": "hello"}),
        ("post", "/api/v1/people", {"email": "new@example.com", "full_name": "New Person"}),
        ("post", "/api/v1/teams", {"name": "Security"}),
    ]
    before = Ticket.objects.count(), Message.objects.count()
    for method, path, body in json_writes:
        response = getattr(client, method)(path, body, content_type="application/json")
        error = assert_error(response, 403, "read_only_token")
        assert "can only read" in error["message"], path
    assert_error(client.delete(f"{base}/links/1"), 403, "read_only_token")
    upload = SimpleUploadedFile("a.txt", b"a", content_type="text/plain")
    assert_error(client.post(f"{base}/attachments", {"files": upload}), 403, "read_only_token")
    assert (Ticket.objects.count(), Message.objects.count()) == before
    ticket.refresh_from_db()
    assert ticket.priority == 3


def test_write_token_writes(personas: Personas) -> None:
    ticket = make_ticket(personas.requester)
    client = token_client(personas.agent, scope=TokenScope.WRITE)
    response = client.patch(
        f"/api/v1/tickets/{ticket.pk}", {"priority": 1}, content_type="application/json"
    )
    assert response.status_code == 200


def test_session_keeps_full_access(personas: Personas) -> None:
    ticket = make_ticket(personas.requester)
    client = Client()
    client.force_login(personas.agent)
    response = client.patch(
        f"/api/v1/tickets/{ticket.pk}", {"priority": 1}, content_type="application/json"
    )
    assert response.status_code == 200


def test_session_writes_still_need_the_csrf_token(personas: Personas) -> None:
    ticket = make_ticket(personas.requester)
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.agent)
    response = client.patch(
        f"/api/v1/tickets/{ticket.pk}", {"priority": 1}, content_type="application/json"
    )
    assert_error(response, 403, "csrf_failed")
