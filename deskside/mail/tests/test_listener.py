"""The SMTP/LMTP listener, driven over loopback by smtplib as a real mail server would.

The listener runs in this process on its own thread and event loop, with its database
work on its own threads and so its own database connections, exactly as under
``deskside smtpd``. Tests therefore use ``transaction=True``: what the listener writes is
really committed, and what a test sets up is visible to the listener. (On SQLite the
test database is an in-memory database in shared-cache mode, which every connection of
this process sees.) The command itself is tested in a child process at the end.
"""

from __future__ import annotations

import asyncio
import signal
import smtplib
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from email.message import EmailMessage
from email.policy import SMTP
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError, connections
from django.test import Client, override_settings
from django.urls import reverse

from deskside.mail import listener as listener_module
from deskside.mail.intake import StoreResult, inbound_receive
from deskside.mail.listener import LINE_LENGTH_LIMIT, MAX_RECIPIENTS, Listener
from deskside.mail.models import InboundMessage, InboundSource, InboundState, Mailbox
from deskside.mail.tests.smtp_sink import SmtpSink, ensure_ticket_catalogue, running_sink
from deskside.system.tests.processes import free_port, run_deskside, running, wait_for
from deskside.testing import Personas
from deskside.tickets.models import Channel, MessageKind, Ticket

pytestmark = pytest.mark.django_db(transaction=True)

HOST = "127.0.0.1"
HELP = "help@deskside.test"
_numbers = count(1)


@contextmanager
def serving(*, lmtp: bool) -> Iterator[Listener]:
    """A listener on a free loopback port, run by a thread of its own until the end."""
    server = Listener(host=HOST, port=0, lmtp=lmtp)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    failures: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.start())
        except BaseException as exc:  # reported on the test's thread
            failures.append(exc)
            started.set()
            loop.close()
            return
        started.set()
        loop.run_forever()
        loop.run_until_complete(server.stop(grace=10))
        loop.close()

    thread = threading.Thread(target=run, name="listener", daemon=True)
    thread.start()
    assert started.wait(10), "the listener did not start"
    if failures:
        raise failures[0]
    try:
        yield server
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        assert not thread.is_alive(), "the listener did not stop"


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox.objects.create(address="Help@Deskside.test", name="Help")


@pytest.fixture
def smtp_server(mailbox: Mailbox) -> Iterator[Listener]:
    with serving(lmtp=False) as server:
        yield server


@pytest.fixture
def lmtp_server(mailbox: Mailbox) -> Iterator[Listener]:
    with serving(lmtp=True) as server:
        yield server


def smtp_client(server: Listener) -> smtplib.SMTP:
    client = smtplib.LMTP(HOST, server.port) if server.lmtp else smtplib.SMTP(HOST, server.port)
    client.ehlo_or_helo_if_needed()
    return client


def mail(
    *,
    sender: str = "Ada Requester <ada@example.com>",
    subject: str = "VPN drops every hour",
    body: str = "Since Monday the VPN disconnects every hour.",
    message_id: str | None = None,
    **headers: str,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = HELP
    message["Subject"] = subject
    message["Message-ID"] = message_id or f"<listener-{next(_numbers)}@mail.example.com>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    # Line ends as on the wire: smtplib sends bytes as they are.
    return message.as_bytes(policy=SMTP)


def send(
    server: Listener, raw: bytes, *, to: tuple[str, ...] = (HELP,), sender: str = "ada@example.com"
) -> list[tuple[int, bytes]]:
    """MAIL, RCPT and DATA without smtplib's SIZE parameter; returns every DATA reply.

    LMTP gives one reply per accepted recipient, which smtplib's sendmail does not read.
    """
    with closing(smtp_client(server)) as client:
        assert client.mail(sender)[0] == 250
        accepted = sum(client.rcpt(address)[0] == 250 for address in to)
        replies = [client.data(raw)]
        if server.lmtp:
            replies += [client.getreply() for _ in range(accepted - 1)]
        client.quit()
    return replies


# --- Accepting mail -------------------------------------------------------------------


def test_smtp_mail_for_a_mailbox_becomes_a_ticket(smtp_server: Listener, mailbox: Mailbox) -> None:
    ensure_ticket_catalogue()
    raw = mail(message_id="<first@mail.example.com>")
    with closing(smtp_client(smtp_server)) as client:
        assert client.sendmail("ada@example.com", ["HELP@deskside.TEST"], raw) == {}
        client.quit()

    stored = InboundMessage.objects.get()
    assert bytes(stored.raw) == raw  # byte for byte
    assert stored.source == InboundSource.SMTP
    assert stored.mailbox == mailbox
    assert stored.message_id == "first@mail.example.com"
    assert stored.envelope_sender == "ada@example.com"
    assert stored.envelope_recipients == "HELP@deskside.TEST"
    # Jobs run inline in tests, so processing has happened too.
    assert stored.state == InboundState.PROCESSED, stored.error
    assert stored.ticket is not None
    assert stored.ticket.subject == "VPN drops every hour"
    assert stored.ticket.channel == Channel.EMAIL


def test_the_greeting_names_no_software_and_advertises_the_size_limit(
    smtp_server: Listener,
) -> None:
    with override_settings(MAIL_MAX_MESSAGE_MB=3), closing(smtp_client(smtp_server)) as client:
        assert client.esmtp_features["size"] == str(3 * 1024 * 1024)
        assert "auth" not in client.esmtp_features  # no login, so no password to guess
        client.quit()
    with closing(smtplib.SMTP()) as raw_client:
        code, banner = raw_client.connect(HOST, smtp_server.port)
        assert code == 220
        assert b"Deskside" in banner
        assert b"Python" not in banner


def test_recipients_are_looked_up_once_and_a_mailbox_edit_is_seen_at_once(
    lmtp_server: Listener, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deskside.mail import listener as listener_module

    looked_up: list[str] = []
    real_lookup = listener_module.mailbox_for

    def counted(address: str) -> Mailbox | None:
        looked_up.append(address)
        return real_lookup(address)

    monkeypatch.setattr(listener_module, "mailbox_for", counted)
    with closing(smtp_client(lmtp_server)) as client:
        for _ in range(3):
            assert client.mail("ada@example.com")[0] == 250
            assert client.rcpt("HELP@deskside.test")[0] == 250
            client.rset()
        assert looked_up == ["help@deskside.test"]  # the next two were remembered
        mailbox.is_active = False
        mailbox.save()  # in this process: the listener forgets what it knew at once
        assert client.mail("ada@example.com")[0] == 250
        assert client.rcpt(HELP)[0] == 550
        client.quit()


def test_lmtp_answers_once_per_recipient_and_stores_the_message_once(
    lmtp_server: Listener,
) -> None:
    Mailbox.objects.create(address="it@deskside.test", name="IT")
    Mailbox.objects.create(address="old@deskside.test", name="Old", is_active=False)
    raw = mail()
    with closing(smtp_client(lmtp_server)) as client:
        assert client.esmtp_features["size"]  # LHLO advertises SIZE too
        assert client.mail("ada@example.com")[0] == 250
        assert client.rcpt(HELP)[0] == 250
        assert client.rcpt("nobody@deskside.test")[0] == 550
        assert client.rcpt("old@deskside.test")[0] == 550  # inactive mailboxes get nothing
        assert client.rcpt("IT@deskside.test")[0] == 250
        first = client.data(raw)
        second = client.getreply()
        # Nothing further is owed: the next command's reply is the next one read.
        assert client.noop() == (250, b"OK")
        client.quit()
    assert first[0] == second[0] == 250
    stored = InboundMessage.objects.get()
    assert stored.source == InboundSource.LMTP
    assert stored.mailbox is not None
    assert stored.mailbox.address == HELP  # the first accepted recipient's mailbox
    assert stored.envelope_recipients == f"{HELP}\nIT@deskside.test"


def test_a_bounce_keeps_its_null_sender(lmtp_server: Listener) -> None:
    raw = mail(sender="Mail Delivery System <MAILER-DAEMON@example.com>")
    [(code, _text)] = send(lmtp_server, raw, sender="<>")
    assert code == 250
    assert InboundMessage.objects.get().envelope_sender == ""


def test_a_message_sent_twice_is_acknowledged_twice_and_stored_once(
    smtp_server: Listener,
) -> None:
    ensure_ticket_catalogue()
    raw = mail()
    [(first, _text)] = send(smtp_server, raw)
    # The sender never saw our 250 (say, the connection dropped) and tries again.
    [(again, again_text)] = send(smtp_server, raw)
    assert first == again == 250
    assert b"Already received" in again_text
    assert InboundMessage.objects.count() == 1
    assert Ticket.objects.count() == 1


# --- Refusing mail --------------------------------------------------------------------


def test_unknown_recipients_are_refused_so_nothing_is_relayed(smtp_server: Listener) -> None:
    with closing(smtp_client(smtp_server)) as client:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            client.sendmail("ada@example.com", ["someone@elsewhere.example"], mail())
        [(code, text)] = refused.value.recipients.values()
        client.quit()
    assert code == 550
    assert text == b"5.1.1 <someone@elsewhere.example>: no such mailbox here"
    assert not InboundMessage.objects.exists()


def test_hostile_addresses_are_not_echoed_back(smtp_server: Listener) -> None:
    with closing(smtp_client(smtp_server)) as client:
        client.mail("ada@example.com")
        code, text = client.rcpt('"<script>\x7f"@example.com')
        client.quit()
    assert code == 550
    assert b"<script>" not in text
    assert b"\x7f" not in text


def test_too_many_recipients_are_refused(smtp_server: Listener) -> None:
    with closing(smtp_client(smtp_server)) as client:
        client.mail("ada@example.com")
        codes = [client.rcpt(HELP)[0] for _ in range(MAX_RECIPIENTS + 1)]
        client.quit()
    assert codes == [250] * MAX_RECIPIENTS + [452]


@override_settings(MAIL_MAX_MESSAGE_MB=1)
@pytest.mark.parametrize("lmtp", [False, True], ids=["smtp", "lmtp"])
def test_an_oversized_message_is_refused_while_it_arrives(mailbox: Mailbox, lmtp: bool) -> None:
    Mailbox.objects.create(address="it@deskside.test", name="IT")
    too_big = mail(body="x" * 70 * (1024 * 1024 // 70 + 10))
    expected = b"5.3.4 Message too large: the limit is 1 MB. Send large files as a link instead."
    with serving(lmtp=lmtp) as server:
        # A client that declares the size (smtplib does) is refused before sending it...
        with closing(smtp_client(server)) as client:
            with pytest.raises(smtplib.SMTPSenderRefused) as refused:
                client.sendmail("ada@example.com", [HELP], too_big)
            assert (refused.value.smtp_code, refused.value.smtp_error) == (552, expected)
            client.quit()
        # ...and one that does not is refused once the limit is passed, one reply per
        # recipient in LMTP, and the connection stays usable.
        replies = send(server, too_big, to=(HELP, "it@deskside.test"))
        assert replies == [(552, expected)] * (2 if lmtp else 1)
        assert send(server, mail()) == [(250, b"2.0.0 Stored as message %d" % _only_pk())]
    assert InboundMessage.objects.count() == 1


def test_an_endless_line_is_refused_once_per_lmtp_recipient(lmtp_server: Listener) -> None:
    Mailbox.objects.create(address="it@deskside.test", name="IT")
    endless = mail() + b"x" * (LINE_LENGTH_LIMIT + 10) + b"\r\n"
    replies = send(lmtp_server, endless, to=(HELP, "it@deskside.test"))
    assert [code for code, _text in replies] == [500, 500]
    assert not InboundMessage.objects.exists()
    # Lines longer than RFC 5321 allows, but not absurdly so, are still accepted.
    long_line = b"Message-ID: <long-line@mail.example.com>\r\n\r\n" + b"y" * 5000 + b"\r\n"
    assert send(lmtp_server, long_line)[0][0] == 250
    assert len(bytes(InboundMessage.objects.get().raw)) > 5000


def _only_pk() -> int:
    return int(InboundMessage.objects.get().pk)


# --- Failures: 451, and the sender keeps the message ----------------------------------


def test_any_failure_while_storing_is_a_temporary_451(
    smtp_server: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: Any) -> StoreResult:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(listener_module, "inbound_receive", broken)
    [(code, text)] = send(smtp_server, mail())
    assert code == 451
    assert text.startswith(b"4.3.0 ")
    assert b"fire" not in text  # internals stay in the log
    assert not InboundMessage.objects.exists()


@pytest.mark.parametrize("lmtp", [False, True], ids=["smtp", "lmtp"])
def test_a_failure_inside_the_store_leaves_nothing_half_stored(
    mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch, lmtp: bool
) -> None:
    Mailbox.objects.create(address="it@deskside.test", name="IT")
    real_save = InboundMessage.save
    failing = [True]

    def save_then_fail(self: InboundMessage, *args: Any, **kwargs: Any) -> None:
        real_save(self, *args, **kwargs)  # the row is written...
        if failing[0]:
            raise OperationalError("connection lost before COMMIT")  # ...then never committed

    monkeypatch.setattr(InboundMessage, "save", save_then_fail)
    raw = mail()
    with serving(lmtp=lmtp) as server:
        replies = send(server, raw, to=(HELP, "it@deskside.test"))
        assert [code for code, _text in replies] == [451] * (2 if lmtp else 1)
        assert not InboundMessage.objects.exists()

        failing[0] = False  # the database is back; the sender retries
        replies = send(server, raw, to=(HELP, "it@deskside.test"))
        assert [code for code, _text in replies] == [250] * (2 if lmtp else 1)
    assert InboundMessage.objects.count() == 1


def test_an_unreachable_database_defers_recipients(
    smtp_server: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    def database_down(address: str) -> Mailbox | None:
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(listener_module, "mailbox_for", database_down)
    with closing(smtp_client(smtp_server)) as client:
        client.mail("ada@example.com")
        code, text = client.rcpt(HELP)
        client.quit()
    assert code == 451
    assert text.startswith(b"4.3.0 ")


def _committed_elsewhere(message_id: str) -> bool:
    """Whether another connection (a new thread's) can see the message: it is committed."""
    seen: list[bool] = []

    def look() -> None:
        try:
            seen.append(InboundMessage.objects.filter(message_id=message_id).exists())
        finally:
            connections.close_all()

    reader = threading.Thread(target=look)
    reader.start()
    reader.join(30)
    return seen == [True]


def test_the_message_is_committed_before_the_250(
    lmtp_server: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[bool] = []

    def receive_and_check(**kwargs: Any) -> StoreResult:
        result = inbound_receive(**kwargs)
        # The listener answers as soon as this returns; by then others must see the row.
        checked.append(_committed_elsewhere("committed@mail.example.com"))
        return result

    monkeypatch.setattr(listener_module, "inbound_receive", receive_and_check)
    [(code, _text)] = send(lmtp_server, mail(message_id="<committed@mail.example.com>"))
    assert code == 250
    assert checked == [True]


# --- The whole conversation by email --------------------------------------------------


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with running_sink() as sink, override_settings(BASE_URL="https://help.example.com"):
        yield sink


def test_a_conversation_by_email_stays_on_one_ticket(
    lmtp_server: Listener, mailbox: Mailbox, personas: Personas, sink: SmtpSink, client: Client
) -> None:
    ensure_ticket_catalogue()
    mailbox.default_team = personas.team
    mailbox.save()

    # The requester writes in; she is acknowledged with the ticket's number.
    [(code, _text)] = send(lmtp_server, mail(subject="Printer on floor 3 jams"))
    assert code == 250
    ticket = Ticket.objects.get()
    assert ticket.requester == personas.requester
    [ack] = sink.messages
    assert ack.rcpt_tos == [personas.requester.email]
    assert f"[#{ticket.pk}]" in ack.message["Subject"]

    # An agent answers in the console's composer; the answer is mailed to her.
    client.force_login(personas.agent)
    answered = client.post(
        reverse("tickets:ticket_compose", args=[ticket.pk]),
        {"kind": "reply", "body": "Please restart it."},
    )
    assert answered.status_code == 302
    assert len(sink.messages) == 2
    answer = sink.messages[1]
    assert answer.rcpt_tos == [personas.requester.email]

    # Her mail program replies to that mail, citing it the standard way.
    references = f"{ack.message['Message-ID']} {answer.message['Message-ID']}"
    reply = mail(
        subject=f"Re: {answer.message['Subject']}",
        body="Restarted, and it works now. Thank you!",
        In_Reply_To=str(answer.message["Message-ID"]),
        References=references,
    )
    [(code, _text)] = send(lmtp_server, reply)
    assert code == 250

    assert Ticket.objects.count() == 1
    first, second = InboundMessage.objects.order_by("id")
    assert second.state == InboundState.PROCESSED, second.error
    assert first.ticket == second.ticket == ticket
    bodies = list(ticket.messages.order_by("id").values_list("kind", "body"))
    assert bodies[-1] == (MessageKind.PUBLIC, "Restarted, and it works now. Thank you!")
    assert len(bodies) == 3


# --- The command ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=False)
def test_the_command_refuses_to_start_on_an_outdated_database(tmp_path: Path) -> None:
    result = run_deskside(tmp_path / "data", "smtpd", "--port", str(free_port()))
    assert result.returncode == 1
    assert result.stderr.startswith("deskside: The database is missing ")
    assert "Run 'deskside migrate'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.django_db(transaction=False)
def test_the_command_explains_a_port_in_use(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_deskside(tmp_path / "data", "smtpd", "--lmtp", "--port", str(port))
    assert result.returncode == 1
    assert result.stderr == (
        f"deskside: Port {port} on {HOST} is already in use. Stop the other program or "
        "choose another port with --port.\n"
    )


@pytest.mark.django_db(transaction=False)
def test_the_command_listens_warns_when_exposed_and_stops_on_sigterm(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run_deskside(data, "migrate").returncode == 0
    port = free_port()
    with running(data, "smtpd", "--lmtp", "--host", "0.0.0.0", "--port", str(port)) as child:  # noqa: S104
        wait_for(
            lambda: f"Listening for mail (LMTP) on 0.0.0.0:{port}" in child.stderr,
            timeout=30,
            what="the listener to start",
            child=child,
        )
        assert "let only your mail server reach port" in child.stderr
        with closing(smtplib.LMTP(HOST, port)) as client:
            client.ehlo_or_helo_if_needed()
            client.mail("ada@example.com")
            assert client.rcpt(HELP)[0] == 550  # no mailboxes in this fresh desk
            client.quit()
        assert child.stop(signal.SIGTERM, timeout=30) == 0
    assert "Mail listener stopped." in child.stderr
    assert "Traceback" not in child.stderr
