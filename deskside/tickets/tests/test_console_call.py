"""Log a call: find or add the caller, then resolve on the spot or hand on."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from deskside.accounts.models import User
from deskside.testing import Personas
from deskside.tickets.models import Category, Channel, StatusKind, Ticket

CALL = "/console/call/"
NOTE = "Your password had expired. Change it before the 90 days run out next time."


@pytest.fixture
def agent_client(client: Client, personas: Personas) -> Client:
    client.force_login(personas.agent)
    return client


def call_data(**extra: object) -> dict[str, object]:
    data: dict[str, object] = {
        "subject": "Cannot sign in",
        "need": "Locked out of email since this morning.",
        "done": "Unlocked the account and set a new password together.",
        "category": Category.objects.get(name="Accounts and passwords").pk,
        "priority": 2,
        "outcome": "resolved",
        "resolution_note": NOTE,
    }
    data.update(extra)
    return data


@pytest.mark.parametrize(
    "query", ["ada", "ADA@example", "020 7946 0001", "+44 20 7946 0001", "79460001"]
)
def test_people_search_by_name_email_or_phone(
    agent_client: Client, personas: Personas, query: str
) -> None:
    html = agent_client.get(reverse("tickets:call_people"), {"q": query}).content.decode()
    assert "Ada Requester" in html
    assert f'value="{personas.requester.pk}"' in html
    assert "Bob Otherrequester" not in html


def test_people_search_says_when_nobody_matches(agent_client: Client) -> None:
    html = agent_client.get(reverse("tickets:call_people"), {"q": "<b>zz</b>"}).content.decode()
    assert "Nobody matches “&lt;b&gt;zz&lt;/b&gt;”" in html


def test_resolved_on_the_call(agent_client: Client, personas: Personas) -> None:
    response = agent_client.post(CALL, call_data(requester=personas.requester.pk))
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert response["Location"] == reverse("tickets:ticket", kwargs={"pk": ticket.pk})
    assert ticket.channel == Channel.PHONE
    assert ticket.requester == personas.requester
    assert ticket.status_kind == StatusKind.RESOLVED
    assert ticket.first_contact_resolution
    assert ticket.resolution_note == NOTE
    assert ticket.assignee == personas.agent
    first = ticket.messages.order_by("created_at", "id").first()
    assert first is not None
    assert "Locked out of email" in first.body
    assert "Unlocked the account" in first.body


def test_handed_on(agent_client: Client, personas: Personas) -> None:
    response = agent_client.post(
        CALL,
        call_data(
            requester=personas.requester.pk,
            outcome="hand_on",
            resolution_note="",
            team=personas.other_team.pk,
            assignee=personas.other_agent.pk,
        ),
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.status_kind == StatusKind.OPEN
    assert not ticket.first_contact_resolution
    assert ticket.team == personas.other_team
    assert ticket.assignee == personas.other_agent


def test_new_caller_is_created(agent_client: Client, personas: Personas) -> None:
    response = agent_client.post(
        CALL,
        call_data(
            requester="new",
            new_name="Carla Caller",
            new_email="Carla@Example.com",
            new_phone="+44 20 7946 0999",
        ),
    )
    assert response.status_code == 302
    carla = User.objects.get(email="carla@example.com")
    assert carla.full_name == "Carla Caller"
    assert list(carla.phone_numbers.values_list("number", flat=True)) == ["+442079460999"]
    assert Ticket.objects.get().requester == carla


def test_failure_leaves_nothing_half_made(agent_client: Client, personas: Personas) -> None:
    # The person would be valid, but the ticket is not: no person is kept either.
    response = agent_client.post(
        CALL,
        call_data(
            requester="new",
            new_name="Dan Dropped",
            new_email="dan@example.com",
            subject="   ",
        ),
    )
    assert response.status_code == 400
    assert "Please give a short summary of the problem." in response.content.decode()
    assert not User.objects.filter(email="dan@example.com").exists()
    assert not Ticket.objects.exists()


def test_resolved_without_note_is_refused_plainly(agent_client: Client, personas: Personas) -> None:
    response = agent_client.post(
        CALL, call_data(requester=personas.requester.pk, resolution_note="")
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "how to avoid it next time" in html
    assert "Ada Requester" in html  # the chosen caller is still chosen
    assert not Ticket.objects.exists()


def test_caller_must_be_chosen_and_known_errors_land_on_fields(
    agent_client: Client, personas: Personas
) -> None:
    response = agent_client.post(CALL, call_data())
    assert "Find the caller by name, email or phone" in response.content.decode()
    response = agent_client.post(
        CALL, call_data(requester="new", new_name="Ada Again", new_email="ada@example.com")
    )
    html = response.content.decode()
    assert "already belongs to someone else" in html
    assert 'id="id_new_email_error"' in html
    response = agent_client.post(
        CALL,
        call_data(requester="new", new_name="Pat", new_email="pat@example.com", new_phone="12"),
    )
    assert 'id="id_new_phone_error"' in response.content.decode()
    assert not Ticket.objects.exists()


def test_call_page_renders(agent_client: Client) -> None:
    response = agent_client.get(CALL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Log a call" in html
    assert "Resolved on the call" in html
