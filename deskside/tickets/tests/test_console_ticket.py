"""The console ticket page and its actions, through the views."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from deskside.accounts.models import Role
from deskside.testing import Personas
from deskside.tickets import presence, services
from deskside.tickets.models import (
    CannedReply,
    Channel,
    LinkKind,
    Message,
    MessageKind,
    Priority,
    Status,
    StatusKind,
    Ticket,
    TicketEvent,
    TicketLink,
)
from deskside.tickets.views.ticket import fill_placeholders

NOTE_TEXT = "The toner was empty, so I replaced it. Keep a spare toner in the cupboard."


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


@pytest.fixture
def agent_client(client: Client, personas: Personas) -> Client:
    client.force_login(personas.agent)
    return client


def url(name: str, ticket: Ticket) -> str:
    return reverse(f"tickets:{name}", kwargs={"pk": ticket.pk})


def make(personas: Personas, subject: str = "Printer jammed", **extra: object) -> Ticket:
    return services.ticket_create(
        actor=personas.requester,
        requester=personas.requester,
        subject=subject,
        body=str(extra.pop("body", "It makes a grinding noise.")),
        channel=Channel.PORTAL,
        team=personas.team,
        **extra,  # type: ignore[arg-type]
    )


def test_page_escapes_subject_and_body_and_marks_notes(
    agent_client: Client, personas: Personas, ticket: Ticket
) -> None:
    hostile = make(personas, "<script>alert(1)</script>", body="<img src=x onerror=alert(1)>")
    services.ticket_add_note(ticket=hostile, actor=personas.agent, body="Checked the logs.")
    response = agent_client.get(url("ticket", hostile))
    assert response.status_code == 200
    html = response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" not in html
    assert "<img" not in html
    assert "Internal note — the requester cannot see this" in html
    assert "Checked the logs." in html
    assert "Xena Agent added an internal note" in html  # the history, in plain words


def test_requester_panel_shows_contact_details_and_other_tickets(
    agent_client: Client, personas: Personas, ticket: Ticket
) -> None:
    personas.requester.is_vip = True
    personas.requester.save()
    older = make(personas, "Old laptop is slow")
    html = agent_client.get(url("ticket", ticket)).content.decode()
    assert "+44 20 7946 0001" in html  # formatted for people to read
    assert "ada@example.com" in html
    assert "Finance" in html
    assert "Head office" in html
    assert "VIP" in html
    assert f"#{older.pk} Old laptop is slow" in html


def test_reply_with_status_and_attachment(
    agent_client: Client, personas: Personas, ticket: Ticket
) -> None:
    waiting = Status.objects.get(kind=StatusKind.WAITING_REQUESTER)
    upload = SimpleUploadedFile("steps.txt", b"1. restart", content_type="text/plain")
    response = agent_client.post(
        url("ticket_compose", ticket),
        {"kind": "reply", "body": "Please **restart** the printer.", "status": waiting.pk,
         "attachments": [upload]},
    )  # fmt: skip
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == waiting
    message = ticket.messages.filter(author=personas.agent).get()
    assert message.kind == MessageKind.PUBLIC
    attachment = message.attachments.get()
    assert attachment.filename == "steps.txt"
    html = agent_client.get(url("ticket", ticket)).content.decode()
    assert "<strong>restart</strong>" in html
    assert f'href="/attachments/{attachment.key}/">steps.txt</a>' in html


def test_note_through_the_composer(agent_client: Client, ticket: Ticket) -> None:
    agent_client.post(url("ticket_compose", ticket), {"kind": "note", "body": "Ring them later."})
    assert ticket.messages.filter(kind=MessageKind.NOTE, body="Ring them later.").exists()


def test_empty_reply_shows_the_plain_error_next_to_the_message(
    agent_client: Client, ticket: Ticket
) -> None:
    response = agent_client.post(url("ticket_compose", ticket), {"kind": "reply", "body": "  "})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Please write a message." in html
    assert 'id="id_body_error"' in html


def test_resolve_needs_the_note(agent_client: Client, ticket: Ticket) -> None:
    response = agent_client.post(url("ticket_resolve", ticket), {"note": ""})
    assert response.status_code == 400
    assert "what happened and how to avoid it next time" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status_kind == StatusKind.NEW

    response = agent_client.post(
        url("ticket_resolve", ticket), {"note": NOTE_TEXT, "first_contact": "on"}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status_kind == StatusKind.RESOLVED
    assert ticket.first_contact_resolution
    assert ticket.resolution_note == NOTE_TEXT


def test_resolve_with_open_child_asks_to_confirm(
    agent_client: Client, personas: Personas, ticket: Ticket
) -> None:
    child = make(personas, "Floor 3 printer, second tray")
    services.ticket_link(source=ticket, target=child, kind=LinkKind.PARENT, actor=personas.agent)
    response = agent_client.post(url("ticket_resolve", ticket), {"note": NOTE_TEXT})
    assert response.status_code == 400
    html = response.content.decode()
    assert f"#{child.pk} are still open" in html
    assert "Resolve it anyway" in html
    response = agent_client.post(
        url("ticket_resolve", ticket), {"note": NOTE_TEXT, "confirm_open_children": "on"}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status_kind == StatusKind.RESOLVED


def test_reopen(agent_client: Client, personas: Personas, ticket: Ticket) -> None:
    services.ticket_resolve(ticket=ticket, actor=personas.agent, note=NOTE_TEXT)
    assert "Reopen this ticket" in agent_client.get(url("ticket", ticket)).content.decode()
    agent_client.post(url("ticket_reopen", ticket))
    ticket.refresh_from_db()
    assert ticket.status_kind == StatusKind.OPEN
    assert ticket.reopen_count == 1


def test_merge_and_link(agent_client: Client, personas: Personas, ticket: Ticket) -> None:
    duplicate = make(personas, "Printer again")
    other = make(personas, "Network is slow")
    response = agent_client.post(
        url("ticket_link", other), {"kind": "related", "target": f"#{ticket.pk}"}
    )
    assert response.status_code == 302
    assert TicketLink.objects.filter(source=other, target=ticket, kind="related").exists()
    html = agent_client.get(url("ticket", ticket)).content.decode()
    assert f"#{other.pk} Network is slow" in html

    response = agent_client.post(url("ticket_merge", duplicate), {"target": str(ticket.pk)})
    assert response.status_code == 302
    duplicate.refresh_from_db()
    assert duplicate.merged_into == ticket
    assert "merged into" in agent_client.get(url("ticket", duplicate)).content.decode()

    response = agent_client.post(url("ticket_merge", other), {"target": "99999"})
    assert response.status_code == 400
    assert "There is no ticket #99999 that you can see." in response.content.decode()
    response = agent_client.post(url("ticket_link", other), {"kind": "related", "target": "abc"})
    assert "Write the ticket number" in response.content.decode()


def test_unlink_removes_only_a_link_shown_on_the_page(
    agent_client: Client, personas: Personas, ticket: Ticket
) -> None:
    other = make(personas, "Network is slow")
    unrelated = make(personas, "Screen flickers")
    link = services.ticket_link(source=other, target=ticket, kind="related", actor=personas.agent)
    elsewhere = services.ticket_link(
        source=unrelated, target=other, kind="related", actor=personas.agent
    )
    # A link between two other tickets cannot be removed through this ticket's page.
    assert (
        agent_client.post(url("ticket_unlink", ticket), {"link": elsewhere.pk}).status_code == 404
    )
    assert agent_client.post(url("ticket_unlink", ticket), {"link": "x"}).status_code == 404
    response = agent_client.post(url("ticket_unlink", ticket), {"link": link.pk})
    assert response.status_code == 302
    assert not TicketLink.objects.filter(pk=link.pk).exists()
    assert TicketLink.objects.filter(pk=elsewhere.pk).exists()
    assert TicketEvent.objects.filter(ticket=other, action="unlinked").exists()


def test_controls_change_status_priority_category_assignment_tags_watchers(
    agent_client: Client, personas: Personas, ticket: Ticket
) -> None:
    waiting = Status.objects.get(kind=StatusKind.WAITING_THIRD_PARTY)
    agent_client.post(url("ticket_status", ticket), {"status": waiting.pk})
    agent_client.post(url("ticket_priority", ticket), {"priority": Priority.P1})
    agent_client.post(url("ticket_category", ticket), {"category": ""})
    agent_client.post(url("ticket_assign", ticket), {"me": "1"})
    agent_client.post(url("ticket_tag_add", ticket), {"tag": "Toner"})
    agent_client.post(url("ticket_watcher_add", ticket), {"email": "BOB@example.com"})
    ticket.refresh_from_db()
    assert ticket.status == waiting
    assert ticket.priority == Priority.P1
    assert ticket.category is None
    assert ticket.assignee == personas.agent
    assert list(ticket.tags.values_list("name", flat=True)) == ["toner"]
    assert list(ticket.watchers.all()) == [personas.other_requester]
    html = agent_client.get(url("ticket", ticket)).content.decode()
    assert "Xena Agent changed priority from P3 to P1" in html
    assert "Xena Agent assigned it to Xena Agent" in html

    agent_client.post(url("ticket_tag_remove", ticket), {"tag": "toner"})
    agent_client.post(
        url("ticket_watcher_remove", ticket), {"watcher": personas.other_requester.pk}
    )
    agent_client.post(
        url("ticket_assign", ticket), {"team": personas.other_team.pk, "assignee": ""}
    )
    ticket.refresh_from_db()
    assert not ticket.tags.exists()
    assert not ticket.watchers.exists()
    assert ticket.team == personas.other_team
    assert ticket.assignee is None

    response = agent_client.post(url("ticket_watcher_add", ticket), {"email": "nobody@example.com"})
    assert "Nobody with that email address" in response.content.decode()
    resolved = Status.objects.get(kind=StatusKind.RESOLVED)
    response = agent_client.post(url("ticket_status", ticket), {"status": resolved.pk})
    assert response.status_code == 400


def test_preview_renders_markdown_safely(agent_client: Client, ticket: Ticket) -> None:
    response = agent_client.post(
        url("ticket_preview", ticket),
        {"body": "**hi** <script>x</script> [a](javascript:alert(1))"},
    )
    html = response.content.decode()
    assert "<strong>hi</strong>" in html
    assert "<script>" not in html
    assert "javascript:" not in html.replace("[a](javascript:alert(1))", "")


def test_canned_reply_placeholders_are_filled_but_never_evaluated(
    agent_client: Client, personas: Personas, ticket: Ticket
) -> None:
    canned = CannedReply.objects.create(
        title="Restart",
        body=(
            "Hi {first_name}, about {ticket_number}: {{ settings.SECRET_KEY }} {unknown} "
            "— {agent_name}"
        ),
    )
    response = agent_client.post(url("ticket_canned", ticket), {"canned": canned.pk, "body": ""})
    html = response.content.decode()
    assert f"Hi Ada, about #{ticket.pk}: {{{{ settings.SECRET_KEY }}}} {{unknown}} — Xena" in html
    text = fill_placeholders("{full_name}{{first_name}}", ticket=ticket, agent=personas.agent)
    assert text == "Ada Requester{Ada}"


@pytest.mark.parametrize("shared_cache", ["database", "redis"])
def test_presence_shows_other_agents(
    client: Client,
    personas: Personas,
    ticket: Ticket,
    shared_cache: str,
    request: pytest.FixtureRequest,
) -> None:
    if shared_cache == "redis":  # as with DESKSIDE_REDIS_URL: the cache in a real Redis
        redis_url = request.getfixturevalue("redis_cache")
    client.force_login(personas.other_agent)
    client.post(url("ticket_presence", ticket), {"state": "replying"})
    client.force_login(personas.agent)
    html = client.get(url("ticket", ticket)).content.decode()
    assert "Yuri Agent is replying to this ticket" in html
    body = client.post(url("ticket_presence", ticket), {"state": "viewing"}).content.decode()
    assert "Yuri Agent is replying" in body
    others = presence.presence_others(ticket_id=ticket.pk, user=personas.other_agent)
    assert [(p.name, p.state) for p in others] == [("Xena Agent", "viewing")]
    if shared_cache == "redis":  # kept there, so every web process sees it
        import redis

        with redis.Redis.from_url(redis_url) as server:
            [key] = server.keys(f"deskside:*tickets:presence:{ticket.pk}")
            assert 0 < server.ttl(key) <= presence.PRESENCE_SECONDS


def test_executive_sees_ticket(client: Client, personas: Personas, ticket: Ticket) -> None:
    assert personas.executive.role == Role.EXECUTIVE
    client.force_login(personas.executive)
    assert client.get(url("ticket", ticket)).status_code == 200


def test_system_messages_after_merge_show(
    agent_client: Client, personas: Personas, ticket: Ticket
) -> None:
    source = make(personas, "Same printer")
    services.ticket_merge(source=source, target=ticket, actor=personas.agent)
    html = agent_client.get(url("ticket", ticket)).content.decode()
    assert f"Request #{source.pk} was merged into this one." in html
    assert Message.objects.filter(ticket=ticket, kind=MessageKind.SYSTEM).exists()
