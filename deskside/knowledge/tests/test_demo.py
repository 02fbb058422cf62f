"""The demo desk comes with plain-language help articles, linked to the tickets they answer."""

from __future__ import annotations

import pytest

from deskside.demo import DEMO_PASSWORD, DemoContext, populate_all
from deskside.knowledge.demo import ARTICLES
from deskside.knowledge.models import Article, ArticleCategory, ArticleState, TicketArticle
from deskside.knowledge.search import search_articles
from deskside.knowledge.tests.conftest import Capture
from deskside.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_demo_articles_are_added_once(django_capture_on_commit_callbacks: Capture) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = populate_all(DemoContext(password=DEMO_PASSWORD))
    assert first.created["help articles"] == len(ARTICLES) == 9
    assert Article.objects.filter(state=ArticleState.PUBLISHED).count() == 9
    assert Article.objects.filter(visibility="internal").count() == 1
    assert ArticleCategory.objects.count() == 8
    agent = first.people["agent"]
    assert set(Article.objects.values_list("owner", flat=True)) == {agent.pk}
    # Each article answers demo tickets, so "helped N tickets" shows real numbers.
    outlook = Article.objects.get(slug="outlook-keeps-asking-for-my-password")
    answered = Ticket.objects.filter(
        subject="Outlook keeps asking for my password", resolution_note__gt=""
    )
    assert answered.exists()
    assert set(outlook.ticket_links.values_list("ticket", flat=True)) == set(
        answered.values_list("pk", flat=True)
    )
    assert first.created["tickets linked to articles"] == TicketArticle.objects.count() > 0
    # Indexed: a requester finds the public ones, never the runbook.
    requester = first.people["requester"]
    assert search_articles(requester, "VPN")[0].article == Article.objects.get(
        slug="connect-to-the-vpn-from-home"
    )
    assert search_articles(requester, "runbook") == []
    assert search_articles(agent, "runbook")
    # Some reviews are overdue, so the "Due for review" tab has something to show.
    assert Article.objects.filter(review_by__lt=outlook.created_at.date()).count() == 3

    links = TicketArticle.objects.count()
    second = populate_all(DemoContext(password=DEMO_PASSWORD))
    assert second.created["help articles"] == 0
    assert second.created["tickets linked to articles"] == 0
    assert Article.objects.count() == 9
    assert TicketArticle.objects.count() == links
