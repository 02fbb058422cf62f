"""Email onto the desk: identity, threading by proof, agent notes and loop safety."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from email.message import EmailMessage
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from deskside.accounts.models import EmailAddress, Role, User
from deskside.mail.apply import split_note_marker
from deskside.mail.intake import inbound_process, inbound_store
from deskside.mail.models import (
    AcceptsFrom,
    InboundMessage,
    InboundState,
    Mailbox,
    OutboundKind,
    OutboundMail,
)
from deskside.mail.outbound import make_message_id
from deskside.mail.tests.smtp_sink import ensure_ticket_catalogue
from deskside.testing import Personas
from deskside.tickets import services
from deskside.tickets.models import Channel, MessageKind, Ticket

FIXTURES = Path(__file__).parent / "fixtures"
_numbers = count(1)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "files"


@pytest.fixture
def desk(personas: Personas) -> Personas:
    ensure_ticket_catalogue()
    return personas


@pytest.fixture
def mailbox(desk: Personas) -> Mailbox:
    return Mailbox.objects.create(address="help@deskside.test", name="Help", default_team=desk.team)


def mail(
    *,
    sender: str = "Ada Requester <ada@example.com>",
    subject: str = "VPN drops every hour",
    body: str = "Since Monday the VPN disconnects every hour.",
    **headers: str,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "help@deskside.test"
    message["Subject"] = subject
    message["Message-ID"] = headers.pop("Message_ID", f"<apply-{next(_numbers)}@mail.example.com>")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


def deliver(raw: bytes, mailbox: Mailbox | None) -> InboundMessage:
    stored = inbound_store(raw=raw, source="lmtp", mailbox=mailbox).inbound
    return inbound_process(stored.pk)


def acknowledgements() -> int:
    return OutboundMail.objects.filter(kind=OutboundKind.ACKNOWLEDGEMENT).count()


def email_ticket(desk: Personas, commit: Callable[[], AbstractContextManager[Any]]) -> Ticket:
    with commit():
        return services.ticket_create(
            actor=desk.requester,
            requester=desk.requester,
            subject="VPN drops every hour",
            body="Since Monday the VPN disconnects every hour.",
            channel=Channel.EMAIL,
            team=desk.team,
        )


def our_mail_to(ticket: Ticket, address: str) -> str:
    return OutboundMail.objects.get(ticket=ticket, to_address=address).message_id


# --- New tickets and identity --------------------------------------------------------


def test_a_plain_mail_from_a_stranger_opens_a_ticket_with_its_files(
    mailbox: Mailbox, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    raw = (FIXTURES / "attachments.eml").read_bytes().replace(b"ada@example.com", b"new@x.org")
    with commit():
        inbound = deliver(raw, mailbox)
    assert inbound.state == InboundState.PROCESSED, inbound.error
    ticket = inbound.ticket
    assert ticket is not None
    assert ticket.channel == Channel.EMAIL
    assert ticket.subject == "Invoice and screenshot for the expense system error"
    assert ticket.team == mailbox.default_team
    requester = User.objects.get(email="new@x.org")
    assert requester.full_name == "Ada Requester"
    assert requester.role == Role.REQUESTER
    assert ticket.requester == requester
    message = ticket.messages.get()
    assert inbound.ticket_message == message
    assert message.channel == Channel.EMAIL
    assert "upload this invoice" in message.body
    assert sorted(message.attachments.values_list("filename", flat=True)) == [
        "invoice-2025-03.pdf",
        "screenshot.png",
    ]
    assert acknowledgements() == 1


def test_a_known_sender_is_found_by_any_of_their_addresses(desk: Personas) -> None:
    EmailAddress.objects.create(user=desk.requester, email="ada.r@branch.example.com")
    inbound = deliver(mail(sender="ADA <Ada.R@Branch.Example.com>"), None)
    assert inbound.ticket is not None
    assert inbound.ticket.requester == desk.requester
    assert User.objects.filter(email__icontains="branch").count() == 0


def test_reply_to_is_never_the_identity(desk: Personas) -> None:
    inbound = deliver(
        mail(sender="Mallory <mallory@evil.example>", Reply_To="ada@example.com"), None
    )
    assert inbound.ticket is not None
    assert inbound.ticket.requester.email == "mallory@evil.example"


def test_a_stranger_without_a_display_name_is_named_by_the_local_part(db: None) -> None:
    ensure_ticket_catalogue()
    inbound = deliver(mail(sender="carol.jones@example.org"), None)
    assert inbound.ticket is not None
    assert inbound.ticket.requester.full_name == "carol.jones"


def test_a_known_people_only_mailbox_holds_mail_from_strangers(
    desk: Personas, mailbox: Mailbox
) -> None:
    mailbox.accepts_from = AcceptsFrom.KNOWN_PEOPLE
    mailbox.save()
    held = deliver(mail(sender="Stranger <stranger@elsewhere.example>"), mailbox)
    assert held.state == InboundState.HELD
    assert held.error == "Sender is not known to this mailbox."
    assert held.ticket is None
    assert not User.objects.filter(email="stranger@elsewhere.example").exists()
    known = deliver(mail(), mailbox)
    assert known.state == InboundState.PROCESSED
    assert known.ticket is not None


def test_a_known_domains_mailbox_holds_other_domains(desk: Personas, mailbox: Mailbox) -> None:
    mailbox.accepts_from = AcceptsFrom.KNOWN_DOMAINS
    mailbox.known_domains = "example.com\n"
    mailbox.save()
    assert deliver(mail(sender="x@other.example"), mailbox).state == InboundState.HELD
    new = deliver(mail(sender="New Colleague <newbie@example.com>"), mailbox)
    assert new.state == InboundState.PROCESSED
    assert new.ticket is not None


# --- Threading -----------------------------------------------------------------------


def test_a_reply_to_our_mail_lands_on_the_same_ticket(
    desk: Personas, mailbox: Mailbox, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    ticket = email_ticket(desk, commit)
    ours = our_mail_to(ticket, desk.requester.email)
    raw = mail(
        subject=f"Re: [#{ticket.pk}] VPN drops every hour",
        body="It happened again at 10:00.\n\nOn Mon, Ada wrote:\n> old text",
        In_Reply_To=ours,
        References=ours,
        X_Deskside_Reply_Token="999.forged",
    )
    inbound = deliver(raw, mailbox)
    assert inbound.state == InboundState.PROCESSED, inbound.error
    assert inbound.ticket == ticket
    assert inbound.ticket_message is not None
    assert inbound.ticket_message.body == "It happened again at 10:00."
    assert inbound.ticket_message.channel == Channel.EMAIL
    assert ticket.messages.count() == 2


def test_a_reply_to_an_earlier_inbound_mail_threads_too(desk: Personas, mailbox: Mailbox) -> None:
    first = deliver(mail(), mailbox)
    assert first.ticket is not None
    follow = deliver(mail(body="More detail.", In_Reply_To=f"<{first.message_id}>"), mailbox)
    assert follow.ticket == first.ticket


def test_the_same_reply_from_a_stranger_opens_a_new_ticket(
    desk: Personas, mailbox: Mailbox, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    ticket = email_ticket(desk, commit)
    ours = our_mail_to(ticket, desk.requester.email)
    raw = mail(
        sender="Bob <bob@example.com>",
        subject="Re: VPN drops every hour",
        In_Reply_To=ours,
        References=ours,
    )
    inbound = deliver(raw, mailbox)
    assert inbound.state == InboundState.PROCESSED
    assert inbound.ticket is not None
    assert inbound.ticket != ticket
    assert inbound.ticket.requester == desk.other_requester
    assert ticket.messages.count() == 1


def test_a_stranger_citing_a_ticket_number_is_held(
    desk: Personas, mailbox: Mailbox, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    ticket = email_ticket(desk, commit)
    ours = our_mail_to(ticket, desk.requester.email)
    raw = mail(sender="bob@example.com", subject=f"Re: [#{ticket.pk}] VPN", In_Reply_To=ours)
    inbound = deliver(raw, mailbox)
    assert inbound.state == InboundState.HELD
    assert inbound.ticket is None


def test_a_ticket_number_in_the_subject_alone_never_threads(
    desk: Personas, mailbox: Mailbox, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    ticket = email_ticket(desk, commit)
    inbound = deliver(mail(subject=f"Re: [#{ticket.pk}] VPN drops every hour"), mailbox)
    assert inbound.state == InboundState.HELD
    assert f"#{ticket.pk}" in inbound.error
    assert inbound.ticket is None
    assert ticket.messages.count() == 1
    assert Ticket.objects.count() == 1


def test_a_forged_token_proves_nothing(desk: Personas, mailbox: Mailbox) -> None:
    ticket = services.ticket_create(
        actor=desk.requester, requester=desk.requester, subject="s", body="b", channel="email"
    )
    forged = f"<deskside.{ticket.pk}.00ff00ff.abcd@deskside.test>"
    inbound = deliver(mail(subject="Re: hello", In_Reply_To=forged), mailbox)
    assert inbound.ticket != ticket


# --- Agents by email -----------------------------------------------------------------


def test_an_agent_reply_is_public_and_note_makes_it_internal(
    desk: Personas, mailbox: Mailbox, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    ticket = email_ticket(desk, commit)
    reference = make_message_id(ticket.pk)  # as an agent's mail client would cite it
    public = deliver(
        mail(sender=desk.agent.email, body="Try the new profile.", In_Reply_To=reference),
        mailbox,
    )
    assert public.ticket == ticket
    assert public.ticket_message is not None
    assert public.ticket_message.kind == MessageKind.PUBLIC
    assert public.ticket_message.author == desk.agent

    note = deliver(
        mail(
            sender=desk.agent.email,
            body="\n#note\nThe user's token expired; renewed it.",
            In_Reply_To=reference,
        ),
        mailbox,
    )
    assert note.ticket == ticket
    assert note.ticket_message is not None
    assert note.ticket_message.kind == MessageKind.NOTE
    assert note.ticket_message.body == "The user's token expired; renewed it."
    assert note.ticket_message.channel == Channel.EMAIL


def test_note_marker_only_counts_on_the_first_line() -> None:
    assert split_note_marker("#NOTE\nhidden") == (True, "hidden")
    assert split_note_marker("hello\n#note") == (False, "hello\n#note")


# --- Loop safety ---------------------------------------------------------------------


def test_an_auto_reply_is_never_acknowledged(
    desk: Personas, mailbox: Mailbox, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    raw = mail(
        sender="Zed <zed@example.org>",
        subject="Automatic reply: out of office",
        body="I am away until Monday.",
        Auto_Submitted="auto-replied",
    )
    with commit():
        inbound = deliver(raw, mailbox)
    assert inbound.state == InboundState.PROCESSED
    assert inbound.ticket is not None
    assert acknowledgements() == 0


@pytest.mark.parametrize(
    "headers",
    [{"Precedence": "bulk"}, {"List_Id": "<news.lists.example.com>"}, {"Return_Path": "<>"}],
)
def test_list_and_bulk_mail_is_never_acknowledged(
    desk: Personas,
    mailbox: Mailbox,
    commit: Callable[[], AbstractContextManager[Any]],
    headers: dict[str, str],
) -> None:
    with commit():
        inbound = deliver(mail(sender="news@vendor.example", **headers), mailbox)
    assert inbound.ticket is not None
    assert acknowledgements() == 0


def test_an_auto_reply_does_not_reopen_a_finished_ticket(
    desk: Personas, mailbox: Mailbox, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    ticket = email_ticket(desk, commit)
    ours = our_mail_to(ticket, desk.requester.email)
    services.ticket_resolve(ticket=ticket, actor=desk.agent, note="Replaced the VPN profile.")
    inbound = deliver(mail(Auto_Submitted="auto-replied", In_Reply_To=ours), mailbox)
    assert inbound.state == InboundState.PROCESSED
    assert inbound.ticket == ticket
    assert inbound.ticket_message is None
    assert Ticket.objects.count() == 1


def test_a_bounce_makes_no_ticket(
    desk: Personas, mailbox: Mailbox, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    with commit():
        inbound = deliver((FIXTURES / "bounce_dsn.eml").read_bytes(), mailbox)
    assert inbound.state == InboundState.PROCESSED
    assert "delivery failure" in inbound.error
    assert inbound.ticket is None
    assert not Ticket.objects.exists()
    assert not User.objects.filter(email__icontains="mailer-daemon").exists()
    assert acknowledgements() == 0


def test_our_own_mail_coming_back_is_not_applied(
    desk: Personas, mailbox: Mailbox, commit: Callable[[], AbstractContextManager[Any]]
) -> None:
    ticket = email_ticket(desk, commit)
    ours = OutboundMail.objects.get(ticket=ticket)
    inbound = deliver(mail(sender="ada@example.com", Message_ID=ours.message_id), mailbox)
    assert inbound.state == InboundState.DUPLICATE
    assert ticket.messages.count() == 1

    with override_settings(DEFAULT_FROM_EMAIL="Deskside <desk@deskside.test>"):
        looped = deliver(mail(sender="desk@deskside.test"), mailbox)
    assert looped.state == InboundState.DUPLICATE
    assert Ticket.objects.count() == 1


def test_a_permanent_bounce_stops_mail_until_the_person_writes_again(
    desk: Personas,
    mailbox: Mailbox,
    commit: Callable[[], AbstractContextManager[Any]],
) -> None:
    from deskside.accounts.services import person_create
    from deskside.mail.models import SuppressedReason

    gone = person_create(email="gone@example.com", full_name="Gone Person")
    with commit():
        deliver((FIXTURES / "bounce_dsn.eml").read_bytes(), mailbox)
    address = EmailAddress.objects.get(email="gone@example.com")
    assert address.undeliverable_since is not None
    assert address.undeliverable_reason.startswith("5.1.1")

    # The desk does not keep mailing an address that bounced for good.
    with commit():
        services.ticket_create(
            actor=gone, requester=gone, subject="Printer", body="It jams.", channel=Channel.PORTAL
        )
    row = OutboundMail.objects.get(to_address__icontains="gone@example.com")
    assert row.suppressed_reason == SuppressedReason.UNDELIVERABLE

    # Mail from the address proves it works again.
    with commit():
        deliver(mail(sender="Gone Person <gone@example.com>", subject="Back again"), mailbox)
    address.refresh_from_db()
    assert address.undeliverable_since is None
