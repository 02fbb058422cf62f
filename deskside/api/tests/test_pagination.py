from __future__ import annotations

import pytest

from deskside.accounts.models import User
from deskside.api.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from deskside.api.testing import assert_error, token_client
from deskside.testing import Personas

pytestmark = pytest.mark.django_db

ENVELOPE = {"items", "count", "page", "page_size", "pages"}


def test_lists_come_in_the_envelope_with_defaults(personas: Personas) -> None:
    body = token_client(personas.agent).get("/api/v1/people").json()
    assert set(body) == ENVELOPE
    assert body["count"] == User.objects.count()
    assert body["page"] == 1
    assert body["page_size"] == DEFAULT_PAGE_SIZE
    assert body["pages"] == 1
    assert len(body["items"]) == body["count"]


def test_pages_cover_every_item_once_in_a_stable_order(personas: Personas) -> None:
    client = token_client(personas.agent)
    first = client.get("/api/v1/people?page_size=3").json()
    total = first["count"]
    assert first["pages"] == -(-total // 3)
    seen: list[int] = []
    for page in range(1, first["pages"] + 1):
        body = client.get(f"/api/v1/people?page_size=3&page={page}").json()
        assert body["page"] == page
        assert len(body["items"]) <= 3
        seen.extend(item["id"] for item in body["items"])
    assert len(seen) == total
    assert set(seen) == set(User.objects.values_list("pk", flat=True))


def test_page_size_is_capped(personas: Personas) -> None:
    body = token_client(personas.agent).get(f"/api/v1/people?page_size={MAX_PAGE_SIZE * 5}").json()
    assert body["page_size"] == MAX_PAGE_SIZE


def test_page_past_the_end_is_empty_not_an_error(personas: Personas) -> None:
    body = token_client(personas.agent).get("/api/v1/people?page=999999999999").json()
    assert body["items"] == []
    assert body["count"] == User.objects.count()
    assert body["pages"] == 1


def test_empty_list_still_has_one_page(personas: Personas) -> None:
    body = token_client(personas.requester).get("/api/v1/teams").json()
    assert body == {"items": [], "count": 0, "page": 1, "page_size": DEFAULT_PAGE_SIZE, "pages": 1}


@pytest.mark.parametrize("query", ["page=0", "page=abc", "page_size=0", "page_size=-5"])
def test_bad_paging_values_are_validation_errors(personas: Personas, query: str) -> None:
    error = assert_error(
        token_client(personas.agent).get(f"/api/v1/people?{query}"), 422, "validation_failed"
    )
    assert query.split("=")[0] in error["details"]["fields"]
