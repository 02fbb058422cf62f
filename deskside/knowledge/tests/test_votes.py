"""One "Was this helpful?" answer per person: a new answer replaces the earlier one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse

from deskside.accounts.models import User
from deskside.knowledge import services
from deskside.knowledge.models import Article, ArticleFeedback
from deskside.knowledge.tests.conftest import Library
from deskside.testing import Personas, make_personas

pytestmark = pytest.mark.django_db


def counts(article: Article) -> tuple[int, int]:
    article.refresh_from_db()
    return article.helpful_yes, article.helpful_no


def test_a_new_answer_replaces_the_earlier_one(personas: Personas, library: Library) -> None:
    article = library.public
    services.article_feedback_record(
        article=article, user=personas.requester, helpful=False, comment="Which app store?"
    )
    services.article_feedback_record(article=article, user=personas.other_requester, helpful=False)
    assert counts(article) == (0, 2)
    services.article_feedback_record(article=article, user=personas.requester, helpful=True)
    assert counts(article) == (1, 1)
    services.article_feedback_record(article=article, user=personas.requester, helpful=True)
    assert counts(article) == (1, 1)  # the same answer again changes nothing
    mine = ArticleFeedback.objects.get(article=article, user=personas.requester)
    assert mine.helpful
    assert mine.comment == "Which app store?"  # an answer without a comment keeps the last
    services.article_feedback_record(
        article=article, user=personas.requester, helpful=False, comment="Still unclear."
    )
    assert counts(article) == (0, 2)
    assert ArticleFeedback.objects.filter(article=article).count() == 2
    assert ArticleFeedback.objects.get(article=article, user=personas.requester).comment == (
        "Still unclear."
    )


def test_the_database_refuses_a_second_answer(personas: Personas, library: Library) -> None:
    ArticleFeedback.objects.create(article=library.public, user=personas.requester, helpful=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        ArticleFeedback.objects.create(
            article=library.public, user=personas.requester, helpful=False
        )
    # Answers of people since deleted (no person) are not limited.
    ArticleFeedback.objects.create(article=library.public, user=None, helpful=True)
    ArticleFeedback.objects.create(article=library.public, user=None, helpful=True)


def test_the_page_says_an_answer_can_be_changed(
    client: Client, personas: Personas, library: Library
) -> None:
    client.force_login(personas.requester)
    url = reverse("help:feedback", args=[library.public.slug])
    first = client.post(url, {"helpful": "no"}, follow=True)
    assert b"Thank you for telling us" in first.content
    assert b"You answered No." in first.content
    second = client.post(url, {"helpful": "yes"}, follow=True)
    assert b"Your new answer replaces your earlier one." in second.content
    assert b"You answered Yes." in second.content
    assert counts(library.public) == (1, 0)


def test_signed_out_visitors_cannot_answer(client: Client, library: Library) -> None:
    response = client.post(reverse("help:feedback", args=[library.public.slug]), {"helpful": "yes"})
    assert response.status_code == 302
    assert "/accounts/" in response["Location"]
    assert not ArticleFeedback.objects.exists()


# --- The migration that keeps each person's latest answer ----------------------------------

BEFORE = [("knowledge", "0003_article_deflections")]


@pytest.fixture
def migrated_back() -> Iterator[MigrationExecutor]:
    """The database as before migration 0004, put back to the latest state afterwards."""
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    try:
        yield executor
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)


@pytest.mark.django_db(transaction=True)
def test_migration_keeps_the_latest_answer(migrated_back: MigrationExecutor) -> None:
    apps = migrated_back.loader.project_state(BEFORE).apps
    old_article = apps.get_model("knowledge", "Article")
    old_feedback = apps.get_model("knowledge", "ArticleFeedback")
    people = make_personas()
    ada, bob = people.requester.pk, people.other_requester.pk
    article = old_article.objects.create(title="VPN", slug="vpn", body="x", helpful_yes=3)
    article.helpful_no = 2
    article.save()
    # Ada answered no, no, then yes; Bob yes once; one answer of a deleted person (yes).
    old_feedback.objects.create(
        article=article, user_id=ada, helpful=False, created_at="2026-01-01T10:00Z"
    )
    old_feedback.objects.create(
        article=article, user_id=ada, helpful=False, created_at="2026-01-02T10:00Z"
    )
    latest = old_feedback.objects.create(
        article=article, user_id=ada, helpful=True, created_at="2026-01-03T10:00Z"
    )
    old_feedback.objects.create(article=article, user_id=bob, helpful=True)
    old_feedback.objects.create(article=article, user_id=None, helpful=True)

    MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    kept = ArticleFeedback.objects.filter(article_id=article.pk)
    assert kept.count() == 3
    assert kept.get(user_id=ada).pk == latest.pk
    assert Article.objects.values_list("helpful_yes", "helpful_no").get(pk=article.pk) == (3, 0)
    with pytest.raises(IntegrityError), transaction.atomic():
        ArticleFeedback.objects.create(article_id=article.pk, user_id=bob, helpful=False)
    assert User.objects.filter(pk=ada).exists()
