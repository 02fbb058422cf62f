"""A real SMTP server on loopback that keeps every message it receives, for tests.

Outbound mail is tested through Django's real SMTP backend talking to this server, so
the headers checked are the ones that actually crossed the wire.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import TypeVar, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.test import override_settings

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Received:
    """One message as the server got it: envelope, raw bytes and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage

    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return "" if part is None else cast(EmailMessage, part).get_content()

    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        return "" if part is None else cast(EmailMessage, part).get_content()


class SmtpSink:
    """The aiosmtpd handler: accepts everything (or refuses recipients when told to)."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.refuse_recipients = False
        self._lock = threading.Lock()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.refuse_recipients:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        parsed = BytesParser(policy=policy.default).parsebytes(raw)
        with self._lock:
            self.messages.append(
                Received(
                    mail_from=envelope.mail_from or "",
                    rcpt_tos=list(envelope.rcpt_tos),
                    raw=raw,
                    message=parsed,
                )
            )
        return "250 Message accepted"


def free_port() -> int:
    """A port nothing listens on right now (the kernel picks it, so tests do not collide)."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def smtp_settings(port: int) -> override_settings:
    """Point Django's real SMTP backend at ``port`` on loopback, without TLS or login."""
    return override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST=HOST,
        EMAIL_PORT=port,
        EMAIL_USE_TLS=False,
        EMAIL_USE_SSL=False,
        EMAIL_HOST_USER="",
        EMAIL_HOST_PASSWORD="",
        EMAIL_TIMEOUT=5,
    )


S = TypeVar("S", bound=SmtpSink)


@contextmanager
def serving_sink(sink: S) -> Iterator[S]:
    """Run ``sink`` on a free loopback port with Django pointed at it; stop it afterwards."""
    port = free_port()
    controller = Controller(sink, hostname=HOST, port=port)
    controller.start()
    try:
        with smtp_settings(port):
            yield sink
    finally:
        controller.stop()


@contextmanager
def running_sink() -> Iterator[SmtpSink]:
    """A plain sink, served as :func:`serving_sink` does."""
    with serving_sink(SmtpSink()) as sink:
        yield sink


def ensure_ticket_catalogue() -> None:
    """Create the default statuses and categories when migrations did not seed them.

    The mail tests also run with ``--no-migrations`` (the app's migration is generated
    when the email channel is integrated); the seed list stays the migration's own.
    """
    from importlib import import_module

    from django.apps import apps

    seed = import_module("deskside.tickets.migrations.0002_seed_catalogue").seed
    seed(apps, None)
