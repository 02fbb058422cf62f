"""Requester B reaches nothing of requester A's, through any portal or download address."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from deskside.portal import urls as portal_urls
from deskside.testing import Personas
from deskside.tickets import services
from deskside.tickets.attachments import UploadedFile
from deskside.tickets.models import Attachment, Channel, MessageKind, StatusKind, Ticket

# Every portal address that names a ticket. The test below fails if a new one appears
# without being listed here, so nothing is added unchecked.
TICKET_ROUTES = {"ticket", "ticket_reply", "ticket_confirm"}


def _ticket_routes() -> set[str]:
    return {
        str(pattern.name)
        for pattern in portal_urls.urlpatterns
        if isinstance(pattern, URLPattern) and "pk" in pattern.pattern.converters
    }


@pytest.fixture
def a_ticket(personas: Personas) -> Ticket:
    ticket = services.ticket_create(
        actor=personas.requester, requester=personas.requester, subject="Ada's salary sheet",
        body="Private.", channel=Channel.PORTAL,
        files=[UploadedFile("salary.png", b"PNG"), UploadedFile("notes.txt", b"text")],
    )  # fmt: skip
    services.ticket_add_note(
        ticket=ticket, actor=personas.agent, body="Internal: see attached log",
        files=[UploadedFile("internal-log.txt", b"secret log")],
    )  # fmt: skip
    services.ticket_resolve(
        ticket=ticket, actor=personas.agent, note="We fixed the sharing settings for you."
    )
    return ticket


def test_every_ticket_route_is_checked() -> None:
    assert _ticket_routes() == TICKET_ROUTES


def test_other_requester_gets_not_found_everywhere(
    client: Client, personas: Personas, a_ticket: Ticket
) -> None:
    client.force_login(personas.other_requester)
    for name in sorted(_ticket_routes()):
        url = reverse(f"portal:{name}", args=[a_ticket.pk])
        statuses = [client.get(url).status_code, client.head(url).status_code]
        statuses += [
            client.post(url, data).status_code
            for data in ({}, {"body": "hi", "fixed": "yes"}, {"body": "hi", "fixed": "no"})
        ]
        # A method an address does not take is refused before any lookup (405), which
        # reveals nothing; the method it does take must answer "not found".
        assert set(statuses) <= {404, 405}, (url, statuses)
        assert 404 in statuses, (url, statuses)
    for attachment in Attachment.objects.filter(ticket=a_ticket):
        url = reverse("attachment_download", args=[attachment.key])
        assert client.get(url).status_code == 404, attachment.filename
        assert client.get(url, {"inline": "1"}).status_code == 404, attachment.filename
        assert client.head(url).status_code == 404, attachment.filename
    page = client.get(reverse("portal:tickets")).content.decode()
    page += client.get(reverse("portal:home")).content.decode()
    assert "salary" not in page
    a_ticket.refresh_from_db()
    assert a_ticket.status_kind == StatusKind.RESOLVED
    assert a_ticket.messages.filter(author=personas.other_requester).count() == 0


def test_requester_cannot_fetch_an_internal_notes_file_on_their_own_ticket(
    client: Client, personas: Personas, a_ticket: Ticket
) -> None:
    client.force_login(personas.requester)
    internal = Attachment.objects.get(message__kind=MessageKind.NOTE)
    assert client.get(reverse("attachment_download", args=[internal.key])).status_code == 404
    page = client.get(reverse("portal:ticket", args=[a_ticket.pk])).content.decode()
    assert internal.key not in page
    assert "internal-log" not in page
    for mine in Attachment.objects.exclude(message__kind=MessageKind.NOTE):
        assert client.get(reverse("attachment_download", args=[mine.key])).status_code == 200


def test_visitors_are_sent_to_sign_in(client: Client, a_ticket: Ticket) -> None:
    urls = [reverse(f"portal:{name}", args=[a_ticket.pk]) for name in TICKET_ROUTES]
    urls += [reverse("attachment_download", args=[a.key]) for a in a_ticket.attachments.all()]
    for url in urls:
        response = client.post(url) if "reply" in url or "confirm" in url else client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:login")), url


def test_an_unknown_ticket_or_key_is_not_found(client: Client, personas: Personas) -> None:
    client.force_login(personas.requester)
    assert client.get(reverse("portal:ticket", args=[999999])).status_code == 404
    assert client.get(reverse("attachment_download", args=["nope"])).status_code == 404
