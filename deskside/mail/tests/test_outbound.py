"""Building and sending one mail: tokens, headers, threading, safety and failures."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.test import override_settings

from deskside.lib.tokens import ticket_from_reply_token, ticket_reply_token
from deskside.mail.models import OutboundKind, OutboundMail, OutboundState
from deskside.mail.outbound import (
    HEADER_MAX,
    UnsafeHeaderError,
    build_email,
    make_message_id,
    outbound_deliver,
    outbound_record,
    ticket_from_message_id,
    ticket_from_references,
    ticket_subject,
    validate_header,
)
from deskside.mail.tasks import deliver_task
from deskside.mail.tests.smtp_sink import (
    SmtpSink,
    ensure_ticket_catalogue,
    free_port,
    running_sink,
    smtp_settings,
)
from deskside.testing import Personas
from deskside.tickets import services
from deskside.tickets.models import Channel, Ticket

MESSAGE_ID = re.compile(r"<deskside\.(\d+)\.[0-9a-f]{24}\.[0-9a-f]{16}@testserver\.example>")


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with running_sink() as sink, override_settings(BASE_URL="https://testserver.example"):
        yield sink


@pytest.fixture
def ticket(personas: Personas) -> Ticket:
    ensure_ticket_catalogue()
    return services.ticket_create(
        actor=personas.requester,
        requester=personas.requester,
        subject="Printer on floor 3 jams",
        body="It jams on every page since Monday.",
        channel=Channel.PORTAL,
    )


def record(ticket: Ticket, *, to_name: str = "Ada Requester", subject: str = "Hello") -> int:
    return outbound_record(
        kind=OutboundKind.AGENT_REPLY,
        ticket=ticket,
        to_address=ticket.requester.email,
        to_name=to_name,
        subject=subject,
        body_text="Plain words.\n",
        body_html="<p>Plain words.</p>",
    ).pk


# --- Reply tokens ---------------------------------------------------------------------


def test_reply_token_round_trips() -> None:
    token = ticket_reply_token(1042)
    assert re.fullmatch(r"1042\.[0-9a-f]{24}", token)
    assert ticket_from_reply_token(token) == 1042
    # Some mail systems change case on the way back; the token still counts.
    assert ticket_from_reply_token(token.upper()) == 1042


def test_tampered_or_junk_tokens_are_refused() -> None:
    token = ticket_reply_token(1042)
    number, mac = token.split(".")
    flipped = mac[:-1] + ("0" if mac[-1] != "0" else "1")
    assert ticket_from_reply_token(f"{number}.{flipped}") is None
    # A genuine signature cannot be moved to another ticket.
    assert ticket_from_reply_token(f"1043.{mac}") is None
    for junk in ("", "1042", "1042.", ".abc", "x" * 10_000, "0." + mac, "1042.zz", None, 1042):
        assert ticket_from_reply_token(junk) is None


def test_tokens_survive_a_secret_key_rotation() -> None:
    old = "an-old-secret-key-that-is-long-enough-1234567890"
    new = "a-new-secret-key-that-is-long-enough-0987654321"
    with override_settings(SECRET_KEY=old):
        token = ticket_reply_token(7)
    with override_settings(SECRET_KEY=new, SECRET_KEY_FALLBACKS=[old]):
        assert ticket_from_reply_token(token) == 7
    with override_settings(SECRET_KEY=new, SECRET_KEY_FALLBACKS=[]):
        assert ticket_from_reply_token(token) is None


# --- Header values --------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "Hello\r\nBcc: victim@example.com",
        "Hello\nBcc: victim@example.com",
        "Hello\rBcc: victim@example.com",
        "Hello\x00there",
        "Hello\u2028Bcc: victim@example.com",
        "Hello\x0bthere",
    ],
)
def test_header_values_with_line_breaks_are_refused(value: str) -> None:
    with pytest.raises(UnsafeHeaderError, match="line break"):
        validate_header("Subject", value)


def test_header_values_are_bounded_and_ordinary_ones_pass() -> None:
    with pytest.raises(UnsafeHeaderError, match="characters long"):
        validate_header("Subject", "x" * (HEADER_MAX + 1))
    assert validate_header("Subject", "Café\tprinter: déjà vu") == "Café\tprinter: déjà vu"


def test_the_ticket_tag_appears_exactly_once() -> None:
    assert ticket_subject(12, "Printer jams") == "[#12] Printer jams"
    assert ticket_subject(12, "Re: [#12] Printer jams") == "[#12] Re: Printer jams"
    assert ticket_subject(12, "[#12][#99] Printer jams [#12]") == "[#12] Printer jams"


def test_message_ids_carry_a_verifiable_token() -> None:
    with override_settings(BASE_URL="https://testserver.example"):
        message_id = make_message_id(1042)
    assert MESSAGE_ID.fullmatch(message_id)
    assert ticket_from_message_id(message_id) == 1042
    forged = message_id.replace("deskside.1042.", "deskside.1043.")
    assert ticket_from_message_id(forged) is None
    assert ticket_from_message_id("<CAF=abc@mail.gmail.com>") is None
    # The newest genuine id wins; forged and foreign ids are skipped.
    with override_settings(BASE_URL="https://testserver.example"):
        later = make_message_id(7)
    assert ticket_from_references(f"<x@y> {message_id}", f"{forged} {later} <z@w>") == 7
    assert ticket_from_references(None, forged) is None


# --- Sending through a real SMTP server -------------------------------------------------


def test_headers_as_they_cross_the_wire(ticket: Ticket, smtp: SmtpSink) -> None:
    outbound_id = record(ticket, subject=f"Re: [#{ticket.pk}] Printer on floor 3 jams")
    assert outbound_deliver(outbound_id)
    [got] = smtp.messages
    message = got.message
    assert got.rcpt_tos == ["ada@example.com"]
    assert message["To"] == "Ada Requester <ada@example.com>"
    assert message["Subject"] == f"[#{ticket.pk}] Re: Printer on floor 3 jams"
    assert message["Subject"].count("[#") == 1
    # Long ids are folded onto a second line, as RFC 5322 allows; readers unfold them.
    found = MESSAGE_ID.fullmatch(message["Message-ID"].strip())
    assert found is not None
    assert int(found[1]) == ticket.pk
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert ticket_from_reply_token(message["X-Deskside-Reply-Token"]) == ticket.pk
    assert message["In-Reply-To"] is None  # the first mail of the thread
    assert got.text().strip() == "Plain words."
    assert "<p>Plain words.</p>" in got.html()
    row = OutboundMail.objects.get(pk=outbound_id)
    assert row.state == OutboundState.SENT
    assert row.attempts == 1
    assert row.sent_at is not None
    assert row.message_id == message["Message-ID"].strip()


def test_references_chain_across_a_tickets_mail(ticket: Ticket, smtp: SmtpSink) -> None:
    for _ in range(3):
        outbound_deliver(record(ticket))
    ids = [got.message["Message-ID"].strip() for got in smtp.messages]
    assert len(set(ids)) == 3
    second, third = (got.message for got in smtp.messages[1:])
    assert second["In-Reply-To"].strip() == ids[0]
    assert second["References"].split() == [ids[0]]
    assert third["In-Reply-To"].strip() == ids[1]
    assert third["References"].split() == [ids[0], ids[1]]
    # Every id in the chain leads back to the ticket.
    assert ticket_from_references(smtp.messages[2].message["References"]) == ticket.pk


def test_a_name_with_a_line_break_is_never_sent(ticket: Ticket, smtp: SmtpSink) -> None:
    outbound_id = record(ticket, to_name="Ada\r\nBcc: victim@example.com")
    with pytest.raises(UnsafeHeaderError):
        build_email(OutboundMail.objects.get(pk=outbound_id))
    assert outbound_deliver(outbound_id) is False
    assert smtp.messages == []
    row = OutboundMail.objects.get(pk=outbound_id)
    assert row.state == OutboundState.FAILED
    assert "line break" in row.last_error


def test_a_subject_with_a_line_break_is_never_sent(ticket: Ticket, smtp: SmtpSink) -> None:
    # Services tidy subjects, so this imitates a row written some other way.
    Ticket.objects.filter(pk=ticket.pk).update(subject="Jam\r\nBcc: victim@example.com")
    ticket.refresh_from_db()
    outbound_id = record(ticket, subject=ticket.subject)
    assert outbound_deliver(outbound_id) is False
    assert smtp.messages == []
    assert "Subject header" in OutboundMail.objects.get(pk=outbound_id).last_error


def test_an_unreachable_server_is_recorded_and_retried(ticket: Ticket, smtp: SmtpSink) -> None:
    outbound_id = record(ticket)
    with smtp_settings(free_port()), pytest.raises(ConnectionRefusedError):
        outbound_deliver(outbound_id)
    row = OutboundMail.objects.get(pk=outbound_id)
    assert row.state == OutboundState.FAILED
    assert row.attempts == 1
    assert "Connection" in row.last_error or "refused" in row.last_error.lower()
    # The job's retry finds the row as it was left and sends it once the server is back.
    assert outbound_deliver(outbound_id)
    row.refresh_from_db()
    assert (row.state, row.attempts, row.last_error) == (OutboundState.SENT, 2, "")
    assert len(smtp.messages) == 1
    # Sent mail is never sent again, however often the job runs.
    assert outbound_deliver(outbound_id)
    assert len(smtp.messages) == 1


def test_the_job_keeps_the_row_when_the_server_is_down(ticket: Ticket) -> None:
    outbound_id = record(ticket)
    with smtp_settings(free_port()):
        deliver_task(outbound_id)  # huey runs it inline in tests and schedules the retry
    row = OutboundMail.objects.get(pk=outbound_id)
    assert row.state == OutboundState.FAILED
    assert row.last_error


def test_a_refused_mailbox_is_not_retried(ticket: Ticket, smtp: SmtpSink) -> None:
    smtp.refuse_recipients = True
    outbound_id = record(ticket)
    assert outbound_deliver(outbound_id) is False  # no exception: retrying will not help
    row = OutboundMail.objects.get(pk=outbound_id)
    assert row.state == OutboundState.FAILED
    assert "550" in row.last_error
