"""The tickets API's flows: list and filter, create, change, resolve, reopen, merge, link."""

from __future__ import annotations

import pytest

from deskside.api.testing import assert_error, token_client
from deskside.testing import Personas
from deskside.tickets import services
from deskside.tickets.models import (
    Category,
    Channel,
    LinkKind,
    Message,
    MessageKind,
    Status,
    StatusKind,
    Ticket,
    TicketEvent,
    TicketLink,
)
from deskside.tickets.tests.api_helpers import RESOLUTION, make_ticket, patch_json, post_json

pytestmark = pytest.mark.django_db

ENVELOPE = {"items", "count", "page", "page_size", "pages"}


# --- Listing ------------------------------------------------------------------------------


def test_list_is_paginated_and_uses_the_console_filters(personas: Personas) -> None:
    printing = make_ticket(personas.requester)
    urgent = make_ticket(personas.other_requester, subject="Server down")
    services.ticket_change_priority(ticket=urgent, actor=personas.agent, priority=1)
    client = token_client(personas.agent)

    body = client.get("/api/v1/tickets").json()
    assert set(body) == ENVELOPE
    assert {item["id"] for item in body["items"]} >= {printing.pk, urgent.pk}

    only_p1 = client.get("/api/v1/tickets?priority=1").json()
    assert [item["id"] for item in only_p1["items"]] == [urgent.pk]
    two = client.get(f"/api/v1/tickets?requester={personas.requester.pk}&kind=new").json()
    assert [item["id"] for item in two["items"]] == [printing.pk]
    by_number = client.get("/api/v1/tickets?sort=-created&page_size=1").json()
    assert by_number["items"][0]["id"] == printing.pk
    assert by_number["pages"] == 2


def test_requesters_list_only_their_own(personas: Personas) -> None:
    mine = make_ticket(personas.requester)
    make_ticket(personas.other_requester)
    body = token_client(personas.requester).get("/api/v1/tickets").json()
    assert [item["id"] for item in body["items"]] == [mine.pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("colour=red", "colour"),
        ("sort=cheapest", "sort"),
        ("q=printer", "q"),
        ("queue=everything", "queue"),
        ("priority=9", "priority"),
        ("created_after=last-week", "created_after"),
    ],
)
def test_unknown_filters_and_sort_keys_are_refused(
    personas: Personas, query: str, field: str
) -> None:
    response = token_client(personas.agent).get(f"/api/v1/tickets?{query}")
    error = assert_error(response, 400, "invalid")
    assert list(error["details"]["fields"]) == [field]
    assert error["details"]["fields"][field][0]["message"]


def test_the_unknown_sort_message_lists_the_keys(personas: Personas) -> None:
    error = assert_error(
        token_client(personas.agent).get("/api/v1/tickets?sort=cheapest"), 400, "invalid"
    )
    assert "priority" in error["message"]


# --- Creating -----------------------------------------------------------------------------


def test_requester_creates_a_ticket_for_themselves(personas: Personas) -> None:
    email = Category.objects.get(name="Email")
    response = post_json(
        token_client(personas.requester),
        "/api/v1/tickets",
        {"subject": "  Outlook  keeps asking for my password ", "description": "Since 9am.",
         "category_id": email.pk},
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    body = response.json()
    ticket = Ticket.objects.get(pk=body["id"])
    assert body["number"] == f"#{ticket.pk}"
    assert body["subject"] == "Outlook keeps asking for my password"
    assert ticket.requester == personas.requester
    assert ticket.channel == Channel.API
    assert body["category"] == {"id": email.pk, "name": "Email"}
    assert body["status"]["kind"] == "new"
    assert ticket.messages.get().body == "Since 9am."


def test_staff_create_for_someone_else_with_routing(personas: Personas) -> None:
    response = post_json(
        token_client(personas.agent),
        "/api/v1/tickets",
        {
            "subject": "New starter laptop",
            "description": "Logged from a call.",
            "requester_id": personas.requester.pk,
            "team_id": personas.team.pk,
            "assignee_id": personas.agent.pk,
            "priority": 2,
            "tags": ["Onboarding"],
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["requester"]["id"] == personas.requester.pk
    assert body["assignee"]["id"] == personas.agent.pk
    assert body["team"]["id"] == personas.team.pk
    assert body["status"]["kind"] == "open"
    assert body["priority"] == 2
    assert body["tags"] == ["onboarding"]


def test_requesters_cannot_open_tickets_for_others_or_route_them(personas: Personas) -> None:
    client = token_client(personas.requester)
    base = {"subject": "Help", "description": "Please."}
    error = assert_error(
        post_json(client, "/api/v1/tickets", {**base, "requester_id": personas.other_requester.pk}),
        400,
        "invalid",
    )
    assert list(error["details"]["fields"]) == ["requester_id"]
    error = assert_error(
        post_json(client, "/api/v1/tickets", {**base, "assignee_id": personas.agent.pk}),
        400,
        "invalid",
    )
    assert list(error["details"]["fields"]) == ["assignee_id"]
    assert not Ticket.objects.exists()


def test_create_problems_name_the_fields_sent(personas: Personas) -> None:
    client = token_client(personas.agent)
    error = assert_error(
        post_json(client, "/api/v1/tickets", {"subject": "  ", "description": "x"}), 400, "invalid"
    )
    assert list(error["details"]["fields"]) == ["subject"]
    error = assert_error(
        post_json(client, "/api/v1/tickets", {"subject": "Help", "description": "x",
                                              "category_id": 987654}),
        400,
        "invalid",
    )  # fmt: skip
    assert list(error["details"]["fields"]) == ["category_id"]
    error = assert_error(
        post_json(client, "/api/v1/tickets", {"subject": "Help"}), 422, "validation_failed"
    )
    assert list(error["details"]["fields"]) == ["description"]


def test_unknown_body_fields_are_refused_with_their_names(personas: Personas) -> None:
    ticket = make_ticket(personas.requester)
    client = token_client(personas.agent)
    error = assert_error(
        patch_json(client, f"/api/v1/tickets/{ticket.pk}", {"subject": "New", "priority": 1}),
        400,
        "unknown_field",
    )
    assert list(error["details"]["fields"]) == ["subject"]
    assert error["details"]["fields"]["subject"][0]["code"] == "extra_forbidden"
    ticket.refresh_from_db()
    assert ticket.priority == 3  # nothing changed, not even the known field

    error = assert_error(
        post_json(client, "/api/v1/tickets", {"subject": "a", "description": "b", "urgent": True}),
        400,
        "unknown_field",
    )
    assert list(error["details"]["fields"]) == ["urgent"]


# --- Changing -----------------------------------------------------------------------------


def test_patch_changes_only_what_is_sent(personas: Personas) -> None:
    ticket = make_ticket(personas.requester, team=personas.team)
    services.ticket_tag_add(ticket=ticket, actor=personas.agent, name="printer")
    waiting = Status.objects.get(kind=StatusKind.WAITING_REQUESTER)
    hardware = Category.objects.get(name="Hardware")
    response = patch_json(
        token_client(personas.agent),
        f"/api/v1/tickets/{ticket.pk}",
        {
            "status_id": waiting.pk,
            "priority": 2,
            "category_id": hardware.pk,
            "assignee_id": personas.agent.pk,
            "add_tags": ["Floor 2"],
            "remove_tags": ["printer"],
        },
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"]["id"] == waiting.pk
    assert body["priority"] == 2
    assert body["category"]["id"] == hardware.pk
    assert body["assignee"]["id"] == personas.agent.pk
    assert body["team"]["id"] == personas.team.pk  # not sent, so kept
    assert body["tags"] == ["floor 2"]
    actions = set(TicketEvent.objects.filter(ticket=ticket).values_list("action", flat=True))
    assert {"status", "priority", "category", "assign", "tag_added", "tag_removed"} <= actions


def test_patch_null_clears_assignee_and_team(personas: Personas) -> None:
    ticket = make_ticket(personas.requester, team=personas.team)
    services.ticket_assign(ticket=ticket, actor=personas.agent, assignee=personas.agent)
    body = patch_json(
        token_client(personas.agent),
        f"/api/v1/tickets/{ticket.pk}",
        {"assignee_id": None, "team_id": None},
    ).json()
    assert body["assignee"] is None
    assert body["team"] is None


def test_patch_is_all_or_nothing(personas: Personas) -> None:
    ticket = make_ticket(personas.requester)
    error = assert_error(
        patch_json(
            token_client(personas.agent),
            f"/api/v1/tickets/{ticket.pk}",
            {"priority": 1, "assignee_id": personas.requester.pk},
        ),
        400,
        "invalid",
    )
    assert list(error["details"]["fields"]) == ["assignee_id"]
    ticket.refresh_from_db()
    assert ticket.priority == 3


def test_patch_refuses_resolving_and_empty_required_values(personas: Personas) -> None:
    ticket = make_ticket(personas.requester)
    client = token_client(personas.agent)
    resolved = Status.objects.get(kind=StatusKind.RESOLVED)
    error = assert_error(
        patch_json(client, f"/api/v1/tickets/{ticket.pk}", {"status_id": resolved.pk}),
        400,
        "invalid",
    )
    assert list(error["details"]["fields"]) == ["status_id"]
    assert "Resolve" in error["message"]
    error = assert_error(
        patch_json(client, f"/api/v1/tickets/{ticket.pk}", {"priority": None}), 400, "invalid"
    )
    assert list(error["details"]["fields"]) == ["priority"]


def test_requester_may_not_change_their_ticket(personas: Personas) -> None:
    ticket = make_ticket(personas.requester)
    response = patch_json(
        token_client(personas.requester), f"/api/v1/tickets/{ticket.pk}", {"priority": 1}
    )
    assert_error(response, 403, "forbidden")


# --- Resolve and reopen -------------------------------------------------------------------


def test_resolve_needs_a_note_in_plain_words(personas: Personas) -> None:
    ticket = make_ticket(personas.requester)
    client = token_client(personas.agent)
    for body in ({}, {"note": "done"}):
        error = assert_error(
            post_json(client, f"/api/v1/tickets/{ticket.pk}/resolve", body), 400, "invalid"
        )
        assert list(error["details"]["fields"]) == ["note"]
        assert "what happened" in error["message"]
    ticket.refresh_from_db()
    assert ticket.status_kind == StatusKind.NEW


def test_resolve_then_the_requester_reopens(personas: Personas) -> None:
    ticket = make_ticket(personas.requester)
    response = post_json(
        token_client(personas.agent),
        f"/api/v1/tickets/{ticket.pk}/resolve",
        {"note": RESOLUTION, "first_contact": True},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"]["kind"] == "resolved"
    assert body["resolution_note"] == RESOLUTION
    assert body["first_contact_resolution"] is True
    assert body["resolved_at"] is not None

    reopened = post_json(
        token_client(personas.requester), f"/api/v1/tickets/{ticket.pk}/reopen", {}
    )
    assert reopened.status_code == 200, reopened.json()
    assert reopened.json()["status"]["kind"] == "open"
    assert reopened.json()["reopen_count"] == 1


def test_resolving_a_parent_with_open_children_needs_confirmation(personas: Personas) -> None:
    parent = make_ticket(personas.requester, subject="Email down for everyone")
    child = make_ticket(personas.other_requester, subject="I cannot send mail")
    services.ticket_link(source=parent, target=child, kind=LinkKind.PARENT, actor=personas.agent)
    client = token_client(personas.agent)
    path = f"/api/v1/tickets/{parent.pk}/resolve"
    error = assert_error(post_json(client, path, {"note": RESOLUTION}), 400, "invalid")
    assert list(error["details"]["fields"]) == ["confirm_open_children"]
    assert f"#{child.pk}" in error["message"]
    response = post_json(client, path, {"note": RESOLUTION, "confirm_open_children": True})
    assert response.status_code == 200


def test_reopen_with_no_body_at_all(personas: Personas) -> None:
    ticket = make_ticket(personas.requester)
    services.ticket_resolve(ticket=ticket, actor=personas.agent, note=RESOLUTION)
    # As curl -X POST sends it: no body and no content type.
    response = token_client(personas.agent).generic("POST", f"/api/v1/tickets/{ticket.pk}/reopen")
    assert response.status_code == 200, response.json()
    assert response.json()["status"]["kind"] == "open"


# --- Merge and links ----------------------------------------------------------------------


def test_merge_moves_the_conversation_and_points_to_the_survivor(personas: Personas) -> None:
    duplicate = make_ticket(personas.other_requester, body="Printer offline here too.")
    survivor = make_ticket(personas.requester)
    response = post_json(
        token_client(personas.agent),
        f"/api/v1/tickets/{duplicate.pk}/merge",
        {"into_id": survivor.pk},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["id"] == survivor.pk
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == survivor.pk
    assert duplicate.status_kind == StatusKind.CLOSED
    assert survivor.messages.filter(body="Printer offline here too.").exists()

    gone = token_client(personas.agent).get(f"/api/v1/tickets/{duplicate.pk}").json()
    assert gone["merged_into_id"] == survivor.pk


def test_merge_into_itself_is_refused(personas: Personas) -> None:
    ticket = make_ticket(personas.requester)
    error = assert_error(
        post_json(
            token_client(personas.agent),
            f"/api/v1/tickets/{ticket.pk}/merge",
            {"into_id": ticket.pk},
        ),
        400,
        "invalid",
    )
    assert list(error["details"]["fields"]) == ["into_id"]


def test_link_and_unlink(personas: Personas) -> None:
    first = make_ticket(personas.requester)
    second = make_ticket(personas.other_requester)
    client = token_client(personas.agent)
    response = post_json(
        client,
        f"/api/v1/tickets/{first.pk}/links",
        {"target_id": second.pk, "kind": "duplicate"},
    )
    assert response.status_code == 201, response.json()
    link = response.json()
    assert link["kind"] == "duplicate"
    assert (link["source_id"], link["target_id"]) == (first.pk, second.pk)
    # Seen from either end.
    for ticket in (first, second):
        links = client.get(f"/api/v1/tickets/{ticket.pk}").json()["links"]
        assert [item["id"] for item in links] == [link["id"]]

    # A link is removed through a ticket it belongs to, and only there.
    other = make_ticket(personas.requester, subject="Unrelated")
    assert_error(client.delete(f"/api/v1/tickets/{other.pk}/links/{link['id']}"), 404, "not_found")
    response = client.delete(f"/api/v1/tickets/{first.pk}/links/{link['id']}")
    assert response.status_code == 204
    assert not TicketLink.objects.exists()


def test_link_kind_must_be_known(personas: Personas) -> None:
    first = make_ticket(personas.requester)
    second = make_ticket(personas.other_requester)
    error = assert_error(
        post_json(
            token_client(personas.agent),
            f"/api/v1/tickets/{first.pk}/links",
            {"target_id": second.pk, "kind": "cousin"},
        ),
        422,
        "validation_failed",
    )
    assert list(error["details"]["fields"]) == ["kind"]


# --- Messages -----------------------------------------------------------------------------


def test_reply_and_note(personas: Personas) -> None:
    ticket = make_ticket(personas.requester)
    client = token_client(personas.agent)
    path = f"/api/v1/tickets/{ticket.pk}/messages"
    reply = post_json(client, path, {"body": "Try **turning it off** and on."})
    assert reply.status_code == 201, reply.json()
    assert reply.json()["kind"] == "public"
    assert "<strong>turning it off</strong>" in reply.json()["body_html"]
    assert reply.json()["channel"] == "api"
    note = post_json(client, path, {"kind": "note", "body": "Toner is low."})
    assert note.status_code == 201
    assert note.json()["kind"] == "note"

    listed = client.get(path).json()
    assert set(listed) == ENVELOPE
    assert [item["kind"] for item in listed["items"]] == ["public", "public", "note"]


def test_requesters_reply_but_may_not_write_notes(personas: Personas) -> None:
    ticket = make_ticket(personas.requester)
    client = token_client(personas.requester)
    path = f"/api/v1/tickets/{ticket.pk}/messages"
    assert post_json(client, path, {"body": "Still broken."}).status_code == 201
    assert_error(post_json(client, path, {"kind": "note", "body": "sneaky"}), 403, "forbidden")
    assert not Message.objects.filter(kind=MessageKind.NOTE).exists()


def test_empty_message_is_refused_with_the_field(personas: Personas) -> None:
    ticket = make_ticket(personas.requester)
    error = assert_error(
        post_json(
            token_client(personas.agent), f"/api/v1/tickets/{ticket.pk}/messages", {"body": " "}
        ),
        400,
        "invalid",
    )
    assert list(error["details"]["fields"]) == ["body"]


# --- Catalogues ---------------------------------------------------------------------------


def test_categories_and_statuses_are_paginated_lists(personas: Personas) -> None:
    Category.objects.filter(name="Phones").update(is_active=False)
    requester = token_client(personas.requester)
    categories = requester.get("/api/v1/categories").json()
    assert set(categories) == ENVELOPE
    names = [item["name"] for item in categories["items"]]
    assert "Email" in names
    assert "Phones" not in names
    staff = token_client(personas.agent).get("/api/v1/categories").json()
    staff_names = [item["name"] for item in staff["items"]]
    assert "Phones" in staff_names

    statuses = requester.get("/api/v1/statuses").json()
    assert {item["kind"] for item in statuses["items"]} == set(StatusKind.values)
    assert "Fixed" in {item["requester_label"] for item in statuses["items"]}
