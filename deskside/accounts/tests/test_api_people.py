from __future__ import annotations

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from deskside.accounts import services
from deskside.accounts.models import Role, User
from deskside.api.testing import assert_error, token_client
from deskside.testing import Personas

pytestmark = pytest.mark.django_db

PERSON_FIELDS = {
    "id",
    "email",
    "full_name",
    "preferred_name",
    "role",
    "job_title",
    "department",
    "location",
    "is_vip",
    "technical_comfort",
    "is_active",
    "other_emails",
    "phones",
    "teams",
}


def emails(body: dict[str, object]) -> set[str]:
    items = body["items"]
    assert isinstance(items, list)
    return {item["email"] for item in items}


def test_me_describes_the_caller(personas: Personas) -> None:
    body = token_client(personas.requester).get("/api/v1/me").json()
    assert set(body) == PERSON_FIELDS
    assert body["id"] == personas.requester.pk
    assert body["email"] == "ada@example.com"
    assert body["full_name"] == "Ada Requester"
    assert body["role"] == "requester"
    assert body["department"] == {"id": personas.department.pk, "name": "Finance"}
    assert body["location"]["name"] == "Head office"
    assert body["is_vip"] is False
    assert body["technical_comfort"] == "standard"
    assert body["teams"] == []


def test_me_lists_an_agents_teams(personas: Personas) -> None:
    body = token_client(personas.agent).get("/api/v1/me").json()
    assert body["teams"] == [{"id": personas.team.pk, "name": "Service Desk"}]


def test_people_carry_no_secrets(personas: Personas) -> None:
    body = token_client(personas.agent).get(f"/api/v1/people/{personas.requester.pk}").json()
    assert set(body) == PERSON_FIELDS
    text = str(body).lower()
    assert "password" not in text
    assert "md5$" not in text
    assert personas.requester.password not in str(body)


def test_phone_numbers_are_returned_in_e164(personas: Personas) -> None:
    body = token_client(personas.agent).get(f"/api/v1/people/{personas.requester.pk}").json()
    assert body["phones"] == [{"number": "+442079460001", "extension": "", "kind": "work"}]


def test_requester_lists_only_themselves(personas: Personas) -> None:
    body = token_client(personas.requester).get("/api/v1/people").json()
    assert body["count"] == 1
    assert emails(body) == {"ada@example.com"}


def test_requester_b_cannot_see_requester_a(personas: Personas) -> None:
    client = token_client(personas.other_requester)
    hidden = client.get(f"/api/v1/people/{personas.requester.pk}")
    missing = client.get("/api/v1/people/987654")
    assert_error(hidden, 404, "not_found")
    # Identical answers, so probing IDs reveals nothing about who exists.
    assert hidden.content == missing.content
    assert "ada@example.com" not in emails(client.get("/api/v1/people?search=ada").json())


def test_agent_sees_everyone(personas: Personas) -> None:
    body = token_client(personas.agent).get("/api/v1/people").json()
    assert body["count"] == User.objects.count()
    response = token_client(personas.agent).get(f"/api/v1/people/{personas.requester.pk}")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("ada", {"ada@example.com"}),
        ("REQUESTER", {"ada@example.com", "bob@example.com"}),
        ("bob@example", {"bob@example.com"}),
        ("+44 20 7946 0001", {"ada@example.com"}),
        ("020 7946 0001", {"ada@example.com"}),
        ("79460001", {"ada@example.com"}),
        ("nobody-like-this", set()),
    ],
)
def test_people_search(personas: Personas, search: str, expected: set[str]) -> None:
    client = token_client(personas.agent)
    assert emails(client.get("/api/v1/people", {"search": search}).json()) == expected


def test_people_search_finds_other_addresses(personas: Personas) -> None:
    services.person_add_email(user=personas.other_requester, email="robert@home.example")
    client = token_client(personas.agent)
    body = client.get("/api/v1/people", {"search": "robert@home"}).json()
    assert emails(body) == {"bob@example.com"}
    assert body["items"][0]["other_emails"] == ["robert@home.example"]


def test_people_filter_by_role(personas: Personas) -> None:
    client = token_client(personas.agent)
    body = client.get("/api/v1/people", {"role": "agent"}).json()
    assert emails(body) == {"xena@example.com", "yuri@example.com"}
    assert {item["role"] for item in body["items"]} == {Role.AGENT}


def test_unknown_role_is_a_validation_error(personas: Personas) -> None:
    response = token_client(personas.agent).get("/api/v1/people", {"role": "wizard"})
    error = assert_error(response, 422, "validation_failed")
    assert "role" in error["details"]["fields"]


@override_settings(DEFAULT_PHONE_REGION="GB")
def test_people_list_queries_do_not_grow_with_the_page(personas: Personas) -> None:
    client = token_client(personas.agent)
    client.get("/api/v1/me")  # records the token's first use, a write later calls skip

    def queries_for_one_page() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v1/people?page_size=200").status_code == 200
        return len(captured)

    before = queries_for_one_page()
    for number in range(20):
        services.person_create(
            email=f"p{number}@example.com",
            full_name=f"Person {number}",
            phones=[(f"020 7946 {number:04d}", "work")],
            other_emails=[f"p{number}@home.example"],
        )
    assert queries_for_one_page() == before
