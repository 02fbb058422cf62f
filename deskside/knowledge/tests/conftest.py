"""Knowledge base fixtures: a few articles in every state, indexed as after a commit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from deskside.knowledge import services
from deskside.knowledge.models import Article, ArticleCategory, Visibility
from deskside.testing import Personas

# pytest-django's django_capture_on_commit_callbacks: runs on_commit hooks inside a test.
Capture = Callable[..., Any]


@dataclass(frozen=True)
class Library:
    category: ArticleCategory
    public: Article
    internal: Article
    draft: Article
    archived: Article


@pytest.fixture
def library(personas: Personas, django_capture_on_commit_callbacks: Capture) -> Library:
    with django_capture_on_commit_callbacks(execute=True):
        category = ArticleCategory.objects.create(name="Email")
        public = services.article_create(
            actor=personas.agent,
            title="Set up email on your phone",
            summary="Read your work email on an iPhone or Android phone.",
            body="Open the **Outlook** app and sign in with your work email address.",
            category=category,
            tags=["email", "mobile"],
        )
        public = services.article_publish(article=public, actor=personas.agent)
        internal = services.article_create(
            actor=personas.agent,
            title="Mailbox restore runbook",
            body="Restore a deleted mailbox from the email backup console.",
            category=category,
            visibility=Visibility.INTERNAL,
        )
        internal = services.article_publish(article=internal, actor=personas.agent)
        draft = services.article_create(
            actor=personas.agent,
            title="Email quota changes",
            body="Draft: new email quotas arrive next month.",
            category=category,
        )
        archived = services.article_create(
            actor=personas.agent, title="Old webmail address", body="Webmail email moved."
        )
        archived = services.article_publish(article=archived, actor=personas.agent)
        archived = services.article_archive(article=archived, actor=personas.agent)
    return Library(category, public, internal, draft, archived)
