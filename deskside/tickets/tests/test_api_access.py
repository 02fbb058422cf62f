"""Nobody reaches a ticket they may not see through any API address: they get 404.

The addresses are enumerated, and checked against the OpenAPI document, so an endpoint
added later under /tickets/{ticket_id} or /attachments/{key} fails here until it is listed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from deskside.accounts.models import Team, User
from deskside.api.api import api
from deskside.api.testing import assert_error, token_client
from deskside.testing import Personas
from deskside.tickets import services
from deskside.tickets.attachments import UploadedFile
from deskside.tickets.models import Attachment, LinkKind, Message, MessageKind, Ticket
from deskside.tickets.tests.api_helpers import RESOLUTION, make_ticket

pytestmark = pytest.mark.django_db


@dataclass
class Hidden:
    """A ticket of requester A in a restricted team, with everything hanging off it."""

    ticket: Ticket
    elsewhere: Ticket  # another ticket of A's, in the same team
    link_id: int
    public_key: str
    note_key: str
    note_id: int


@pytest.fixture
def hidden(personas: Personas) -> Hidden:
    Team.objects.filter(pk=personas.other_team.pk).update(is_restricted=True)
    team = Team.objects.get(pk=personas.other_team.pk)
    ticket = make_ticket(
        personas.requester,
        team=team,
        files=(UploadedFile("screen.png", b"\x89PNG fake", "image/png"),),
    )
    elsewhere = make_ticket(personas.requester, subject="Second problem", team=team)
    note = services.ticket_add_note(
        ticket=ticket,
        actor=personas.other_agent,
        body="Their password is in the safe.",
        files=(UploadedFile("secret.txt", b"internal", "text/plain"),),
    )
    link = services.ticket_link(
        source=ticket, target=elsewhere, kind=LinkKind.RELATED, actor=personas.other_agent
    )
    public_key = Attachment.objects.get(ticket=ticket, message__kind=MessageKind.PUBLIC).key
    note_key = Attachment.objects.get(message=note).key
    return Hidden(ticket, elsewhere, link.pk, public_key, note_key, note.pk)


def _upload() -> dict[str, Any]:
    return {"files": SimpleUploadedFile("x.txt", b"hello", content_type="text/plain")}


Request = Callable[[Client, Hidden], Any]

# Every address that reaches one ticket or its parts. (method, path template, how to call)
ADDRESSES: list[tuple[str, str, Request]] = [
    ("get", "/tickets/{ticket_id}", lambda c, h: c.get(f"/api/v1/tickets/{h.ticket.pk}")),
    (
        "patch",
        "/tickets/{ticket_id}",
        lambda c, h: c.patch(
            f"/api/v1/tickets/{h.ticket.pk}", {"priority": 1}, content_type="application/json"
        ),
    ),
    (
        "post",
        "/tickets/{ticket_id}/resolve",
        lambda c, h: c.post(
            f"/api/v1/tickets/{h.ticket.pk}/resolve",
            {"note": RESOLUTION},
            content_type="application/json",
        ),
    ),
    (
        "post",
        "/tickets/{ticket_id}/reopen",
        lambda c, h: c.post(
            f"/api/v1/tickets/{h.ticket.pk}/reopen", {}, content_type="application/json"
        ),
    ),
    (
        "post",
        "/tickets/{ticket_id}/merge",
        lambda c, h: c.post(
            f"/api/v1/tickets/{h.ticket.pk}/merge",
            {"into_id": h.elsewhere.pk},
            content_type="application/json",
        ),
    ),
    (
        "post",
        "/tickets/{ticket_id}/links",
        lambda c, h: c.post(
            f"/api/v1/tickets/{h.ticket.pk}/links",
            {"target_id": h.elsewhere.pk, "kind": "related"},
            content_type="application/json",
        ),
    ),
    (
        "delete",
        "/tickets/{ticket_id}/links/{link_id}",
        lambda c, h: c.delete(f"/api/v1/tickets/{h.ticket.pk}/links/{h.link_id}"),
    ),
    (
        "get",
        "/tickets/{ticket_id}/messages",
        lambda c, h: c.get(f"/api/v1/tickets/{h.ticket.pk}/messages"),
    ),
    (
        "post",
        "/tickets/{ticket_id}/messages",
        lambda c, h: c.post(
            f"/api/v1/tickets/{h.ticket.pk}/messages",
            {"body": "Any news?"},
            content_type="application/json",
        ),
    ),
    (
        "post",
        "/tickets/{ticket_id}/attachments",
        lambda c, h: c.post(f"/api/v1/tickets/{h.ticket.pk}/attachments", _upload()),
    ),
    ("get", "/attachments/{key}", lambda c, h: c.get(f"/api/v1/attachments/{h.public_key}")),
]


def test_the_list_covers_every_address_below_a_ticket() -> None:
    schema = api.get_openapi_schema(path_prefix="/")
    reachable = {
        (method, path)
        for path, operations in schema["paths"].items()
        if re.search(r"\{(ticket_id|key)\}", path)
        for method in operations
    }
    assert reachable == {(method, path) for method, path, _call in ADDRESSES}


@pytest.mark.parametrize(
    ("method", "path", "call"), ADDRESSES, ids=[method + path for method, path, _ in ADDRESSES]
)
@pytest.mark.parametrize("who", ["other_requester", "agent"])
def test_outsiders_get_not_found_everywhere(
    personas: Personas, hidden: Hidden, who: str, method: str, path: str, call: Request
) -> None:
    outsider: User = getattr(personas, who)
    before = Message.objects.count(), Attachment.objects.count(), Ticket.objects.count()
    error = assert_error(call(token_client(outsider), hidden), 404, "not_found")
    assert error["details"] is None
    assert (Message.objects.count(), Attachment.objects.count(), Ticket.objects.count()) == before


@pytest.mark.parametrize("who", ["other_requester", "agent"])
def test_outsiders_do_not_find_it_in_lists(personas: Personas, hidden: Hidden, who: str) -> None:
    client = token_client(getattr(personas, who))
    for query in ["", f"?requester={personas.requester.pk}", f"?team={personas.other_team.pk}"]:
        body = client.get(f"/api/v1/tickets{query}").json()
        assert hidden.ticket.pk not in {item["id"] for item in body["items"]}, query


def test_not_found_looks_the_same_as_a_missing_ticket(personas: Personas, hidden: Hidden) -> None:
    client = token_client(personas.other_requester)
    hidden_answer = client.get(f"/api/v1/tickets/{hidden.ticket.pk}")
    missing_answer = client.get("/api/v1/tickets/99999999")
    assert hidden_answer.status_code == missing_answer.status_code == 404
    assert hidden_answer.json() == missing_answer.json()


def test_a_hidden_ticket_cannot_be_named_as_a_target(personas: Personas, hidden: Hidden) -> None:
    mine = make_ticket(personas.other_requester, actor=personas.agent)
    client = token_client(personas.agent)
    for path, body, field in [
        (f"/api/v1/tickets/{mine.pk}/merge", {"into_id": hidden.ticket.pk}, "into_id"),
        (
            f"/api/v1/tickets/{mine.pk}/links",
            {"target_id": hidden.ticket.pk, "kind": "related"},
            "target_id",
        ),
    ]:
        response = client.post(path, body, content_type="application/json")
        error = assert_error(response, 400, "invalid")
        assert list(error["details"]["fields"]) == [field]
    assert not Ticket.objects.filter(merged_into=hidden.ticket).exists()


def test_members_of_the_restricted_team_and_the_requester_can_see_it(
    personas: Personas, hidden: Hidden
) -> None:
    for person in (personas.other_agent, personas.it_manager, personas.requester):
        response = token_client(person).get(f"/api/v1/tickets/{hidden.ticket.pk}")
        assert response.status_code == 200, person


def test_requesters_never_see_internal_notes(personas: Personas, hidden: Hidden) -> None:
    requester = token_client(personas.requester)
    body = requester.get(f"/api/v1/tickets/{hidden.ticket.pk}/messages").json()
    kinds = {item["kind"] for item in body["items"]}
    assert "note" not in kinds
    assert hidden.note_id not in {item["id"] for item in body["items"]}
    assert "safe" not in str(body)
    assert_error(requester.get(f"/api/v1/attachments/{hidden.note_key}"), 404, "not_found")
    assert requester.get(f"/api/v1/attachments/{hidden.public_key}").status_code == 200

    staff = token_client(personas.other_agent)
    staff_body = staff.get(f"/api/v1/tickets/{hidden.ticket.pk}/messages").json()
    assert hidden.note_id in {item["id"] for item in staff_body["items"]}


def test_requesters_see_no_internal_routing(personas: Personas, hidden: Hidden) -> None:
    services.ticket_tag_add(ticket=hidden.ticket, actor=personas.other_agent, name="vip-angry")
    body = token_client(personas.requester).get(f"/api/v1/tickets/{hidden.ticket.pk}").json()
    assert body["team"] is None
    assert body["tags"] == []
    assert body["links"] == []
    staff = token_client(personas.other_agent).get(f"/api/v1/tickets/{hidden.ticket.pk}").json()
    assert staff["team"]["name"] == personas.other_team.name
    assert staff["tags"] == ["vip-angry"]
    assert [link["id"] for link in staff["links"]] == [hidden.link_id]


def test_links_to_tickets_the_caller_may_not_see_are_left_out(personas: Personas) -> None:
    Team.objects.filter(pk=personas.other_team.pk).update(is_restricted=True)
    restricted = make_ticket(personas.requester, team=personas.other_team)
    open_ticket = make_ticket(personas.requester, subject="Open to all agents")
    services.ticket_link(
        source=open_ticket, target=restricted, kind=LinkKind.RELATED, actor=personas.it_manager
    )
    body = token_client(personas.agent).get(f"/api/v1/tickets/{open_ticket.pk}").json()
    assert body["links"] == []
