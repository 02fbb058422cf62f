"""The console's article editor: staff write, revise and publish; requesters cannot."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from deskside.knowledge.models import Article, ArticleState
from deskside.knowledge.search import search_articles
from deskside.knowledge.tests.conftest import Capture, Library
from deskside.testing import Personas

pytestmark = pytest.mark.django_db


def test_agent_writes_edits_and_publishes(
    client: Client, personas: Personas, django_capture_on_commit_callbacks: Capture
) -> None:
    client.force_login(personas.agent)
    assert client.get(reverse("knowledge:new")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("knowledge:new"),
            {"title": "Share a calendar", "body": "Open **Calendar**.", "visibility": "public",
             "tags": "calendar, outlook"},
        )  # fmt: skip
        article = Article.objects.get()
        assert response.status_code == 302
        assert article.owner == personas.agent
        assert article.tags == ["calendar", "outlook"]
        assert article.state == ArticleState.DRAFT
        client.post(
            reverse("knowledge:edit", args=[article.pk]),
            {"title": "Share your calendar", "body": "Open *Calendar*.", "visibility": "public"},
        )
        client.post(reverse("knowledge:state", args=[article.pk]), {"state": "published"})
    article.refresh_from_db()
    assert article.title == "Share your calendar"
    assert article.state == ArticleState.PUBLISHED
    assert article.revisions.count() == 2
    page = client.get(reverse("knowledge:edit", args=[article.pk]))
    assert b"Share a calendar" in page.content  # the first revision, in the history
    assert [h.article for h in search_articles(personas.requester, "calendar")] == [article]


def test_invalid_article_is_shown_again(client: Client, personas: Personas) -> None:
    client.force_login(personas.agent)
    response = client.post(reverse("knowledge:new"), {"title": "", "body": "", "visibility": "x"})
    assert response.status_code == 400
    assert b'role="alert"' in response.content
    assert not Article.objects.exists()


def test_requester_cannot_reach_the_editor(
    client: Client, personas: Personas, library: Library
) -> None:
    client.force_login(personas.requester)
    for url, method in (
        (reverse("knowledge:new"), "post"),
        (reverse("knowledge:edit", args=[library.public.pk]), "post"),
        (reverse("knowledge:state", args=[library.draft.pk]), "post"),
    ):
        response = getattr(client, method)(url, {"title": "x", "body": "x", "state": "published"})
        assert response.status_code == 302
        assert "/portal/" in response["Location"]
    library.draft.refresh_from_db()
    assert library.draft.state == ArticleState.DRAFT
    assert Article.objects.count() == 4


def test_admin_edits_go_through_the_services(
    client: Client, personas: Personas, django_capture_on_commit_callbacks: Capture
) -> None:
    client.force_login(personas.admin)
    assert client.get(reverse("admin:knowledge_article_add")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:knowledge_article_add"),
            {"title": "Printer setup", "summary": "", "body": "Add the *printer*.",
             "tags": '["printing"]', "visibility": "public", "state": "published",
             "owner": str(personas.agent.pk), "revisions-TOTAL_FORMS": "0",
             "revisions-INITIAL_FORMS": "0"},
        )  # fmt: skip
    assert response.status_code == 302, response.content[-3000:]
    article = Article.objects.get()
    assert article.state == ArticleState.PUBLISHED
    assert article.owner == personas.agent
    assert "<em>printer</em>" in article.body_html
    assert article.revisions.count() == 1
    assert [h.article for h in search_articles(personas.requester, "printer")] == [article]
    assert (
        client.get(reverse("admin:knowledge_article_change", args=[article.pk])).status_code == 200
    )
