"""My requests: own and watched tickets only, open first, paginated, in plain words."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from deskside.accounts.models import User
from deskside.portal import views
from deskside.testing import Personas
from deskside.tickets import services
from deskside.tickets.models import Channel, Ticket
from deskside.tickets.statuses import default_status

LIST = reverse("portal:tickets")


def _ticket(requester: User, subject: str) -> Ticket:
    return services.ticket_create(
        actor=requester, requester=requester, subject=subject, body="Details.",
        channel=Channel.PORTAL,
    )  # fmt: skip


def test_shows_own_and_watched_tickets_only(client: Client, personas: Personas) -> None:
    _ticket(personas.requester, "Ada's own laptop")
    watched = _ticket(personas.other_requester, "Bob's shared printer")
    _ticket(personas.other_requester, "Bob's private matter")
    services.ticket_watcher_add(ticket=watched, actor=personas.agent, watcher=personas.requester)
    # An agent's own request shows in their portal; tickets they merely work on do not.
    _ticket(personas.agent, "Xena's own monitor")

    client.force_login(personas.requester)
    page = client.get(LIST).content.decode()
    assert "Ada&#x27;s own laptop" in page
    assert "Bob&#x27;s shared printer" in page
    assert "following this" in page
    assert "Bob&#x27;s private matter" not in page
    assert "Xena" not in page

    client.force_login(personas.agent)
    page = client.get(LIST).content.decode()
    assert "Xena&#x27;s own monitor" in page
    assert "Ada&#x27;s own laptop" not in page


def test_open_first_with_requester_labels(client: Client, personas: Personas) -> None:
    done = _ticket(personas.requester, "Old keyboard problem")
    services.ticket_resolve(
        ticket=done, actor=personas.agent, note="We replaced the keyboard; spill nothing on it."
    )
    waiting = _ticket(personas.requester, "New VPN problem")
    services.ticket_reply(
        ticket=waiting, actor=personas.agent, body="Which office?",
        status=default_status("waiting_requester"),
    )  # fmt: skip
    client.force_login(personas.requester)
    page = client.get(LIST).content.decode()
    assert page.index("New VPN problem") < page.index("Old keyboard problem")
    assert "Waiting for you" in page
    assert "Fixed" in page
    assert "Waiting on requester" not in page  # the agents' name for it


def test_paginated(client: Client, personas: Personas, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for number in range(5):
        _ticket(personas.requester, f"Problem number {number}")
    client.force_login(personas.requester)
    first = client.get(LIST).content.decode()
    assert "Page 1 of 3" in first
    assert "Problem number 4" in first
    assert "Problem number 0" not in first
    last = client.get(LIST, {"page": 3}).content.decode()
    assert "Problem number 0" in last
    # A page number that is not one shows a real page rather than an error.
    assert client.get(LIST, {"page": "zzz"}).status_code == 200


def test_home_lists_open_requests(client: Client, personas: Personas) -> None:
    _ticket(personas.requester, "Screen flickers")
    client.force_login(personas.requester)
    page = client.get(reverse("portal:home")).content.decode()
    assert "How can IT help?" in page
    assert "Ask for help" in page
    assert "Screen flickers" in page
