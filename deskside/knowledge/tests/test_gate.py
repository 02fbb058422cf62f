"""Requesters reach only published articles written for everyone, through every address."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from deskside.accounts.permissions import can_change, visible
from deskside.knowledge.models import Article, ArticleFeedback
from deskside.knowledge.search import search_articles
from deskside.knowledge.tests.conftest import Library
from deskside.testing import Personas

pytestmark = pytest.mark.django_db

HIDDEN = ("internal", "draft", "archived")


def test_policy(personas: Personas, library: Library) -> None:
    assert set(visible(personas.other_requester, Article)) == {library.public}
    assert visible(personas.agent, Article).count() == 4
    assert visible(None, Article).count() == 0
    assert not can_change(personas.requester, library.public)
    assert can_change(personas.agent, library.draft)


@pytest.mark.parametrize("which", HIDDEN)
def test_hidden_article_is_not_found(
    client: Client, personas: Personas, library: Library, which: str
) -> None:
    article = getattr(library, which)
    client.force_login(personas.other_requester)
    for name in ("help:article", "help:feedback"):
        url = reverse(name, args=[article.slug])
        response = (
            client.get(url) if name == "help:article" else client.post(url, {"helpful": "yes"})
        )
        assert response.status_code == 404
        assert article.title.encode() not in response.content
    article.refresh_from_db()
    assert article.views == 0
    assert article.helpful_yes == 0
    assert not ArticleFeedback.objects.exists()


def test_requester_lists_search_and_suggestions_show_only_public(
    client: Client, personas: Personas, library: Library
) -> None:
    client.force_login(personas.other_requester)
    pages = [
        client.get(reverse("help:home")),
        client.get(reverse("help:home"), {"q": "email"}),
        client.get(reverse("help:home"), {"category": library.category.pk}),
        client.get(reverse("help:suggest"), {"q": "email"}),
        client.get(reverse("help:suggest"), {"q": "mailbox restore"}),
    ]
    for response in pages:
        assert response.status_code == 200
        for which in HIDDEN:
            assert getattr(library, which).title.encode() not in response.content
    assert library.public.title.encode() in pages[0].content
    assert b"<mark>" in pages[1].content
    assert b"phone" in pages[3].content
    assert [hit.article for hit in search_articles(personas.other_requester, "email")] == [
        library.public
    ]


def test_staff_search_finds_internal_and_drafts(personas: Personas, library: Library) -> None:
    found = {hit.article for hit in search_articles(personas.agent, "email", 20)}
    assert {library.public, library.internal, library.draft, library.archived} <= found


def test_signed_out_visitor_is_sent_to_sign_in(client: Client, library: Library) -> None:
    for url in (
        reverse("help:home"),
        reverse("help:suggest") + "?q=email",
        reverse("help:article", args=[library.public.slug]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert "/accounts/" in response["Location"]


def test_console_list_is_for_staff(client: Client, personas: Personas, library: Library) -> None:
    client.force_login(personas.requester)
    assert client.get(reverse("knowledge:list")).status_code == 302
    client.force_login(personas.agent)
    response = client.get(reverse("knowledge:list"))
    assert response.status_code == 200
    for which in ("public", *HIDDEN):
        assert getattr(library, which).title.encode() in response.content
    response = client.get(reverse("knowledge:list"), {"state": "draft"})
    assert library.draft.title.encode() in response.content
    assert library.public.title.encode() not in response.content
    response = client.get(reverse("knowledge:list"), {"visibility": "internal", "q": "mailbox"})
    assert b"<mark>Mailbox</mark> restore runbook" in response.content
    assert library.public.title.encode() not in response.content
