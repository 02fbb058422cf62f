"""Every console address that takes a ticket number hides other teams' restricted tickets.

The list below is checked against the URL map, so a new ticket address cannot be added
without being covered here.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import get_resolver, reverse

from deskside.testing import Personas
from deskside.tickets import services
from deskside.tickets.models import Channel, Status, StatusKind, Ticket

# name -> (method, form data)
TICKET_URLS: dict[str, tuple[str, dict[str, str]]] = {
    "ticket": ("get", {}),
    "ticket_compose": ("post", {"kind": "reply", "body": "Hello"}),
    "ticket_preview": ("post", {"body": "Hello"}),
    "ticket_canned": ("post", {"body": "Hello"}),
    "ticket_presence": ("post", {"state": "viewing"}),
    "ticket_status": ("post", {}),
    "ticket_priority": ("post", {"priority": "1"}),
    "ticket_category": ("post", {"category": ""}),
    "ticket_assign": ("post", {"me": "1"}),
    "ticket_tag_add": ("post", {"tag": "secret"}),
    "ticket_tag_remove": ("post", {"tag": "secret"}),
    "ticket_watcher_add": ("post", {"email": "xena@example.com"}),
    "ticket_watcher_remove": ("post", {"watcher": "1"}),
    "ticket_resolve": ("post", {"note": "A long enough note about what happened here."}),
    "ticket_reopen": ("post", {}),
    "ticket_merge": ("post", {"target": "1"}),
    "ticket_link": ("post", {"kind": "related", "target": "1"}),
    "ticket_unlink": ("post", {"link": "1"}),
}


def test_every_ticket_address_is_listed() -> None:
    resolver = get_resolver().namespace_dict["tickets"][1]
    with_pk = {
        name
        for name in resolver.reverse_dict
        # Each entry is (possibilities, pattern, defaults, converters); a possibility is
        # (format string, parameter names).
        if isinstance(name, str) and "pk" in resolver.reverse_dict.getlist(name)[0][0][0][1]
    }
    assert with_pk - {"saved_filter_delete"} == set(TICKET_URLS)


@pytest.fixture
def hidden(personas: Personas) -> Ticket:
    personas.other_team.is_restricted = True
    personas.other_team.save()
    return services.ticket_create(
        actor=personas.requester,
        requester=personas.requester,
        subject="Payroll access for HR",
        body="Please grant access.",
        channel=Channel.PORTAL,
        team=personas.other_team,
    )


@pytest.mark.parametrize("name", sorted(TICKET_URLS))
def test_restricted_ticket_is_not_found_for_agent_outside_the_team(
    client: Client, personas: Personas, hidden: Ticket, name: str
) -> None:
    method, data = TICKET_URLS[name]
    if name == "ticket_status":
        data = {"status": str(Status.objects.get(kind=StatusKind.OPEN).pk)}
    client.force_login(personas.agent)
    address = reverse(f"tickets:{name}", kwargs={"pk": hidden.pk})
    response = getattr(client, method)(address, data)
    assert response.status_code == 404
    assert b"Payroll" not in response.content
    hidden.refresh_from_db()
    assert hidden.messages.count() == 1
    assert hidden.events.count() == 1  # only "created": nothing changed


@pytest.mark.parametrize("name", sorted(TICKET_URLS))
def test_team_member_reaches_every_address(
    client: Client, personas: Personas, hidden: Ticket, name: str
) -> None:
    method, data = TICKET_URLS[name]
    if name == "ticket_status":
        data = {"status": str(Status.objects.get(kind=StatusKind.OPEN).pk)}
    if name == "ticket_unlink":
        other = services.ticket_create(
            actor=personas.other_agent, requester=personas.requester, subject="Other",
            body="Other.", channel=Channel.PHONE, team=personas.other_team,
        )  # fmt: skip
        link = services.ticket_link(
            source=hidden, target=other, kind="related", actor=personas.other_agent
        )
        data = {"link": str(link.pk)}
    client.force_login(personas.other_agent)
    address = reverse(f"tickets:{name}", kwargs={"pk": hidden.pk})
    response = getattr(client, method)(address, data)
    assert response.status_code in (200, 302, 400)


def test_restricted_ticket_cannot_be_a_merge_or_link_target(
    client: Client, personas: Personas, hidden: Ticket
) -> None:
    mine = services.ticket_create(
        actor=personas.requester,
        requester=personas.requester,
        subject="Mine",
        body="Mine.",
        channel=Channel.PORTAL,
        team=personas.team,
    )
    client.force_login(personas.agent)
    for name, data in (
        ("ticket_merge", {"target": str(hidden.pk)}),
        ("ticket_link", {"kind": "related", "target": str(hidden.pk)}),
    ):
        response = client.post(reverse(f"tickets:{name}", kwargs={"pk": mine.pk}), data)
        assert response.status_code == 400
        assert f"There is no ticket #{hidden.pk} that you can see." in response.content.decode()
    hidden.refresh_from_db()
    assert hidden.merged_into is None


def test_other_queue_and_call_addresses_need_the_console(
    client: Client, personas: Personas
) -> None:
    addresses = [
        ("get", reverse("tickets:queue")),
        ("get", reverse("tickets:queue_poll")),
        ("get", reverse("tickets:queue_counts")),
        ("post", reverse("tickets:bulk_update")),
        ("post", reverse("tickets:saved_filter_save")),
        ("post", reverse("tickets:saved_filter_delete", kwargs={"pk": 1})),
        ("get", reverse("tickets:call")),
        ("get", reverse("tickets:call_people") + "?q=ada"),
    ]
    for method, address in addresses:
        response = getattr(client, method)(address)
        assert response.status_code == 302
        assert "/accounts/" in response["Location"]
    client.force_login(personas.requester)
    for method, address in addresses:
        response = getattr(client, method)(address)
        assert response.status_code == 302
        assert response["Location"] == reverse("portal:home")
