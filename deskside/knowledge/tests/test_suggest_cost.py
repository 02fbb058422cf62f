"""Article suggestions cost nothing without articles, and are unchanged with them."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deskside.accounts.models import User
from deskside.knowledge import services
from deskside.knowledge.models import ArticleState, Visibility
from deskside.knowledge.search import ArticleHit, search_articles
from deskside.knowledge.selectors import (
    articles_suggested,
    portal_lists_articles,
    suggestion_queries,
)
from deskside.knowledge.tests.conftest import Capture, Library
from deskside.mail.notifications import _suggested_articles
from deskside.system.memo import memo_scope
from deskside.testing import Personas
from deskside.tickets.models import Ticket

pytestmark = pytest.mark.django_db

QUERIES = [
    suggestion_queries("Email on my phone", "I cannot read my email anywhere"),
    suggestion_queries("Mailbox restore", "email backup"),
    suggestion_queries("Webmail email address"),
    suggestion_queries("email"),
    suggestion_queries("Outlook app sign in", "work email address phone"),
    suggestion_queries("Nothing here matches"),
]


def reference(user: User, queries: Sequence[str], limit: int) -> list[ArticleHit]:
    """The suggestions as they were worked out before: one full search per query."""
    hits: list[ArticleHit] = []
    seen: set[int] = set()
    for query in queries:
        for hit in search_articles(user, query, limit * 4):
            listed = (
                hit.article.state == ArticleState.PUBLISHED
                and hit.article.visibility == Visibility.PUBLIC
            )
            if listed and hit.article.pk not in seen:
                seen.add(hit.article.pk)
                hits.append(hit)
                if len(hits) >= limit:
                    return hits
    return hits


def described(hits: list[ArticleHit]) -> list[tuple[int, float, str, str]]:
    return [(hit.article.pk, hit.rank, hit.title_html, hit.snippet_html) for hit in hits]


def search_queries(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "knowledge_article_fts" in q["sql"]]


def test_without_articles_for_everyone_nothing_is_searched(
    personas: Personas, ticket: Ticket, django_capture_on_commit_callbacks: Capture
) -> None:
    # Staff-only and unpublished articles match, but no requester could be shown them.
    with django_capture_on_commit_callbacks(execute=True):
        internal = services.article_create(
            actor=personas.agent,
            title="Outlook password runbook",
            body="Outlook asks for the password: reset the saved one.",
            visibility=Visibility.INTERNAL,
        )
        services.article_publish(article=internal, actor=personas.agent)
        services.article_create(
            actor=personas.agent, title="Outlook password draft", body="Outlook password."
        )
    queries = suggestion_queries(ticket.subject, "Outlook password")
    for user in (personas.requester, personas.agent):
        with CaptureQueriesContext(connection) as captured:
            assert articles_suggested(user, queries, 3) == []
        assert len(captured) == 1  # does any article exist for everyone?
        assert search_queries(captured) == []
    with CaptureQueriesContext(connection) as captured:
        assert _suggested_articles(ticket) == []
    assert len(captured) == 1  # not even the request's first message is read
    # Asked once per scope: a batch of acknowledgements asks once.
    with memo_scope():
        articles_suggested(personas.requester, queries, 3)
        with CaptureQueriesContext(connection) as captured:
            assert _suggested_articles(ticket) == []
            assert articles_suggested(personas.requester, queries, 3) == []
        assert len(captured) == 0


@pytest.mark.parametrize("limit", [1, 3, 8])
def test_with_articles_the_suggestions_are_unchanged(
    personas: Personas, library: Library, django_capture_on_commit_callbacks: Capture, limit: int
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        for title, body in [
            ("Email on a new phone", "Add your work email to the Mail app on your phone."),
            ("Email backup and restore", "Ask IT to restore email from the backup."),
            ("Read email in a browser", "Webmail shows your email anywhere."),
        ]:
            article = services.article_create(actor=personas.agent, title=title, body=body)
            services.article_publish(article=article, actor=personas.agent)
    found_any = False
    for user in (personas.requester, personas.agent):
        for queries in QUERIES:
            got = articles_suggested(user, queries, limit)
            assert described(got) == described(reference(user, queries, limit))
            found_any = found_any or bool(got)
            with CaptureQueriesContext(connection) as captured:
                articles_suggested(user, queries, limit)
            # Never more searches than before, and fewer when enough were found early.
            assert len(search_queries(captured)) <= len(queries)
    assert found_any
    hidden = {library.internal.pk, library.draft.pk, library.archived.pk}
    for queries in QUERIES:
        assert not hidden & {
            hit.article.pk for hit in articles_suggested(personas.agent, queries, 8)
        }


def test_publishing_inside_a_scope_is_seen_at_once(personas: Personas) -> None:
    # A batch remembers "no article for everyone"; a publication in the same unit of
    # work must not be hidden behind that answer (nor an unpublication behind "yes").
    with memo_scope():
        assert portal_lists_articles() is False
        article = services.article_create(
            actor=personas.agent, title="Printer paper jams", body="Open the printer tray."
        )
        assert portal_lists_articles() is False  # a draft lists nothing
        services.article_publish(article=article, actor=personas.agent)
        assert portal_lists_articles() is True
        services.article_unpublish(article=article, actor=personas.agent)
        assert portal_lists_articles() is False
        services.article_publish(article=article, actor=personas.agent)
        services.article_update(
            article=article, actor=personas.agent, visibility=Visibility.INTERNAL
        )
        assert portal_lists_articles() is False
