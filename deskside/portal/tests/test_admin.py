"""Administrators set up the per-topic questions in the admin site."""

from __future__ import annotations

from django.test import Client

from deskside.portal.models import IntakeQuestion
from deskside.testing import Personas
from deskside.tickets.models import Category

ADD = "/admin/portal/intakequestion/add/"


def _form(**extra: object) -> dict[str, object]:
    data: dict[str, object] = {
        "category": Category.objects.get(name="Software").pk,
        "label": "Which program?",
        "help_text": "",
        "kind": "text",
        "choices": "",
        "position": 1,
        "is_active": "on",
    }
    data.update(extra)
    return data


def test_admin_adds_a_question(client: Client, personas: Personas) -> None:
    client.force_login(personas.admin)
    assert client.get(ADD).status_code == 200
    response = client.post(ADD, _form())
    assert response.status_code == 302
    assert IntakeQuestion.objects.filter(label="Which program?").exists()


def test_a_list_question_needs_two_choices(client: Client, personas: Personas) -> None:
    client.force_login(personas.admin)
    response = client.post(ADD, _form(kind="choice", choices="Only one"))
    assert response.status_code == 200
    assert "Give at least two choices, one per line." in response.content.decode()


def test_requesters_and_agents_cannot_reach_it(client: Client, personas: Personas) -> None:
    for person in (personas.requester, personas.agent):
        client.force_login(person)
        assert client.get(ADD).status_code == 302
