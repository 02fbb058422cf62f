"""Articles due for review: the console list's tab, its count, and the console home line."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from deskside.knowledge import selectors, services
from deskside.knowledge.models import Article
from deskside.knowledge.tests.conftest import Library
from deskside.testing import Personas

pytestmark = pytest.mark.django_db


@pytest.fixture
def due(personas: Personas, library: Library) -> dict[str, Article]:
    """Review dates: the agent's public (overdue) and draft (today), the lead's article
    (overdue), an archived one (overdue, but archived) and one not yet due."""
    today = timezone.localdate()
    lead_article = services.article_create(
        actor=personas.team_lead, title="Printer guide by the lead", body="Print."
    )
    later = services.article_create(
        actor=personas.agent, title="Not yet due", body="Later.", review_by=today + timedelta(1)
    )
    for article, when in (
        (library.public, today - timedelta(days=30)),
        (library.draft, today),
        (lead_article, today - timedelta(days=2)),
        (library.archived, today - timedelta(days=90)),
    ):
        services.article_update(article=article, actor=personas.agent, review_by=when)
    return {"lead": lead_article, "later": later}


class Page(Protocol):
    content: bytes


def titles(response: Page) -> str:
    return response.content.decode()


def test_selector(personas: Personas, library: Library, due: dict[str, Article]) -> None:
    mine = selectors.due_for_review(personas.agent, owner=personas.agent)
    assert list(mine) == [library.public, library.draft]  # longest overdue first
    everyone = selectors.due_for_review(personas.agent)
    assert list(everyone) == [library.public, due["lead"], library.draft]
    assert selectors.review_scope_default(personas.agent) == selectors.DUE_MINE
    for boss in (personas.admin, personas.it_manager, personas.team_lead):
        assert selectors.review_scope_default(boss) == selectors.DUE_ALL


def test_agents_see_their_own_by_default(
    client: Client, personas: Personas, library: Library, due: dict[str, Article]
) -> None:
    client.force_login(personas.agent)
    listing = titles(client.get(reverse("knowledge:list")))
    assert 'Due for review <span class="count">2' in listing
    assert 'href="/console/knowledge/?due=mine"' in listing
    page = titles(client.get(reverse("knowledge:list"), {"due": "mine"}))
    assert "2 articles due for review" in page
    assert library.public.title in page
    assert library.draft.title in page
    for absent in (due["lead"], due["later"], library.archived, library.internal):
        assert absent.title not in page
    everyone = titles(client.get(reverse("knowledge:list"), {"due": "all"}))
    assert "3 articles due for review" in everyone
    assert due["lead"].title in everyone
    # The other filters still apply inside the tab.
    drafts = titles(client.get(reverse("knowledge:list"), {"due": "mine", "state": "draft"}))
    assert "1 article due for review" in drafts
    assert library.public.title not in drafts


def test_managers_see_everyones_by_default(
    client: Client, personas: Personas, library: Library, due: dict[str, Article]
) -> None:
    client.force_login(personas.it_manager)
    listing = titles(client.get(reverse("knowledge:list")))
    assert 'Due for review <span class="count">3' in listing
    assert 'href="/console/knowledge/?due=all"' in listing


def test_console_home_mentions_reviews_when_some_are_due(
    client: Client, personas: Personas, library: Library, due: dict[str, Article]
) -> None:
    client.force_login(personas.agent)
    home = titles(client.get(reverse("tickets:console_home")))
    assert "2 help articles due for your review" in home
    client.force_login(personas.other_agent)  # owns no articles
    assert "due for your review" not in titles(client.get(reverse("tickets:console_home")))
    client.force_login(personas.admin)
    assert "3 help articles due for your review" in titles(
        client.get(reverse("tickets:console_home"))
    )
