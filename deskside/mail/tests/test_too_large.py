"""Mail collected over the size limit: kept, not added, and its sender told what to do."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import override_settings

from deskside.mail.intake import StoreResult, inbound_receive
from deskside.mail.models import (
    AcceptsFrom,
    InboundMessage,
    InboundState,
    Mailbox,
    OutboundKind,
    OutboundMail,
    OutboundState,
    SuppressedReason,
)
from deskside.mail.tests.smtp_sink import SmtpSink, running_sink
from deskside.tickets.models import Ticket

pytestmark = pytest.mark.django_db

LIMIT_MB = 1


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with running_sink() as sink, override_settings(MAIL_MAX_MESSAGE_MB=LIMIT_MB):
        yield sink


@pytest.fixture
def receive(django_capture_on_commit_callbacks: Any) -> Callable[..., StoreResult]:
    """inbound_receive, with the after-commit hooks run (tests run inside a transaction)."""

    def run(raw: bytes, mailbox: Mailbox | None = None) -> StoreResult:
        with django_capture_on_commit_callbacks(execute=True):
            return inbound_receive(raw=raw, source="imap", mailbox=mailbox)

    return run


def big(n: int, *, sender: str = "Dana Sender <dana@example.com>", extra: str = "") -> bytes:
    padding = "A" * 76 + "\r\n"
    body = padding * (LIMIT_MB * 1024 * 1024 // len(padding) + 100)
    return (
        f"From: {sender}\r\nTo: help@deskside.test\r\nSubject: Scans of the invoices\r\n"
        f"Message-ID: <big-{n}@example.com>\r\n{extra}\r\n{body}"
    ).encode()


def test_sender_is_told_the_limit_and_what_to_do(
    smtp: SmtpSink, receive: Callable[..., StoreResult]
) -> None:
    raw = big(1)
    result = receive(raw)
    stored = InboundMessage.objects.get()
    assert stored.state == InboundState.REJECTED
    assert bytes(stored.raw) == raw  # kept whole
    assert result.created
    assert Ticket.objects.count() == 0

    [note] = smtp.messages
    assert note.rcpt_tos == ["dana@example.com"]
    assert note.message["Subject"] == "Your message was too large: Scans of the invoices"
    assert note.message["Auto-Submitted"] == "auto-generated"
    assert note.message["In-Reply-To"] == "<big-1@example.com>"
    text = note.text()
    assert "Hello Dana Sender" in text
    assert "up to 1 MB" in text
    assert "shared folder" in text
    assert "#None" not in note.html()


def test_the_same_message_twice_is_answered_once(
    smtp: SmtpSink, receive: Callable[..., StoreResult]
) -> None:
    receive(big(1))
    receive(big(1))
    assert len(smtp.messages) == 1


@pytest.mark.parametrize(
    ("sender", "extra"),
    [
        ("Robot <robot@example.com>", "Auto-Submitted: auto-generated\r\n"),
        ("News <news@example.com>", "Precedence: bulk\r\n"),
        ("List <list@example.com>", "List-Id: <all.example.com>\r\n"),
        ("MAILER-DAEMON <mailer-daemon@example.com>", ""),
        ("Null <null@example.com>", "Return-Path: <>\r\n"),
    ],
)
def test_automatic_mail_is_never_answered(
    smtp: SmtpSink, receive: Callable[..., StoreResult], sender: str, extra: str
) -> None:
    receive(big(1, sender=sender, extra=extra))
    assert InboundMessage.objects.get().state == InboundState.REJECTED
    assert smtp.messages == []


def test_a_sender_the_mailbox_does_not_accept_is_not_answered(
    smtp: SmtpSink, receive: Callable[..., StoreResult]
) -> None:
    # Otherwise a forged From would turn the desk into a sender of unwanted mail.
    mailbox = Mailbox.objects.create(
        address="help@deskside.test", accepts_from=AcceptsFrom.KNOWN_PEOPLE
    )
    receive(big(1), mailbox)
    assert smtp.messages == []


def test_the_hourly_cap_applies(smtp: SmtpSink, receive: Callable[..., StoreResult]) -> None:
    with override_settings(MAIL_AUTO_LIMIT_PER_HOUR=2):
        for n in range(3):
            receive(big(n))
    assert len(smtp.messages) == 2
    suppressed = OutboundMail.objects.get(state=OutboundState.SUPPRESSED)
    assert suppressed.kind == OutboundKind.TOO_LARGE
    assert suppressed.suppressed_reason == SuppressedReason.RATE_LIMITED
