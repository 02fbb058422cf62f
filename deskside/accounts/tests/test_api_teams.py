from __future__ import annotations

import pytest

from deskside.api.testing import assert_error, token_client
from deskside.testing import Personas

pytestmark = pytest.mark.django_db


def test_agent_lists_teams(personas: Personas) -> None:
    body = token_client(personas.agent).get("/api/v1/teams").json()
    assert body["count"] == 2
    by_name = {team["name"]: team for team in body["items"]}
    assert by_name["Service Desk"] == {
        "id": personas.team.pk,
        "name": "Service Desk",
        "tier": "service_desk",
        "description": "",
        "lead": {"id": personas.team_lead.pk, "full_name": "Lena Lead"},
        "member_count": 2,
    }
    assert by_name["Infrastructure"]["lead"] is None


def test_team_detail_lists_members(personas: Personas) -> None:
    body = token_client(personas.other_agent).get(f"/api/v1/teams/{personas.team.pk}").json()
    assert [member["full_name"] for member in body["members"]] == ["Lena Lead", "Xena Agent"]
    assert body["member_count"] == 2


def test_requesters_see_no_teams(personas: Personas) -> None:
    client = token_client(personas.requester)
    assert client.get("/api/v1/teams").json()["count"] == 0
    assert_error(client.get(f"/api/v1/teams/{personas.team.pk}"), 404, "not_found")


def test_missing_team_is_not_found(personas: Personas) -> None:
    assert_error(token_client(personas.agent).get("/api/v1/teams/424242"), 404, "not_found")
