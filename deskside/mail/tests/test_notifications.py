"""Who is mailed about what, driven through the real ticket services and a real SMTP server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.test import override_settings

from deskside.accounts.models import User
from deskside.mail.models import OutboundKind, OutboundMail, OutboundState, SuppressedReason
from deskside.mail.outbound import ticket_from_references
from deskside.mail.tests.smtp_sink import Received, SmtpSink, ensure_ticket_catalogue, running_sink
from deskside.testing import Personas
from deskside.tickets import services
from deskside.tickets.models import Channel, MessageKind, Status, StatusKind, Ticket

pytestmark = pytest.mark.django_db

NOTE = "The print queue was stuck; we cleared it. If it happens again, restart the printer."


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with running_sink() as sink, override_settings(BASE_URL="https://help.example.com"):
        yield sink


@pytest.fixture
def desk(personas: Personas) -> Personas:
    ensure_ticket_catalogue()
    return personas


def open_ticket(desk: Personas, *, channel: str = Channel.PORTAL, **extra: Any) -> Ticket:
    return services.ticket_create(
        actor=extra.pop("actor", desk.requester),
        requester=extra.pop("requester", desk.requester),
        subject=extra.pop("subject", "Printer on floor 3 jams"),
        body="It jams on every page since Monday.",
        channel=channel,
        team=desk.team,
        **extra,
    )


def status(kind: str) -> Status:
    return Status.objects.get(kind=kind, is_default_for_kind=True)


def only(smtp: SmtpSink) -> Received:
    [got] = smtp.messages
    return got


def kinds() -> list[str]:
    return list(OutboundMail.objects.order_by("id").values_list("kind", flat=True))


# --- To the requester -------------------------------------------------------------------


def test_a_new_request_is_acknowledged_with_its_number(
    desk: Personas, smtp: SmtpSink, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    with commit():
        ticket = open_ticket(desk)
    got = only(smtp)
    assert got.rcpt_tos == [desk.requester.email]
    assert got.message["Subject"] == f"[#{ticket.pk}] We have your request: {ticket.subject}"
    assert got.message["Auto-Submitted"] == "auto-generated"
    assert f"#{ticket.pk}" in got.text()
    assert "What happens next" in got.text()
    assert f"https://help.example.com/portal/tickets/{ticket.pk}/" in got.text()
    assert ticket_from_references(got.message["Message-ID"]) == ticket.pk


def test_an_emailed_request_is_acknowledged_as_an_auto_reply(
    desk: Personas, smtp: SmtpSink, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    with commit():
        open_ticket(desk, channel=Channel.EMAIL)
    assert only(smtp).message["Auto-Submitted"] == "auto-replied"


def test_a_ticket_an_agent_opens_for_follow_up_is_not_acknowledged(
    desk: Personas, smtp: SmtpSink, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    with commit():
        open_ticket(desk, channel=Channel.AGENT, actor=desk.agent)
    assert smtp.messages == []


def test_a_call_resolved_on_the_phone_only_gets_the_resolution(
    desk: Personas, smtp: SmtpSink, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    with commit():
        ticket = open_ticket(desk, channel=Channel.PHONE, actor=desk.agent, assignee=desk.agent)
        services.ticket_resolve(ticket=ticket, actor=desk.agent, note=NOTE, first_contact=True)
    got = only(smtp)
    assert got.message["Subject"] == f"[#{ticket.pk}] Fixed: {ticket.subject}"
    assert NOTE in got.text()
    assert "Xena from IT" in got.text()


def test_an_agent_reply_reaches_the_requester_in_the_same_thread(
    desk: Personas, smtp: SmtpSink, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    with commit():
        ticket = open_ticket(desk)
    with commit():
        services.ticket_reply(
            ticket=ticket, actor=desk.agent, body="Could you send a photo of the error?"
        )
    ack, reply = (got.message for got in smtp.messages)
    assert reply["Subject"] == f"[#{ticket.pk}] New reply: {ticket.subject}"
    assert reply["In-Reply-To"].strip() == ack["Message-ID"].strip()
    assert reply["Auto-Submitted"] == "auto-generated"
    assert "Could you send a photo of the error?" in smtp.messages[1].text()
    assert "Xena from IT replied" in smtp.messages[1].text()
    assert kinds() == [OutboundKind.ACKNOWLEDGEMENT, OutboundKind.AGENT_REPLY]


def test_a_reply_that_waits_on_the_requester_says_so(
    desk: Personas, smtp: SmtpSink, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    ticket = open_ticket(desk)
    with commit():
        services.ticket_reply(
            ticket=ticket,
            actor=desk.agent,
            body="Which printer is it?",
            status=status(StatusKind.WAITING_REQUESTER),
        )
    got = only(smtp)  # one mail, not a reply and a status change
    assert got.message["Subject"].startswith(f"[#{ticket.pk}] We need your answer")
    assert "waiting for your answer" in got.text()


def test_internal_notes_are_never_mailed(
    desk: Personas, smtp: SmtpSink, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    ticket = open_ticket(desk)
    with commit():
        services.ticket_add_note(ticket=ticket, actor=desk.agent, body="Toner supplier is slow.")
    assert smtp.messages == []


def test_waiting_on_the_requester_is_mailed_with_the_question(
    desk: Personas, smtp: SmtpSink, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    ticket = open_ticket(desk)
    services.ticket_reply(ticket=ticket, actor=desk.agent, body="Which floor is the printer on?")
    with commit():
        services.ticket_change_status(
            ticket=ticket, actor=desk.agent, status=status(StatusKind.WAITING_REQUESTER)
        )
        # Setting the same status again is not news.
        services.ticket_change_status(
            ticket=ticket, actor=desk.agent, status=status(StatusKind.WAITING_REQUESTER)
        )
    got = only(smtp)
    assert got.message["Subject"] == f"[#{ticket.pk}] We need your answer: {ticket.subject}"
    assert "Which floor is the printer on?" in got.text()


def test_other_status_changes_are_not_mailed(
    desk: Personas, smtp: SmtpSink, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    ticket = open_ticket(desk)
    with commit():
        services.ticket_change_status(
            ticket=ticket, actor=desk.agent, status=status(StatusKind.WAITING_THIRD_PARTY)
        )
    assert smtp.messages == []


def test_the_resolution_note_is_mailed(
    desk: Personas, smtp: SmtpSink, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    ticket = open_ticket(desk)
    services.ticket_assign(ticket=ticket, actor=desk.agent, assignee=desk.agent)
    with commit():
        services.ticket_resolve(ticket=ticket, actor=desk.agent, note=NOTE)
    got = only(smtp)
    assert NOTE in got.text()
    assert NOTE in got.html()
    row = OutboundMail.objects.get()
    assert (row.kind, row.state, row.ticket_id) == (OutboundKind.RESOLUTION, "sent", ticket.pk)


def test_a_resolution_undone_before_the_job_runs_is_not_mailed(
    desk: Personas, smtp: SmtpSink, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    ticket = open_ticket(desk)
    with commit():
        services.ticket_resolve(ticket=ticket, actor=desk.agent, note=NOTE)
        services.ticket_reopen(ticket=ticket, actor=desk.agent)
    assert smtp.messages == []


# --- To agents --------------------------------------------------------------------------


def test_an_agent_is_told_when_given_a_ticket(
    desk: Personas, smtp: SmtpSink, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    ticket = open_ticket(desk)
    with commit():
        services.ticket_assign(ticket=ticket, actor=desk.team_lead, assignee=desk.agent)
    got = only(smtp)
    assert got.rcpt_tos == [desk.agent.email]
    assert got.message["Subject"] == f"[#{ticket.pk}] Assigned to you: {ticket.subject}"
    assert "Lena Lead gave you ticket" in got.text()
    assert f"https://help.example.com/console/tickets/{ticket.pk}/" in got.text()


def test_taking_a_ticket_yourself_sends_nothing(
    desk: Personas, smtp: SmtpSink, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    ticket = open_ticket(desk)
    with commit():
        services.ticket_assign(ticket=ticket, actor=desk.agent, assignee=desk.agent)
    assert smtp.messages == []


def test_only_the_final_assignee_is_told(
    desk: Personas, smtp: SmtpSink, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    ticket = open_ticket(desk)
    with commit():
        services.ticket_assign(ticket=ticket, actor=desk.team_lead, assignee=desk.agent)
        services.ticket_assign(ticket=ticket, actor=desk.team_lead, assignee=desk.other_agent)
    assert only(smtp).rcpt_tos == [desk.other_agent.email]


def test_the_assignee_hears_about_a_requester_reply(
    desk: Personas, smtp: SmtpSink, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    ticket = open_ticket(desk)
    services.ticket_assign(ticket=ticket, actor=desk.agent, assignee=desk.agent)
    with commit():
        services.ticket_reply(
            ticket=ticket, actor=desk.requester, body="It is the one by the lift."
        )
    got = only(smtp)
    assert got.rcpt_tos == [desk.agent.email]
    assert got.message["Subject"] == f"[#{ticket.pk}] Ada Requester replied: {ticket.subject}"
    assert "It is the one by the lift." in got.text()


def test_a_requester_reply_on_an_unassigned_ticket_mails_nobody(
    desk: Personas, smtp: SmtpSink, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    ticket = open_ticket(desk)
    with commit():
        services.ticket_reply(ticket=ticket, actor=desk.requester, body="Any news?")
    assert smtp.messages == []


# --- Who is never mailed, and how much --------------------------------------------------


def test_nobody_is_mailed_about_their_own_reply(
    desk: Personas, smtp: SmtpSink, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    # An agent asking for help for themselves is both requester and assignee.
    ticket = open_ticket(desk, actor=desk.agent, requester=desk.agent, channel=Channel.AGENT)
    services.ticket_assign(ticket=ticket, actor=desk.agent, assignee=desk.agent)
    with commit():
        services.ticket_reply(ticket=ticket, actor=desk.agent, body="Still broken for me.")
        services.ticket_resolve(ticket=ticket, actor=desk.agent, note=NOTE)
    assert smtp.messages == []
    assert not OutboundMail.objects.exists()


def test_people_switched_off_are_never_mailed(
    desk: Personas, smtp: SmtpSink, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    ticket = open_ticket(desk)
    User.objects.filter(pk=desk.requester.pk).update(is_active=False)
    with commit():
        services.ticket_reply(ticket=ticket, actor=desk.agent, body="Is this still a problem?")
    assert smtp.messages == []
    row = OutboundMail.objects.get()
    assert row.state == OutboundState.SUPPRESSED
    assert row.suppressed_reason == SuppressedReason.INACTIVE


@override_settings(MAIL_AUTO_LIMIT_PER_HOUR=2)
def test_automatic_mail_to_one_address_is_capped(
    desk: Personas, smtp: SmtpSink, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    with commit():
        tickets = [open_ticket(desk, subject=f"Problem {n}") for n in range(3)]
    assert len(smtp.messages) == 2
    suppressed = OutboundMail.objects.get(state=OutboundState.SUPPRESSED)
    assert suppressed.suppressed_reason == SuppressedReason.RATE_LIMITED
    assert suppressed.ticket_id == tickets[2].pk
    # Words a person wrote to them still go through.
    with commit():
        services.ticket_reply(ticket=tickets[0], actor=desk.agent, body="We are on it.")
    assert len(smtp.messages) == 3
    # Other addresses have their own allowance.
    with commit():
        open_ticket(desk, actor=desk.other_requester, requester=desk.other_requester)
    assert smtp.messages[-1].rcpt_tos == [desk.other_requester.email]


# --- Safety -------------------------------------------------------------------------------


def test_peoples_words_are_escaped_in_html(
    desk: Personas, smtp: SmtpSink, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    ticket = open_ticket(desk, subject="<script>alert('subject')</script> & more")
    with commit():
        services.ticket_reply(
            ticket=ticket,
            actor=desk.agent,
            body='<img src=x onerror="alert(1)"> {{ secret }} {% now "Y" %}',
        )
    got = smtp.messages[-1]
    html = got.html()
    assert "<script>" not in html
    assert "<img" not in html
    assert "&lt;script&gt;" in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    # Template syntax in what people write is shown as typed, never run.
    assert '{{ secret }} {% now "Y" %}' in got.text()
    assert "{{ secret }}" in html
    assert got.message["Subject"] == (
        f"[#{ticket.pk}] New reply: <script>alert('subject')</script> & more"
    )


def test_a_name_with_a_line_break_cannot_add_headers(
    desk: Personas, smtp: SmtpSink, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    User.objects.filter(pk=desk.requester.pk).update(full_name="Ada\r\nBcc: victim@example.com")
    desk.requester.refresh_from_db()
    ticket = open_ticket(desk)  # the acknowledgement is not run: outside commit()
    services.ticket_assign(ticket=ticket, actor=desk.agent, assignee=desk.agent)
    with commit():
        # To the requester: the name is in To. To the agent: it is in the subject.
        services.ticket_reply(ticket=ticket, actor=desk.agent, body="Which printer?")
        services.ticket_reply(ticket=ticket, actor=desk.requester, body="The one by the lift.")
    assert smtp.messages == []
    rows = OutboundMail.objects.order_by("id")
    assert [row.kind for row in rows] == [
        OutboundKind.AGENT_REPLY,
        OutboundKind.NEW_REPLY_FOR_AGENT,
    ]
    assert {row.state for row in rows} == {OutboundState.FAILED}
    assert "To header" in rows[0].last_error
    assert "Subject header" in rows[1].last_error


def test_messages_are_linked_to_their_mail(
    desk: Personas, smtp: SmtpSink, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    ticket = open_ticket(desk)
    with commit():
        message = services.ticket_reply(ticket=ticket, actor=desk.agent, body="On my way.")
    row = OutboundMail.objects.get()
    assert row.ticket_message == message
    assert message.kind == MessageKind.PUBLIC
