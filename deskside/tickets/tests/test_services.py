from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from deskside.testing import Personas
from deskside.tickets import services
from deskside.tickets.attachments import UploadedFile, safe_filename
from deskside.tickets.models import (
    Channel,
    LinkKind,
    Message,
    MessageKind,
    Status,
    StatusKind,
    Ticket,
    TicketEvent,
    TicketLink,
    TicketSettings,
)

pytestmark = pytest.mark.django_db

NOTE = "The print queue was stuck; we cleared it. If it happens again, restart the printer."


def test_create_records_everything(ticket: Ticket, personas: Personas) -> None:
    assert ticket.status_kind == StatusKind.NEW
    assert ticket.department == personas.department
    assert ticket.last_requester_activity_at is not None
    message = ticket.messages.get()
    assert message.kind == MessageKind.PUBLIC
    assert message.author == personas.requester
    assert TicketEvent.objects.filter(ticket=ticket, action="created").exists()


def test_numbers_are_sequential_and_never_reused(personas: Personas, ticket: Ticket) -> None:
    second = services.ticket_create(
        actor=personas.agent, requester=personas.other_requester, subject="VPN",
        body="Cannot connect", channel=Channel.PHONE,
    )  # fmt: skip
    assert second.pk == ticket.pk + 1
    second.delete()
    third = services.ticket_create(
        actor=personas.agent, requester=personas.other_requester, subject="VPN again",
        body="Still cannot connect", channel=Channel.PHONE,
    )  # fmt: skip
    assert third.pk == ticket.pk + 2


def test_requester_cannot_open_tickets_for_others(personas: Personas) -> None:
    with pytest.raises(PermissionDenied):
        services.ticket_create(
            actor=personas.requester, requester=personas.other_requester, subject="x",
            body="y", channel=Channel.PORTAL,
        )  # fmt: skip


@pytest.mark.parametrize(("subject", "body"), [("", "body"), ("  ", "body"), ("ok", "  ")])
def test_empty_subject_or_body_is_explained(personas: Personas, subject: str, body: str) -> None:
    with pytest.raises(ValidationError):
        services.ticket_create(
            actor=personas.requester, requester=personas.requester, subject=subject,
            body=body, channel=Channel.PORTAL,
        )  # fmt: skip
    assert not Ticket.objects.exists()


def test_agent_reply_sets_first_response_and_opens(ticket: Ticket, personas: Personas) -> None:
    services.ticket_reply(ticket=ticket, actor=personas.agent, body="On my way.")
    ticket.refresh_from_db()
    assert ticket.first_response_at is not None
    assert ticket.status_kind == StatusKind.OPEN


def test_requester_b_cannot_reply_or_see(ticket: Ticket, personas: Personas) -> None:
    with pytest.raises(Http404):
        services.ticket_reply(ticket=ticket, actor=personas.other_requester, body="hi")


def test_notes_are_for_staff_only(ticket: Ticket, personas: Personas) -> None:
    with pytest.raises(PermissionDenied):
        services.ticket_add_note(ticket=ticket, actor=personas.requester, body="sneaky")
    services.ticket_add_note(ticket=ticket, actor=personas.agent, body="Check toner.")
    from deskside.tickets.selectors import ticket_messages

    kinds_for_requester = [m.kind for m in ticket_messages(personas.requester, ticket)]
    kinds_for_agent = [m.kind for m in ticket_messages(personas.agent, ticket)]
    assert MessageKind.NOTE not in kinds_for_requester
    assert MessageKind.NOTE in kinds_for_agent


def test_resolve_requires_a_plain_note(ticket: Ticket, personas: Personas) -> None:
    with pytest.raises(ValidationError, match="what happened"):
        services.ticket_resolve(ticket=ticket, actor=personas.agent, note="fixed")
    services.ticket_resolve(ticket=ticket, actor=personas.agent, note=NOTE)
    ticket.refresh_from_db()
    assert ticket.status_kind == StatusKind.RESOLVED
    assert ticket.resolution_note == NOTE
    assert ticket.messages.filter(body=NOTE, kind=MessageKind.PUBLIC).exists()


def test_requester_reply_after_resolution_reopens(ticket: Ticket, personas: Personas) -> None:
    services.ticket_resolve(ticket=ticket, actor=personas.agent, note=NOTE)
    services.ticket_reply(ticket=ticket, actor=personas.requester, body="It jams again.")
    ticket.refresh_from_db()
    assert ticket.status_kind == StatusKind.OPEN
    assert ticket.reopen_count == 1
    assert ticket.resolved_at is None


def test_late_reply_opens_a_linked_ticket(ticket: Ticket, personas: Personas) -> None:
    services.ticket_resolve(ticket=ticket, actor=personas.agent, note=NOTE)
    days = TicketSettings.current().reopen_days
    Ticket.objects.filter(pk=ticket.pk).update(
        resolved_at=timezone.now() - timedelta(days=days + 1)
    )
    message = services.ticket_reply(ticket=ticket, actor=personas.requester, body="Again!")
    assert message.ticket_id != ticket.pk
    assert TicketLink.objects.filter(source=message.ticket, target=ticket).exists()
    ticket.refresh_from_db()
    assert ticket.status_kind == StatusKind.RESOLVED


def test_confirm_fixed_closes_and_not_fixed_reopens(ticket: Ticket, personas: Personas) -> None:
    services.ticket_resolve(ticket=ticket, actor=personas.agent, note=NOTE)
    services.ticket_confirm(ticket=ticket, actor=personas.requester, fixed=False)
    ticket.refresh_from_db()
    assert ticket.status_kind == StatusKind.OPEN
    services.ticket_resolve(ticket=ticket, actor=personas.agent, note=NOTE)
    services.ticket_confirm(ticket=ticket, actor=personas.requester, fixed=True)
    ticket.refresh_from_db()
    assert ticket.status_kind == StatusKind.CLOSED
    assert ticket.closed_at is not None


def test_parent_cannot_resolve_with_open_child_unless_confirmed(
    ticket: Ticket, personas: Personas
) -> None:
    child = services.ticket_create(
        actor=personas.agent, requester=personas.requester, subject="Toner", body="Order toner",
        channel=Channel.AGENT, team=personas.team,
    )  # fmt: skip
    services.ticket_link(source=ticket, target=child, kind=LinkKind.PARENT, actor=personas.agent)
    with pytest.raises(ValidationError, match=f"#{child.pk}"):
        services.ticket_resolve(ticket=ticket, actor=personas.agent, note=NOTE)
    services.ticket_resolve(
        ticket=ticket, actor=personas.agent, note=NOTE, confirm_open_children=True
    )
    ticket.refresh_from_db()
    assert ticket.status_kind == StatusKind.RESOLVED


def test_merge_moves_the_conversation_and_points_to_survivor(
    ticket: Ticket, personas: Personas
) -> None:
    other = services.ticket_create(
        actor=personas.other_requester, requester=personas.other_requester,
        subject="Printer jams too", body="Floor 3 printer jams", channel=Channel.PORTAL,
        team=personas.team,
    )  # fmt: skip
    services.ticket_merge(source=other, target=ticket, actor=personas.agent)
    other.refresh_from_db()
    assert other.merged_into == ticket
    assert other.status_kind == StatusKind.CLOSED
    assert ticket.messages.filter(body="Floor 3 printer jams").exists()
    assert ticket.watchers.filter(pk=personas.other_requester.pk).exists()
    with pytest.raises(ValidationError):
        services.ticket_merge(source=ticket, target=ticket, actor=personas.agent)


def test_status_change_cannot_skip_the_resolution_note(ticket: Ticket, personas: Personas) -> None:
    resolved = Status.objects.get(kind=StatusKind.RESOLVED)
    with pytest.raises(ValidationError, match="Resolve"):
        services.ticket_change_status(ticket=ticket, actor=personas.agent, status=resolved)


def test_history_records_who_what_from_to(ticket: Ticket, personas: Personas) -> None:
    services.ticket_change_priority(ticket=ticket, actor=personas.agent, priority=1)
    services.ticket_assign(ticket=ticket, actor=personas.agent, assignee=personas.agent)
    event = TicketEvent.objects.get(ticket=ticket, field="priority")
    assert (event.actor, event.old_value, event.new_value) == (personas.agent, "P3", "P1")
    assert TicketEvent.objects.filter(ticket=ticket, field="assignee", new_value="Xena Agent")


def test_restricted_team_is_hidden_from_other_agents(ticket: Ticket, personas: Personas) -> None:
    from deskside.accounts import permissions

    assert permissions.can_view(personas.other_agent, ticket)
    personas.team.is_restricted = True
    personas.team.save()
    assert not permissions.can_view(personas.other_agent, ticket)
    assert permissions.can_view(personas.agent, ticket)
    assert permissions.can_view(personas.it_manager, ticket)
    with pytest.raises(Http404):
        services.ticket_reply(ticket=ticket, actor=personas.other_agent, body="hello")


def test_autoclose_closes_only_old_resolved_tickets(ticket: Ticket, personas: Personas) -> None:
    services.ticket_resolve(ticket=ticket, actor=personas.agent, note=NOTE)
    assert services.tickets_autoclose() == 0
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=timezone.now() - timedelta(days=30))
    assert services.tickets_autoclose() == 1
    ticket.refresh_from_db()
    assert ticket.status_kind == StatusKind.CLOSED


def test_attachments_are_limited_and_named_safely(ticket: Ticket, personas: Personas) -> None:
    settings = TicketSettings.current()
    settings.max_attachment_mb = 1
    settings.save()
    big = UploadedFile(name="huge.bin", content=b"x" * (1024 * 1024 + 1))
    with pytest.raises(ValidationError, match="larger than 1 MB"):
        services.ticket_reply(ticket=ticket, actor=personas.agent, body="see", files=[big])
    assert Message.objects.filter(ticket=ticket).count() == 1  # nothing half-saved
    ok = UploadedFile(name="../../etc/passwd", content=b"root")
    message = services.ticket_reply(ticket=ticket, actor=personas.agent, body="x", files=[ok])
    attachment = message.attachments.get()
    assert attachment.filename == "passwd"
    assert attachment.content_type == "application/octet-stream"
    assert safe_filename('a<b>:"c".pdf') == "a_b___c_.pdf"


def test_markdown_is_rendered_safely(ticket: Ticket, personas: Personas) -> None:
    body = "<script>alert(1)</script> [x](javascript:alert(1)) **bold**"
    message = services.ticket_reply(ticket=ticket, actor=personas.agent, body=body)
    assert "<script>" not in message.body_html
    assert 'href="javascript' not in message.body_html  # left as harmless text, not a link
    assert "<strong>bold</strong>" in message.body_html


def test_resolution_note_is_mailed_to_the_requester(
    ticket: Ticket, personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core import mail

    services.ticket_assign(ticket=ticket, actor=personas.agent, assignee=personas.agent)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_resolve(ticket=ticket, actor=personas.agent, note=NOTE)
    [sent] = mail.outbox
    assert sent.to == [f"Ada Requester <{personas.requester.email}>"]
    assert f"[#{ticket.pk}] Fixed" in sent.subject
    assert NOTE in sent.body
    assert f"/portal/tickets/{ticket.pk}/" in sent.body
    assert "Xena from IT" in sent.body


def _create(personas: Personas, subject: str = "Printer jams") -> Ticket:
    return services.ticket_create(
        actor=personas.requester,
        requester=personas.requester,
        subject=subject,
        body="It jams on every page.",
        channel=Channel.PORTAL,
    )


def _status_reads(captured: Any) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "tickets_status" in q["sql"]]


def test_the_default_status_is_read_once_per_process_and_version(personas: Personas) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _create(personas, "First")  # fills this process's copy
    with CaptureQueriesContext(connection) as captured:
        ticket = _create(personas, "Second")
    assert _status_reads(captured) == []
    # Both configuration versions (statuses and SLA) come from one read of their table.
    versions = [q for q in captured.captured_queries if "system_configversion" in q["sql"]]
    assert len(versions) == 1
    assert ticket.status.kind == StatusKind.NEW


def test_an_edited_default_status_applies_to_the_next_ticket(personas: Personas) -> None:
    _create(personas, "Before")
    new = Status.objects.get(kind=StatusKind.NEW, is_default_for_kind=True)
    new.is_default_for_kind = False
    new.save()
    triage = Status.objects.create(
        name="Triage", kind=StatusKind.NEW, requester_label="Received", is_default_for_kind=True
    )
    assert _create(personas, "After").status == triage


def test_a_status_edit_made_by_another_process_is_seen(personas: Personas) -> None:
    """Another process's edit reaches this one only through the committed version row."""
    from deskside.system.services import config_version_bump
    from deskside.tickets.statuses import STATUSES_CONFIG

    triage = Status.objects.create(name="Triage", kind=StatusKind.NEW, requester_label="Received")
    assert _create(personas, "Before").status != triage  # this process now keeps the old default
    # As another process leaves it: rows and version changed, this process's copy not
    # dropped (a queryset update sends no signal here).
    Status.objects.filter(kind=StatusKind.NEW).update(is_default_for_kind=False)
    Status.objects.filter(pk=triage.pk).update(is_default_for_kind=True)
    assert _create(personas, "Unseen").status != triage  # the version has not moved yet
    config_version_bump(STATUSES_CONFIG)
    assert _create(personas, "After").status == triage


def test_a_desk_without_a_status_of_the_kind_says_what_to_do(personas: Personas) -> None:
    Status.objects.filter(kind=StatusKind.NEW).delete()
    with pytest.raises(ValidationError) as refused:
        _create(personas, "No status")
    [message] = refused.value.messages
    assert message == (
        "This can't be saved because the desk has no “New” status set up. "
        "Please ask an IT administrator to add one."
    )
