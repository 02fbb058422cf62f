"""The console's email pages: mailbox health, the review list, and decisions on held mail."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from deskside.accounts.models import User
from deskside.mail.intake import inbound_dismiss, inbound_process, inbound_release, inbound_store
from deskside.mail.models import AcceptsFrom, InboundMessage, InboundState, Mailbox
from deskside.mail.selectors import mailbox_health
from deskside.testing import Personas
from deskside.tickets import services
from deskside.tickets.models import Channel, Ticket

FIXTURES = Path(__file__).parent / "fixtures"


def mail(
    n: int, *, sender: str = "stranger@elsewhere.test", subject: str = "Printer", body: str = ""
) -> bytes:
    return (
        f"From: Sam Stranger <{sender}>\r\nTo: help@deskside.test\r\n"
        f"Message-ID: <console-{n}@elsewhere.test>\r\nSubject: {subject}\r\n\r\n"
        f"{body or f'Body {n}'}\r\n"
    ).encode()


@pytest.fixture
def mailbox(db: None) -> Mailbox:
    return Mailbox.objects.create(
        address="help@deskside.test", name="Help", accepts_from=AcceptsFrom.KNOWN_PEOPLE
    )


def held(n: int, mailbox: Mailbox, **kwargs: str) -> InboundMessage:
    stored = inbound_store(raw=mail(n, **kwargs), source="imap", mailbox=mailbox).inbound
    result = inbound_process(stored.pk)
    assert result.state == InboundState.HELD
    return result


# --- Who may see it --------------------------------------------------------------------


@pytest.mark.parametrize("who", ["requester", "agent", "team_lead", "it_manager", "executive"])
def test_only_administrators_reach_the_email_pages(
    client: Client, personas: Personas, mailbox: Mailbox, who: str
) -> None:
    message = held(1, mailbox)
    client.force_login(getattr(personas, who))
    addresses = [
        reverse("mail:overview"),
        reverse("mail:inbound", args=[message.pk]),
        reverse("mail:inbound_download", args=[message.pk]),
    ]
    for address in addresses:
        response = client.get(address)
        # Requesters are sent to their portal; staff are told the page does not exist.
        assert response.status_code in (302, 404), address
        assert b"Sam Stranger" not in response.content
    for action in ("release", "reprocess", "dismiss"):
        response = client.post(reverse("mail:inbound_action", args=[message.pk, action]))
        assert response.status_code in (302, 404)
    message.refresh_from_db()
    assert message.state == InboundState.HELD


def test_signed_out_visitors_are_sent_to_sign_in(client: Client, mailbox: Mailbox) -> None:
    response = client.get(reverse("mail:overview"))
    assert response.status_code == 302
    assert "/accounts/" in response["Location"]


def test_services_check_the_reviewer_too(personas: Personas, mailbox: Mailbox) -> None:
    from django.http import Http404

    message = held(1, mailbox)
    with pytest.raises(Http404):
        inbound_release(message.pk, reviewer=personas.agent)
    with pytest.raises(Http404):
        inbound_dismiss(message.pk, reviewer=personas.it_manager)


# --- Health --------------------------------------------------------------------------------


def test_health_counts_the_last_day_per_mailbox(personas: Personas, mailbox: Mailbox) -> None:
    other = Mailbox.objects.create(address="hr-it@deskside.test", name="HR")
    held(1, mailbox)
    ok = inbound_store(
        raw=mail(2, sender="ada@example.com"), source="imap", mailbox=mailbox
    ).inbound
    inbound_process(ok.pk)
    old = inbound_store(
        raw=mail(3, sender="ada@example.com"), source="imap", mailbox=mailbox
    ).inbound
    InboundMessage.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=2))
    rows = {row.mailbox.address: row for row in mailbox_health(personas.admin)}
    help_row = rows["help@deskside.test"]
    assert help_row.received_recently == 2
    assert help_row.added_recently == 1
    assert help_row.needs_attention == 1
    assert help_row.status == "warning"
    assert help_row.last_received_at is not None
    assert rows["hr-it@deskside.test"].received_recently == 0
    assert rows["hr-it@deskside.test"].status == "ok"
    assert other.pk == rows["hr-it@deskside.test"].mailbox.pk
    assert mailbox_health(personas.agent) == []


def test_health_reports_failing_and_stale_imap_mailboxes(
    client: Client, personas: Personas, db: None
) -> None:
    now = timezone.now()
    Mailbox.objects.create(
        address="failing@deskside.test",
        name="Failing",
        imap_host="imap.example.test",
        imap_username="u",
        imap_password_file="/run/secrets/imap",
        last_polled_at=now - timedelta(hours=1),
        last_error="Could not sign in to imap.example.test: wrong password.",
        last_error_at=now,
    )
    Mailbox.objects.create(
        address="stale@deskside.test",
        name="Stale",
        imap_host="imap.example.test",
        imap_username="u",
        imap_password_file="/run/secrets/imap",
        last_polled_at=now - timedelta(hours=3),
    )
    Mailbox.objects.create(
        address="fine@deskside.test",
        name="Fine",
        imap_host="imap.example.test",
        imap_username="u",
        imap_password_file="/run/secrets/imap",
        last_polled_at=now,
        last_error="An old problem",
        last_error_at=now - timedelta(days=1),
    )
    statuses = {row.mailbox.address: row.status for row in mailbox_health(personas.admin)}
    assert statuses == {
        "failing@deskside.test": "error",
        "stale@deskside.test": "warning",
        "fine@deskside.test": "ok",
    }
    client.force_login(personas.admin)
    page = client.get(reverse("mail:overview")).content.decode()
    assert "Failing" in page
    assert "wrong password" in page
    assert "Is the background worker running?" in page
    assert "Working" in page


def test_overview_without_mailboxes_says_how_to_start(client: Client, personas: Personas) -> None:
    client.force_login(personas.admin)
    page = client.get(reverse("mail:overview")).content.decode()
    assert "No mailbox is set up yet" in page
    assert reverse("admin:mail_mailbox_add") in page
    assert "Nothing needs attention" in page


# --- The review list ------------------------------------------------------------------------


def test_review_list_shows_sender_subject_and_reason_escaped(
    client: Client, personas: Personas, mailbox: Mailbox
) -> None:
    held(1, mailbox, subject="<script>alert(1)</script> VPN down")
    client.force_login(personas.admin)
    page = client.get(reverse("mail:overview")).content.decode()
    assert "Sam Stranger" in page
    assert "stranger@elsewhere.test" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; VPN down" in page
    assert "<script>alert(1)" not in page
    assert "Sender is not known to this mailbox." in page


def test_review_list_pages_and_tabs(client: Client, personas: Personas, mailbox: Mailbox) -> None:
    for n in range(30):
        held(n, mailbox)
    processed = inbound_store(
        raw=mail(99, sender="ada@example.com", subject="Processed one"),
        source="imap",
        mailbox=mailbox,
    ).inbound
    inbound_process(processed.pk)
    client.force_login(personas.admin)
    first = client.get(reverse("mail:overview")).content.decode()
    assert first.count('class="queue-table__subject"') == 25
    assert 'rel="next"' in first
    second = client.get(reverse("mail:overview") + "?show=attention&page=2").content.decode()
    assert second.count('class="queue-table__subject"') == 5
    assert "Processed one" not in first + second
    everything = client.get(reverse("mail:overview") + "?show=all").content.decode()
    assert "Processed one" in everything
    # Nonsense in the address falls back to something sensible, never an error page.
    assert client.get(reverse("mail:overview") + "?show=bogus&page=x").status_code == 200


def test_review_list_reads_headers_without_loading_whole_messages(
    personas: Personas, mailbox: Mailbox
) -> None:
    from deskside.mail.selectors import HEADER_PREFIX_BYTES, inbound_list, summary_of

    big_body = "x" * (HEADER_PREFIX_BYTES * 4)
    inbound_store(raw=mail(1, subject="Large one", body=big_body), source="imap", mailbox=mailbox)
    row = inbound_list(personas.admin, "all").get()
    assert len(bytes(getattr(row, "head"))) == HEADER_PREFIX_BYTES  # noqa: B009  (an annotation)
    assert "raw" in row.get_deferred_fields()
    assert summary_of(row).subject == "Large one"


# --- The detail page and decisions ------------------------------------------------------------


def test_detail_shows_escaped_source_and_downloads_it(
    client: Client, personas: Personas, db: None
) -> None:
    hostile = (FIXTURES / "html_only_hostile.eml").read_bytes()
    stored = inbound_store(raw=hostile, source="imap", mailbox=None).inbound
    client.force_login(personas.admin)
    page = client.get(reverse("mail:inbound", args=[stored.pk])).content.decode()
    assert "&lt;script&gt;document.location" in page
    assert "<script>document.location" not in page
    download = client.get(reverse("mail:inbound_download", args=[stored.pk]))
    assert download.content == hostile
    assert download["Content-Type"] == "message/rfc822"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"


def test_release_as_a_new_ticket(client: Client, personas: Personas, mailbox: Mailbox) -> None:
    message = held(1, mailbox)
    client.force_login(personas.admin)
    response = client.post(
        reverse("mail:inbound_action", args=[message.pk, "release"]), {"ticket": ""}, follow=True
    )
    message.refresh_from_db()
    assert message.state == InboundState.PROCESSED
    assert message.ticket is not None
    assert message.ticket.requester.email == "stranger@elsewhere.test"
    assert message.reviewed_by == personas.admin
    assert message.reviewed_at is not None
    assert f"ticket #{message.ticket.pk}" in response.content.decode()


def test_release_onto_a_ticket_makes_the_sender_a_watcher(
    client: Client, personas: Personas, mailbox: Mailbox
) -> None:
    ticket = services.ticket_create(
        actor=personas.requester,
        requester=personas.requester,
        subject="Printer jam",
        body="Paper stuck",
        channel=Channel.PORTAL,
    )
    message = held(1, mailbox, subject=f"Re: [#{ticket.pk}] Printer jam")
    client.force_login(personas.admin)
    page = client.get(reverse("mail:inbound", args=[message.pk])).content.decode()
    assert f'value="{ticket.pk}"' in page  # the claimed number is offered
    client.post(
        reverse("mail:inbound_action", args=[message.pk, "release"]), {"ticket": f"#{ticket.pk}"}
    )
    message.refresh_from_db()
    assert message.state == InboundState.PROCESSED
    assert message.ticket == ticket
    sender = User.objects.get(email="stranger@elsewhere.test")
    assert ticket.watchers.filter(pk=sender.pk).exists()
    assert message.ticket_message is not None
    assert message.ticket_message.author == sender


def test_release_to_a_missing_ticket_says_so_and_keeps_the_message(
    client: Client, personas: Personas, mailbox: Mailbox
) -> None:
    message = held(1, mailbox)
    client.force_login(personas.admin)
    for value, expected in (
        ("999999", "There is no ticket #999999"),
        ("abc", "Enter a ticket number such as 1042"),
    ):
        response = client.post(
            reverse("mail:inbound_action", args=[message.pk, "release"]),
            {"ticket": value},
            follow=True,
        )
        assert expected in response.content.decode()
        message.refresh_from_db()
        assert message.state == InboundState.HELD
    assert Ticket.objects.count() == 0


def test_dismiss_keeps_the_source(client: Client, personas: Personas, mailbox: Mailbox) -> None:
    message = held(1, mailbox)
    client.force_login(personas.admin)
    client.post(reverse("mail:inbound_action", args=[message.pk, "dismiss"]))
    message.refresh_from_db()
    assert message.state == InboundState.REJECTED
    assert "Dismissed by Ari Admin" in message.error
    assert bytes(message.raw) == mail(1)
    # Not something that can be dismissed twice or released afterwards.
    response = client.post(
        reverse("mail:inbound_action", args=[message.pk, "release"]), follow=True
    )
    assert "Only messages held for review" in response.content.decode()


def test_reprocess_from_the_page_after_the_cause_is_fixed(
    client: Client, personas: Personas, mailbox: Mailbox
) -> None:
    message = held(1, mailbox)
    mailbox.accepts_from = AcceptsFrom.ANYONE
    mailbox.save()
    client.force_login(personas.admin)
    client.post(reverse("mail:inbound_action", args=[message.pk, "reprocess"]))
    message.refresh_from_db()
    assert message.state == InboundState.PROCESSED
    assert message.reviewed_by == personas.admin


def test_unknown_action_is_not_found(client: Client, personas: Personas, mailbox: Mailbox) -> None:
    message = held(1, mailbox)
    client.force_login(personas.admin)
    response = client.post(reverse("mail:inbound_action", args=[message.pk, "explode"]))
    assert response.status_code == 404


def test_nav_link_only_for_administrators(client: Client, personas: Personas) -> None:
    client.force_login(personas.admin)
    assert reverse("mail:overview") in client.get(reverse("tickets:queue")).content.decode()
    client.force_login(personas.agent)
    assert reverse("mail:overview") not in client.get(reverse("tickets:queue")).content.decode()
