"""The requester's ticket page: conversation, plain timeline, replies and "is it fixed?"."""

from __future__ import annotations

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from deskside.testing import Personas
from deskside.tickets import services
from deskside.tickets.attachments import UploadedFile
from deskside.tickets.models import Channel, LinkKind, StatusKind, Ticket, TicketLink
from deskside.tickets.statuses import default_status

NOTE = "The print queue was stuck. If it happens again, restart the printer before calling."


def _ticket(personas: Personas) -> Ticket:
    return services.ticket_create(
        actor=personas.requester, requester=personas.requester, subject="Printer jam",
        body="It says *paper jam*.", channel=Channel.PORTAL,
    )  # fmt: skip


def _url(name: str, ticket: Ticket) -> str:
    return reverse(name, args=[ticket.pk])


def _resolved(personas: Personas) -> Ticket:
    ticket = _ticket(personas)
    services.ticket_resolve(ticket=ticket, actor=personas.agent, note=NOTE)
    ticket.refresh_from_db()
    return ticket


def test_page_shows_conversation_without_notes_and_a_plain_timeline(
    client: Client, personas: Personas
) -> None:
    ticket = _ticket(personas)
    services.ticket_assign(ticket=ticket, actor=personas.agent, assignee=personas.agent)
    services.ticket_add_note(ticket=ticket, actor=personas.agent, body="SECRET internal note")
    services.ticket_reply(
        ticket=ticket, actor=personas.agent, body="Which **floor** are you on?",
        status=default_status(StatusKind.WAITING_REQUESTER),
    )  # fmt: skip
    client.force_login(personas.requester)
    page = client.get(_url("portal:ticket", ticket)).content.decode()
    assert "SECRET" not in page
    assert "<em>paper jam</em>" in page  # Markdown, through the sanitised body_html
    assert "Which <strong>floor</strong> are you on?" in page
    assert "Xena from IT" in page
    assert "We&#x27;ve received it" in page
    assert "Xena from IT is on it" in page
    assert "Waiting for you" in page
    assert "Please read the latest message and reply." in page


def test_desk_staff_see_no_notes_in_the_portal_either(client: Client, personas: Personas) -> None:
    ticket = services.ticket_create(
        actor=personas.agent, requester=personas.agent, subject="My own monitor",
        body="Flickers.", channel=Channel.PORTAL,
    )  # fmt: skip
    services.ticket_add_note(ticket=ticket, actor=personas.other_agent, body="SECRET note")
    client.force_login(personas.agent)
    page = client.get(_url("portal:ticket", ticket)).content.decode()
    assert "Flickers." in page
    assert "SECRET" not in page


def test_resolution_note_is_prominent_and_fixed_closes(client: Client, personas: Personas) -> None:
    ticket = _resolved(personas)
    client.force_login(personas.requester)
    page = client.get(_url("portal:ticket", ticket)).content.decode()
    assert "What happened and how to avoid it" in page
    assert "restart the printer before calling" in page
    assert "Is it working now?" in page
    assert "Fixed" in page

    response = client.post(
        _url("portal:ticket_confirm", ticket), {"fixed": "yes", "comment": "Thanks!"}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status_kind == StatusKind.CLOSED
    page = client.get(response["Location"]).content.decode()
    assert "Great, thank you for letting us know." in page
    assert "You confirmed it" in page
    assert "Is it working now?" not in page


def test_not_fixed_reopens_with_the_comment(client: Client, personas: Personas) -> None:
    ticket = _resolved(personas)
    client.force_login(personas.requester)
    response = client.post(
        _url("portal:ticket_confirm", ticket), {"fixed": "no", "comment": "Still jammed."}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status_kind == StatusKind.OPEN
    assert ticket.reopen_count == 1
    assert ticket.messages.last().body == "Still jammed."  # type: ignore[union-attr]
    page = client.get(response["Location"]).content.decode()
    assert "You told us it" in page


def test_confirm_when_not_resolved_says_what_to_do(client: Client, personas: Personas) -> None:
    ticket = _ticket(personas)
    client.force_login(personas.requester)
    response = client.post(_url("portal:ticket_confirm", ticket), {"fixed": "yes"}, follow=True)
    assert "write a message below" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status_kind == StatusKind.NEW


def test_reply_with_attachment_reopens_a_resolved_ticket(
    client: Client, personas: Personas
) -> None:
    ticket = _resolved(personas)
    client.force_login(personas.requester)
    response = client.post(
        _url("portal:ticket_reply", ticket),
        {"body": "It jammed again.", "attachments": [SimpleUploadedFile("jam.jpg", b"JPEG")]},
    )
    assert response.status_code == 302
    assert response["Location"] == _url("portal:ticket", ticket) + "#latest"
    ticket.refresh_from_db()
    assert ticket.status_kind == StatusKind.OPEN
    message = ticket.messages.last()
    assert message is not None
    assert message.channel == Channel.PORTAL
    assert [a.filename for a in message.attachments.all()] == ["jam.jpg"]
    page = client.get(response["Location"]).content.decode()
    assert "opened your request again" in page
    assert reverse("attachment_download", args=[message.attachments.get().key]) in page


def test_late_reply_opens_a_linked_follow_up_and_lands_there(
    client: Client, personas: Personas
) -> None:
    ticket = _resolved(personas)
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=timezone.now() - timedelta(days=60))
    client.force_login(personas.requester)
    response = client.post(_url("portal:ticket_reply", ticket), {"body": "It is back."})
    follow_up = Ticket.objects.exclude(pk=ticket.pk).get()
    assert response["Location"] == _url("portal:ticket", follow_up) + "#latest"
    assert TicketLink.objects.filter(source=follow_up, target=ticket, kind=LinkKind.RELATED)
    page = client.get(response["Location"]).content.decode()
    assert f"we&#x27;ve opened a new request, #{follow_up.pk}" in page
    assert f"This follows on from request #{ticket.pk}" in page


def test_empty_reply_explains_and_sends_nothing(client: Client, personas: Personas) -> None:
    ticket = _ticket(personas)
    client.force_login(personas.requester)
    response = client.post(_url("portal:ticket_reply", ticket), {"body": "  "})
    assert response.status_code == 400
    assert "Write a message before sending it." in response.content.decode()
    assert ticket.messages.count() == 1


def test_page_queries_do_not_grow_with_the_conversation(client: Client, personas: Personas) -> None:
    ticket = _ticket(personas)
    services.ticket_assign(ticket=ticket, actor=personas.agent, assignee=personas.agent)
    client.force_login(personas.requester)
    url = _url("portal:ticket", ticket)
    client.get(url)  # the first visit also creates one-off rows such as the desk settings
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for number in range(6):
        services.ticket_reply(
            ticket=ticket, actor=personas.agent, body=f"Reply {number}",
            files=[UploadedFile(f"shot{number}.png", b"PNG")],
        )  # fmt: skip
        services.ticket_add_note(ticket=ticket, actor=personas.agent, body="note")
    with CaptureQueriesContext(connection) as many:
        page = client.get(url).content.decode()
    assert "shot5.png" in page
    assert len(many) == len(few)
