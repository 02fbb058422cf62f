"""Creating people and teams through the API: who may, and what is checked."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from deskside.accounts.models import Role, Team, User
from deskside.api.testing import JsonResponse, assert_error, token_client
from deskside.testing import Personas

pytestmark = pytest.mark.django_db


def post(user: User, path: str, body: Mapping[str, object]) -> JsonResponse:
    response: JsonResponse = token_client(user).post(path, body, content_type="application/json")
    return response


def test_agent_adds_a_requester(personas: Personas) -> None:
    response = post(
        personas.agent,
        "/api/v1/people",
        {
            "email": "New.Caller@Example.com",
            "full_name": "New Caller",
            "department_id": personas.department.pk,
            "phones": [{"number": "+44 20 7946 0999", "kind": "mobile"}],
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["email"] == "new.caller@example.com"
    assert body["role"] == "requester"
    assert body["department"]["id"] == personas.department.pk
    assert body["phones"] == [{"number": "+442079460999", "extension": "", "kind": "mobile"}]


def test_only_admins_add_desk_staff(personas: Personas) -> None:
    body = {"email": "new.agent@example.com", "full_name": "New Agent", "role": "agent"}
    assert_error(post(personas.agent, "/api/v1/people", body), 403, "forbidden")
    response = post(personas.admin, "/api/v1/people", body)
    assert response.status_code == 201
    assert User.objects.get(email="new.agent@example.com").role == Role.AGENT


def test_requesters_add_nobody(personas: Personas) -> None:
    body = {"email": "x@example.com", "full_name": "X"}
    response = post(personas.requester, "/api/v1/people", body)
    assert_error(response, 403, "forbidden")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-address", "full_name": "A"}, "email"),
        ({"email": "ada@example.com", "full_name": "Ada Again"}, "__all__"),
        ({"email": "a@example.com", "full_name": "A", "department_id": 99999}, "department_id"),
        ({"email": "a@example.com", "full_name": "A", "password": "secret"}, "password"),
    ],
)
def test_bad_people_are_refused_naming_the_field(
    personas: Personas, body: dict[str, object], field: str
) -> None:
    response = post(personas.admin, "/api/v1/people", body)
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["details"]["fields"]


def test_admin_creates_a_team(personas: Personas) -> None:
    response = post(
        personas.admin,
        "/api/v1/teams",
        {
            "name": "Security",
            "tier": "specialist",
            "lead_id": personas.team_lead.pk,
            "member_ids": [personas.agent.pk, personas.other_agent.pk],
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["lead"]["id"] == personas.team_lead.pk
    assert {member["id"] for member in body["members"]} == {
        personas.team_lead.pk, personas.agent.pk, personas.other_agent.pk,
    }  # fmt: skip


def test_team_rules(personas: Personas) -> None:
    assert_error(post(personas.agent, "/api/v1/teams", {"name": "Mine"}), 403, "forbidden")
    error = assert_error(
        post(personas.admin, "/api/v1/teams", {"name": "service desk"}),
        400,
        "invalid",
    )
    assert list(error["details"]["fields"]) == ["name"]
    error = assert_error(
        post(
            personas.admin, "/api/v1/teams", {"name": "HR", "member_ids": [personas.requester.pk]}
        ),
        400,
        "invalid",
    )
    assert "requester" in error["message"]
    assert not Team.objects.filter(name="HR").exists()
