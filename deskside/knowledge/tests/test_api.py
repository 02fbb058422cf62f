"""The knowledge base over the REST API, through the permission gate and the services."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from deskside.accounts.models import TokenScope
from deskside.api.testing import assert_error, token_client
from deskside.knowledge import services
from deskside.knowledge.models import Article, ArticleCategory, ArticleState
from deskside.knowledge.search import search_articles
from deskside.knowledge.tests.conftest import Capture, Library
from deskside.testing import Personas
from deskside.tickets.models import Ticket

pytestmark = pytest.mark.django_db

ARTICLES = "/api/v1/knowledge/articles"


def ids(body: dict[str, Any]) -> set[int]:
    return {item["id"] for item in body["items"]}


def test_requesters_list_only_what_the_portal_shows(
    personas: Personas, library: Library, ticket: Ticket
) -> None:
    services.ticket_article_link(ticket=ticket, article=library.public, actor=personas.agent)
    api = token_client(personas.requester)
    body = api.get(ARTICLES).json()
    assert ids(body) == {library.public.pk}
    assert body["count"] == 1
    item = body["items"][0]
    assert item["owner"] is None
    assert item["stats"] is None
    assert item["review_by"] is None
    assert item["category"] == {"id": library.category.pk, "name": "Email"}
    assert api.get(ARTICLES, {"q": "email"}).json()["count"] == 1
    assert api.get(ARTICLES, {"state": "draft"}).json()["count"] == 0
    for hidden in (library.internal, library.draft, library.archived):
        assert_error(api.get(f"{ARTICLES}/{hidden.pk}"), 404, "not_found")
    detail = api.get(f"{ARTICLES}/{library.public.pk}").json()
    assert "<strong>Outlook</strong>" in detail["body_html"]
    assert detail["body"].startswith("Open the **Outlook** app")


@override_settings(BASE_URL="https://help.example.com")
def test_staff_list_filter_and_search(
    personas: Personas, library: Library, ticket: Ticket, hidden: Ticket
) -> None:
    for on in (ticket, hidden):
        services.ticket_article_link(ticket=on, article=library.public, actor=personas.admin)
    api = token_client(personas.agent)
    everything = api.get(ARTICLES).json()
    assert everything["count"] == 4
    by_id = {item["id"]: item for item in everything["items"]}
    public = by_id[library.public.pk]
    assert public["stats"]["helped_tickets"] == 2
    assert public["owner"] == {"id": personas.agent.pk, "full_name": "Xena Agent"}
    assert public["url"] == f"https://help.example.com/portal/help/{library.public.slug}/"
    assert ids(api.get(ARTICLES, {"state": "draft"}).json()) == {library.draft.pk}
    assert ids(api.get(ARTICLES, {"visibility": "internal"}).json()) == {library.internal.pk}
    assert ids(api.get(ARTICLES, {"category": library.category.pk}).json()) == {
        library.public.pk,
        library.internal.pk,
        library.draft.pk,
    }
    searched = api.get(ARTICLES, {"q": "email", "visibility": "public", "page_size": "2"}).json()
    assert searched["count"] == 3  # public, draft and archived mention email
    assert searched["pages"] == 2
    assert len(searched["items"]) == 2
    found = api.get(ARTICLES, {"q": "phone"}).json()["items"]
    assert found[0]["stats"]["helped_tickets"] == 2
    assert found[0]["owner"]["full_name"] == "Xena Agent"
    error = assert_error(api.get(ARTICLES, {"status": "draft"}), 400, "invalid")
    assert "status" in error["details"]["fields"]
    assert_error(api.get(ARTICLES, {"state": "lost"}), 422, "validation_failed")


def test_staff_write_and_publish(
    personas: Personas, library: Library, django_capture_on_commit_callbacks: Capture
) -> None:
    api = token_client(personas.agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            ARTICLES,
            {"title": "Book a meeting room", "body": "Open **Rooms** in Outlook.",
             "category_id": library.category.pk, "tags": ["rooms", "outlook"],
             "owner_id": personas.team_lead.pk, "review_by": "2031-01-31"},
            content_type="application/json",
        )  # fmt: skip
    assert response.status_code == 201, response.json()
    created = response.json()
    article = Article.objects.get(pk=created["id"])
    assert created["state"] == "draft"
    assert article.owner == personas.team_lead
    assert article.revisions.get().editor == personas.agent
    assert "<strong>Rooms</strong>" in created["body_html"]
    assert search_articles(personas.requester, "meeting room") == []

    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(
            f"{ARTICLES}/{article.pk}",
            {"title": "Book a meeting room in Outlook", "state": "published", "category_id": None},
            content_type="application/json",
        )
    assert response.status_code == 200, response.json()
    article.refresh_from_db()
    assert article.state == ArticleState.PUBLISHED
    assert article.category is None
    assert article.revisions.count() == 2
    assert [h.article for h in search_articles(personas.requester, "meeting room")] == [article]

    published = api.post(
        ARTICLES,
        {"title": "Published at once", "body": "Text.", "state": "published"},
        content_type="application/json",
    )
    assert published.json()["state"] == "published"
    assert published.json()["owner"]["id"] == personas.agent.pk
    archived = api.patch(
        f"{ARTICLES}/{article.pk}", {"state": "archived"}, content_type="application/json"
    )
    assert archived.json()["state"] == "archived"
    assert article.revisions.count() == 2  # a state change alone is no revision


def test_write_errors_are_plain_and_change_nothing(personas: Personas, library: Library) -> None:
    api = token_client(personas.agent)
    bad = [
        ({"title": "", "body": "x"}, "title"),
        ({"title": "x", "body": "  "}, "body"),
        ({"title": "x", "body": "x", "category_id": 999_999}, "category_id"),
        ({"title": "x", "body": "x", "owner_id": personas.requester.pk}, "owner_id"),
    ]
    for payload, field in bad:
        error = assert_error(api.post(ARTICLES, payload, content_type="application/json"), 400,
                             "invalid")  # fmt: skip
        assert field in error["details"]["fields"]
    assert_error(
        api.post(ARTICLES, {"title": "x", "body": "x", "colour": "red"},
                 content_type="application/json"),
        400, "unknown_field",
    )  # fmt: skip
    error = assert_error(
        api.patch(f"{ARTICLES}/{library.public.pk}", {"title": None},
                  content_type="application/json"),
        400, "invalid",
    )  # fmt: skip
    assert "title" in error["details"]["fields"]
    # Fields checked after a change was made roll the change back.
    assert_error(
        api.patch(f"{ARTICLES}/{library.public.pk}", {"title": "Renamed", "owner_id": 999_999},
                  content_type="application/json"),
        400, "invalid",
    )  # fmt: skip
    library.public.refresh_from_db()
    assert library.public.title == "Set up email on your phone"
    assert Article.objects.count() == 4
    assert not ArticleCategory.objects.exclude(pk=library.category.pk).exists()


def test_requesters_and_read_tokens_cannot_write(personas: Personas, library: Library) -> None:
    api = token_client(personas.requester)
    assert_error(
        api.post(ARTICLES, {"title": "x", "body": "x"}, content_type="application/json"),
        403,
        "forbidden",
    )
    assert_error(
        api.patch(f"{ARTICLES}/{library.public.pk}", {"title": "x"},
                  content_type="application/json"),
        403, "forbidden",
    )  # fmt: skip
    assert_error(
        api.patch(f"{ARTICLES}/{library.draft.pk}", {"title": "x"},
                  content_type="application/json"),
        404, "not_found",
    )  # fmt: skip
    reader = token_client(personas.agent, scope=TokenScope.READ)
    assert reader.get(ARTICLES).status_code == 200
    assert_error(
        reader.post(ARTICLES, {"title": "x", "body": "x"}, content_type="application/json"),
        403,
        "read_only_token",
    )
    assert Article.objects.count() == 4
    library.public.refresh_from_db()
    assert library.public.title == "Set up email on your phone"
