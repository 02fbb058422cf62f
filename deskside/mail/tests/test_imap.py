"""IMAP polling against a real Dovecot: store first, then clear the server; never twice."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from email.message import EmailMessage
from io import StringIO
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError
from django.test import Client, override_settings
from django.urls import reverse
from huey.contrib.djhuey import HUEY

from deskside.cli import CommandFailed
from deskside.mail import imap, intake, tasks
from deskside.mail.imap import PollResult, mailbox_poll, mailbox_poll_locked, mailboxes_poll
from deskside.mail.models import (
    AfterImport,
    ImapSecurity,
    InboundMessage,
    InboundSource,
    InboundState,
    Mailbox,
)
from deskside.mail.parsing import ParsedMail, parse_message
from deskside.mail.tests.dovecot import HOST, Dovecot, dovecot_fixture  # noqa: F401  (fixture)
from deskside.mail.tests.smtp_sink import SmtpSink, ensure_ticket_catalogue, running_sink
from deskside.system.tests.processes import free_port
from deskside.testing import Personas
from deskside.tickets.models import Channel, Ticket

pytestmark = pytest.mark.django_db

_numbers = count(1)


@pytest.fixture
def desk(personas: Personas) -> Personas:
    ensure_ticket_catalogue()
    return personas


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with running_sink() as sink, override_settings(BASE_URL="https://help.example.com"):
        yield sink


def mail(
    *,
    sender: str = "Ada Requester <ada@example.com>",
    subject: str | None = None,
    body: str = "Since Monday the VPN disconnects every hour.",
    message_id: str | None = None,
    **headers: str,
) -> bytes:
    number = next(_numbers)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "help@deskside.test"
    message["Subject"] = subject or f"VPN drops every hour ({number})"
    message["Message-ID"] = message_id or f"<imap-{number}@mail.example.com>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes().replace(b"\n", b"\r\n")


def make_mailbox(dovecot: Dovecot, desk: Personas | None = None, **fields: Any) -> Mailbox:
    user = fields.pop("imap_username", None) or dovecot.user()
    values: dict[str, Any] = {
        "address": f"{user}@deskside.test",
        "name": "Help",
        "imap_host": HOST,
        "imap_port": dovecot.port,
        "imap_security": ImapSecurity.NONE,
        "imap_username": user,
        "imap_password_file": str(dovecot.password_file()),
        "default_team": desk.team if desk is not None else None,
    }
    values.update(fields)
    return Mailbox.objects.create(**values)


# --- The normal path ---------------------------------------------------------------------


def test_a_poll_stores_the_mail_opens_tickets_and_moves_it(
    dovecot: Dovecot, desk: Personas
) -> None:
    mailbox = make_mailbox(dovecot, desk)
    raws = [mail(), mail(), mail()]
    dovecot.append(mailbox.imap_username, *raws)

    result = mailbox_poll(mailbox)

    assert result == PollResult(address=mailbox.address, fetched=3, stored=3, moved=3)
    assert dovecot.count(mailbox.imap_username) == 0
    assert sorted(dovecot.messages(mailbox.imap_username, "Deskside")) == sorted(raws)
    stored = list(InboundMessage.objects.order_by("id"))
    assert [bytes(row.raw) for row in stored] == raws  # exactly the bytes, oldest first
    assert {row.source for row in stored} == {InboundSource.IMAP}
    assert {row.mailbox_id for row in stored} == {mailbox.pk}
    assert {row.state for row in stored} == {InboundState.PROCESSED}
    assert Ticket.objects.filter(channel=Channel.EMAIL, team=desk.team).count() == 3
    mailbox.refresh_from_db()
    assert mailbox.last_polled_at is not None
    assert mailbox.last_error == ""


def test_an_empty_folder_is_a_successful_poll(dovecot: Dovecot) -> None:
    mailbox = make_mailbox(dovecot)
    assert mailbox_poll(mailbox) == PollResult(address=mailbox.address)
    mailbox.refresh_from_db()
    assert mailbox.last_polled_at is not None
    # Nothing was moved, so the folder for imported mail was not created needlessly.
    assert dovecot.folders(mailbox.imap_username) == ["INBOX"]


def test_delete_mode_removes_the_mail_from_the_server(dovecot: Dovecot) -> None:
    mailbox = make_mailbox(dovecot, after_import=AfterImport.DELETE)
    dovecot.append(mailbox.imap_username, mail(), mail())
    result = mailbox_poll(mailbox)
    assert (result.stored, result.deleted, result.moved) == (2, 2, 0)
    assert dovecot.count(mailbox.imap_username) == 0
    assert dovecot.folders(mailbox.imap_username) == ["INBOX"]
    assert InboundMessage.objects.count() == 2


@pytest.mark.parametrize(
    "missing", [{"MOVE"}, {"MOVE", "UIDPLUS"}], ids=["copy-uid-expunge", "copy-expunge"]
)
def test_servers_without_move_get_copy_and_expunge(
    dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch, missing: set[str]
) -> None:
    real = imap._capabilities
    monkeypatch.setattr(imap, "_capabilities", lambda conn: real(conn) - missing)
    mailbox = make_mailbox(dovecot)
    raws = [mail(), mail()]
    dovecot.append(mailbox.imap_username, *raws)
    assert mailbox_poll(mailbox).moved == 2
    assert dovecot.count(mailbox.imap_username) == 0
    assert sorted(dovecot.messages(mailbox.imap_username, "Deskside")) == sorted(raws)


def test_a_folder_name_with_spaces_and_non_ascii_letters(dovecot: Dovecot) -> None:
    mailbox = make_mailbox(dovecot, move_to_folder="Deskside \u2013 imported")
    dovecot.append(mailbox.imap_username, mail())
    assert mailbox_poll(mailbox).moved == 1
    # Servers name such folders in IMAP's modified UTF-7.
    encoded = imap._imap_utf7("Deskside \u2013 imported")
    assert encoded == "Deskside &IBM- imported"
    assert dovecot.count(mailbox.imap_username, encoded) == 1


def test_modified_utf7_follows_the_rfc() -> None:
    assert imap._imap_utf7("~peter/mail/台北/日本語") == "~peter/mail/&U,BTFw-/&ZeVnLIqe-"
    assert imap._imap_utf7("R&D") == "R&-D"
    assert imap._imap_utf7("INBOX") == "INBOX"


# --- Never twice ---------------------------------------------------------------------------


def test_the_same_message_twice_in_the_inbox_is_imported_once(dovecot: Dovecot) -> None:
    mailbox = make_mailbox(dovecot)
    raw = mail()
    dovecot.append(mailbox.imap_username, raw, raw)
    result = mailbox_poll(mailbox)
    assert (result.fetched, result.stored, result.duplicates, result.moved) == (2, 1, 1, 2)
    assert InboundMessage.objects.count() == 1
    assert Ticket.objects.count() == 1
    assert dovecot.count(mailbox.imap_username) == 0


class Crash(BaseException):
    """Stands in for the process dying: nothing in the poller may catch it."""


def test_a_crash_before_the_move_imports_once_and_clears_on_the_next_poll(
    dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    mailbox = make_mailbox(dovecot)
    raws = [mail(), mail()]
    dovecot.append(mailbox.imap_username, *raws)

    def die(*args: object) -> None:
        raise Crash

    monkeypatch.setattr(imap, "_move", die)
    with pytest.raises(Crash):
        mailbox_poll(mailbox)
    # Both messages (one chunk) were committed, then the process "died" before moving them.
    assert InboundMessage.objects.count() == 2
    assert dovecot.count(mailbox.imap_username) == 2

    monkeypatch.undo()
    result = mailbox_poll(mailbox)
    assert (result.stored, result.duplicates, result.moved) == (0, 2, 2)
    assert sorted(bytes(row.raw) for row in InboundMessage.objects.all()) == sorted(raws)
    assert Ticket.objects.count() == 2
    assert dovecot.count(mailbox.imap_username) == 0


def test_a_message_that_cannot_be_saved_stays_on_the_server_and_the_ones_before_it_go(
    dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    mailbox = make_mailbox(dovecot)
    first, refused, last = mail(), mail(body="disk full"), mail()
    dovecot.append(mailbox.imap_username, first, refused, last)
    receive = intake.inbound_receive

    def failing_receive(*, raw: bytes, **kwargs: Any) -> intake.StoreResult:
        if b"disk full" in raw:
            raise DatabaseError("database or disk is full")
        return receive(raw=raw, **kwargs)

    monkeypatch.setattr(imap, "inbound_receive", failing_receive)
    result = mailbox_poll(mailbox)

    # One chunk: the first message was saved, so it is moved; the rest wait on the server.
    assert "could not be saved" in result.error
    assert (result.stored, result.moved, result.errors) == (1, 1, 1)
    assert [bytes(row.raw) for row in InboundMessage.objects.all()] == [first]
    assert dovecot.count(mailbox.imap_username) == 2
    assert dovecot.count(mailbox.imap_username, mailbox.move_to_folder) == 1

    monkeypatch.undo()
    again = mailbox_poll(mailbox)
    assert (again.stored, again.moved, again.error) == (2, 2, "")
    assert dovecot.count(mailbox.imap_username) == 0


def test_a_message_that_fails_processing_is_quarantined_and_still_cleared(
    dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    def exploding_parse(raw: bytes) -> ParsedMail:
        if b"poison" in raw:
            raise RuntimeError("parser exploded on line 3")
        return parse_message(raw)

    monkeypatch.setattr(intake, "parse_message", exploding_parse)
    mailbox = make_mailbox(dovecot)
    poison = mail(body="poison")
    after = [mail(), mail()]
    dovecot.append(mailbox.imap_username, poison, *after)

    result = mailbox_poll(mailbox)

    assert (result.stored, result.moved, result.errors) == (3, 3, 0)
    bad = InboundMessage.objects.get(raw=poison)
    assert bad.state == InboundState.QUARANTINED
    assert bytes(bad.raw) == poison
    states = [InboundMessage.objects.get(raw=raw).state for raw in after]
    assert states == [InboundState.PROCESSED, InboundState.PROCESSED]
    assert dovecot.count(mailbox.imap_username) == 0


def test_a_backlog_is_taken_in_batches_oldest_first(dovecot: Dovecot) -> None:
    mailbox = make_mailbox(dovecot)
    raws = [mail() for _ in range(5)]
    dovecot.append(mailbox.imap_username, *raws)

    first = mailbox_poll(mailbox, batch=2)
    assert (first.fetched, first.moved, first.remaining) == (2, 2, 3)
    assert dovecot.count(mailbox.imap_username) == 3
    assert [bytes(r.raw) for r in InboundMessage.objects.order_by("id")] == raws[:2]

    assert mailbox_poll(mailbox, batch=2).remaining == 1
    assert mailbox_poll(mailbox, batch=2).remaining == 0
    assert [bytes(r.raw) for r in InboundMessage.objects.order_by("id")] == raws


@override_settings(MAIL_IMAP_BATCH=3)
def test_the_batch_size_is_a_setting(dovecot: Dovecot) -> None:
    mailbox = make_mailbox(dovecot)
    dovecot.append(mailbox.imap_username, *[mail() for _ in range(4)])
    assert mailbox_poll(mailbox).fetched == 3


# --- Problems an administrator can fix ---------------------------------------------------


def test_a_wrong_password_is_explained_and_other_mailboxes_still_polled(
    dovecot: Dovecot,
) -> None:
    broken = make_mailbox(dovecot, imap_password_file=str(dovecot.password_file("wrong")))
    working = make_mailbox(dovecot)
    dovecot.append(broken.imap_username, mail())
    dovecot.append(working.imap_username, mail())

    results = {result.address: result for result in mailboxes_poll()}

    assert results[broken.address].error == (
        f"Could not sign in to {HOST} as {broken.imap_username}: the server said "
        "“Authentication failed.”. Check the username and the password file."
    )
    assert results[working.address].stored == 1
    assert dovecot.count(broken.imap_username) == 1  # nothing lost
    broken.refresh_from_db()
    assert broken.last_error == results[broken.address].error
    assert broken.last_error_at is not None
    assert broken.last_polled_at is None

    # Fixed by the administrator: the next poll collects the mail and clears the error.
    Path(broken.imap_password_file).write_text("imap-test-password\n")
    assert mailbox_poll(broken).stored == 1
    broken.refresh_from_db()
    assert broken.last_error == ""
    assert broken.last_polled_at is not None


@pytest.mark.parametrize("problem", ["missing", "directory", "empty"])
def test_an_unreadable_password_file_is_explained(
    dovecot: Dovecot, tmp_path: Path, problem: str
) -> None:
    path = tmp_path / "imap-password"
    if problem == "directory":
        path.mkdir()
    elif problem == "empty":
        path.write_text("\n")
    mailbox = make_mailbox(dovecot, imap_password_file=str(path))
    dovecot.append(mailbox.imap_username, mail())
    error = mailbox_poll(mailbox).error
    if problem == "empty":
        assert error == f"The IMAP password file {path} is empty. Put the mailbox's password in it."
    else:
        assert error.startswith(f"Could not read the IMAP password file {path}: ")
        assert error.endswith(
            "Check that the file exists and that the Deskside service may read it."
        )
    assert dovecot.count(mailbox.imap_username) == 1


def test_a_mailbox_without_a_password_file_is_explained(dovecot: Dovecot) -> None:
    mailbox = make_mailbox(dovecot, imap_password_file="")
    assert mailbox_poll(mailbox).error == (
        "Enter the IMAP username and the full path of the file that holds the password."
    )


def test_a_refused_connection_is_explained(dovecot: Dovecot) -> None:
    port = free_port()  # nothing listens there
    mailbox = make_mailbox(dovecot, imap_port=port)
    result = mailbox_poll(mailbox)
    assert result.error == (
        f"{HOST}:{port} refused the connection. Check the server name and the port, and "
        "that the mail server is running."
    )
    mailbox.refresh_from_db()
    assert mailbox.last_error == result.error


def test_tls_to_a_server_without_tls_is_explained(dovecot: Dovecot) -> None:
    mailbox = make_mailbox(dovecot, imap_security=ImapSecurity.TLS)
    error = mailbox_poll(mailbox).error
    assert error.startswith(f"Could not set up a secure (TLS) connection to {HOST}:{dovecot.port}")
    assert error.endswith("Check the IMAP security setting and the port.")


def test_starttls_to_a_server_without_it_is_explained(dovecot: Dovecot) -> None:
    mailbox = make_mailbox(dovecot, imap_security=ImapSecurity.STARTTLS)
    assert mailbox_poll(mailbox).error.startswith(f"{HOST}:{dovecot.port} does not offer STARTTLS.")


def test_a_missing_folder_is_explained(dovecot: Dovecot) -> None:
    mailbox = make_mailbox(dovecot, imap_folder="Helpdesk")
    error = mailbox_poll(mailbox).error
    assert error.startswith(f"The folder “Helpdesk” could not be opened on {HOST}: ")
    assert error.endswith("Check the folder name (most servers call the inbox INBOX).")


def test_moving_into_the_folder_being_read_is_refused(dovecot: Dovecot) -> None:
    mailbox = make_mailbox(dovecot, move_to_folder="inbox")
    dovecot.append(mailbox.imap_username, mail())
    assert "the folder being read" in mailbox_poll(mailbox).error
    assert InboundMessage.objects.count() == 0


def test_an_unexpected_failure_is_recorded_not_raised(
    dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    def bug(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(imap, "_collect", bug)
    mailbox = make_mailbox(dovecot)
    result = mailbox_poll(mailbox)
    assert result.error == "Checking this mailbox failed unexpectedly: division by zero."
    mailbox.refresh_from_db()
    assert mailbox.last_error == result.error


# --- The periodic job, the lock and the command --------------------------------------------


def test_the_periodic_job_polls_every_active_imap_mailbox(dovecot: Dovecot) -> None:
    active = make_mailbox(dovecot)
    inactive = make_mailbox(dovecot, is_active=False)
    Mailbox.objects.create(address="lmtp@deskside.test", name="Listener only")
    dovecot.append(active.imap_username, mail())
    dovecot.append(inactive.imap_username, mail())

    tasks.mailboxes_poll_task.call_local()  # the per-mailbox jobs run inline in tests

    assert InboundMessage.objects.get().mailbox == active
    assert dovecot.count(active.imap_username) == 0
    assert dovecot.count(inactive.imap_username) == 1


@override_settings(MAIL_IMAP_BATCH=2)
def test_the_periodic_job_works_off_a_backlog_without_waiting_a_minute(
    dovecot: Dovecot,
) -> None:
    mailbox = make_mailbox(dovecot)
    dovecot.append(mailbox.imap_username, *[mail() for _ in range(5)])

    # One job; it queues the next batch itself (inline here) until the folder is empty.
    tasks.mailbox_poll_task.call_local(mailbox.pk)

    assert InboundMessage.objects.count() == 5
    assert dovecot.count(mailbox.imap_username) == 0


def test_a_mailbox_being_polled_elsewhere_is_skipped(dovecot: Dovecot) -> None:
    mailbox = make_mailbox(dovecot)
    dovecot.append(mailbox.imap_username, mail())
    lock = HUEY.lock_task(imap._lock_name(mailbox))
    lock.acquire()
    try:
        assert mailbox_poll_locked(mailbox).skipped
        assert dovecot.count(mailbox.imap_username) == 1
        # A holder silent for longer than any live poll was killed: its lock is taken over.
        HUEY.put(f"{imap._lock_name(mailbox)}.heartbeat", time.time() - 3600)
        result = mailbox_poll_locked(mailbox)
        assert (result.skipped, result.stored) == (False, 1)
    finally:
        lock.release()
    assert not HUEY.is_locked(imap._lock_name(mailbox))


def test_the_command_empties_a_mailbox_batch_after_batch(dovecot: Dovecot) -> None:
    mailbox = make_mailbox(dovecot)
    dovecot.append(mailbox.imap_username, *[mail() for _ in range(5)])
    out = StringIO()
    call_command("pollmail", "--mailbox", mailbox.address.upper(), "--batch", "2", stdout=out)
    assert f"{mailbox.address}: 5 collected (5 new, 0 already saved)" in out.getvalue()
    assert InboundMessage.objects.count() == 5
    assert dovecot.count(mailbox.imap_username) == 0


def test_the_command_fails_plainly(dovecot: Dovecot) -> None:
    with pytest.raises(CommandFailed, match=r"There is no mailbox nobody@deskside\.test"):
        call_command("pollmail", "--mailbox", "nobody@deskside.test")
    broken = make_mailbox(dovecot, imap_password_file=str(dovecot.password_file("wrong")))
    err = StringIO()
    with pytest.raises(CommandFailed, match=f"Could not check every mailbox: {broken.address}"):
        call_command("pollmail", stdout=StringIO(), stderr=err)
    assert "Could not sign in" in err.getvalue()


# --- End to end ----------------------------------------------------------------------------


def test_a_conversation_by_email_stays_on_one_ticket(
    dovecot: Dovecot,
    desk: Personas,
    smtp: SmtpSink,
    commit: Callable[[], AbstractContextManager[Any]],
    client: Client,
) -> None:
    mailbox = make_mailbox(dovecot, desk)
    dovecot.append(mailbox.imap_username, mail(subject="Printer on floor 3 jams"))
    with commit():
        assert mailbox_poll(mailbox).stored == 1
    ticket = Ticket.objects.get()
    assert ticket.requester == desk.requester
    [ack] = smtp.messages
    assert ack.rcpt_tos == [desk.requester.email]
    assert ack.message["Subject"] == f"[#{ticket.pk}] We have your request: {ticket.subject}"

    # The agent answers in the console, through the ticket page's composer.
    client.force_login(desk.agent)
    with commit():
        answered = client.post(
            reverse("tickets:ticket_compose", args=[ticket.pk]),
            {"kind": "reply", "body": "Which tray is it?"},
        )
    assert answered.status_code == 302
    reply = smtp.messages[1].message
    assert reply["In-Reply-To"].strip() == ack.message["Message-ID"].strip()

    # Ada answers the agent's reply from her mail program, as mail programs do.
    answer = mail(
        subject=f"Re: {reply['Subject']}",
        body="The bottom tray.\n\nOn Monday Xena wrote:\n> Which tray is it?",
        In_Reply_To=reply["Message-ID"],
        References=f"{ack.message['Message-ID']} {reply['Message-ID']}",
    )
    dovecot.append(mailbox.imap_username, answer)
    with commit():
        assert mailbox_poll(mailbox).stored == 1

    inbound = InboundMessage.objects.get(raw=answer)
    assert inbound.state == InboundState.PROCESSED
    assert inbound.ticket == ticket
    assert Ticket.objects.count() == 1
    bodies = list(ticket.messages.order_by("id").values_list("body", flat=True))
    assert len(bodies) == 3
    assert "The bottom tray." in bodies[-1]
    assert dovecot.count(mailbox.imap_username) == 0
