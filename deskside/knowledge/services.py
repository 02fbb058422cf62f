"""Writes to the knowledge base. Each is transactional and keeps the search index fresh.

Every save of an article's words records an :class:`ArticleRevision`, re-renders the
sanitised HTML and queues the article for re-indexing once the transaction commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from deskside.accounts.models import User
from deskside.knowledge.models import (
    Article,
    ArticleCategory,
    ArticleFeedback,
    ArticleRevision,
    ArticleState,
    Visibility,
)
from deskside.knowledge.search import article_queue_reindex
from deskside.lib.markdown import render_markdown

COMMENT_MAX = 2000
TAG_MAX = 60


def _unique_slug(text: str, *, exclude: int | None = None) -> str:
    base = slugify(text)[:200] or "article"
    slug, n = base, 2
    taken = Article.objects.exclude(pk=exclude) if exclude else Article.objects.all()
    while taken.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _clean_tags(tags: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for tag in tags:
        cleaned = str(tag).strip()[:TAG_MAX]
        if cleaned and cleaned.lower() not in (t.lower() for t in seen):
            seen.append(cleaned)
    return seen


def _check(title: str, body: str) -> None:
    errors = {}
    if not title.strip():
        errors["title"] = _("Give the article a title.")
    if not body.strip():
        errors["body"] = _("Write the article's text.")
    if errors:
        raise ValidationError(errors)


def _record_revision(article: Article, editor: User | None) -> ArticleRevision:
    return ArticleRevision.objects.create(
        article=article,
        editor=editor,
        edited_at=article.updated_at,
        title=article.title,
        summary=article.summary,
        body=article.body,
    )


@transaction.atomic
def article_create(
    *,
    actor: User | None,
    title: str,
    body: str,
    summary: str = "",
    category: ArticleCategory | None = None,
    tags: Iterable[str] = (),
    visibility: str = Visibility.PUBLIC,
    owner: User | None = None,
    review_by: date | None = None,
    slug: str = "",
) -> Article:
    """A new draft article, owned by ``owner`` (or its author)."""
    _check(title, body)
    now = timezone.now()
    article = Article.objects.create(
        title=title.strip(),
        slug=_unique_slug(slug or title),
        summary=summary.strip(),
        body=body,
        body_html=render_markdown(body),
        category=category,
        tags=_clean_tags(tags),
        visibility=visibility,
        owner=owner or actor,
        review_by=review_by,
        created_at=now,
        updated_at=now,
    )
    _record_revision(article, actor)
    article_queue_reindex(article.pk)
    return article


EDITABLE = {"title", "summary", "body", "category", "tags", "visibility", "owner", "review_by"}


@transaction.atomic
def article_update(*, article: Article, actor: User | None, **changes: object) -> Article:
    """Change an article's words or settings; records a revision of the result."""
    unknown = set(changes) - EDITABLE
    if unknown:
        raise TypeError(f"article_update cannot change {', '.join(sorted(unknown))}")
    article = Article.objects.select_for_update().get(pk=article.pk)
    for name, value in changes.items():
        if name == "tags":
            value = _clean_tags(value)  # type: ignore[arg-type]
        elif name in ("title", "summary") and isinstance(value, str):
            value = value.strip()
        setattr(article, name, value)
    _check(article.title, article.body)
    article.body_html = render_markdown(article.body)
    article.updated_at = timezone.now()
    article.save()
    _record_revision(article, actor)
    article_queue_reindex(article.pk)
    return article


@transaction.atomic
def article_publish(*, article: Article, actor: User | None) -> Article:
    """Make the article readable (by everyone, if its visibility is public)."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    article.state = ArticleState.PUBLISHED
    if article.published_at is None:
        article.published_at = timezone.now()
    article.updated_at = timezone.now()
    article.save(update_fields=["state", "published_at", "updated_at"])
    article_queue_reindex(article.pk)
    return article


@transaction.atomic
def article_archive(*, article: Article, actor: User | None) -> Article:
    """Take the article out of the portal, keeping it and its history for staff."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    article.state = ArticleState.ARCHIVED
    article.updated_at = timezone.now()
    article.save(update_fields=["state", "updated_at"])
    article_queue_reindex(article.pk)
    return article


@transaction.atomic
def article_unpublish(*, article: Article, actor: User | None) -> Article:
    """Return the article to draft: staff still see it, requesters no longer do."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    article.state = ArticleState.DRAFT
    article.updated_at = timezone.now()
    article.save(update_fields=["state", "updated_at"])
    article_queue_reindex(article.pk)
    return article


@transaction.atomic
def article_feedback_record(
    *, article: Article, user: User | None, helpful: bool, comment: str = ""
) -> ArticleFeedback:
    """Count a reader's "Was this helpful?" answer.

    A comment reaches the article's owner through the "Feedback on your articles" list
    in the console's knowledge base page.
    """
    feedback = ArticleFeedback.objects.create(
        article=article, user=user, helpful=helpful, comment=comment.strip()[:COMMENT_MAX]
    )
    counter = "helpful_yes" if helpful else "helpful_no"
    Article.objects.filter(pk=article.pk).update(**{counter: F(counter) + 1})
    return feedback


def article_deflection_record(*, article: Article) -> None:
    """Count one request that was not needed because the article solved it, atomically."""
    Article.objects.filter(pk=article.pk).update(deflections=F("deflections") + 1)


def article_view_count(*, article: Article) -> None:
    """Count one reading, atomically, without touching ``updated_at`` or the index."""
    Article.objects.filter(pk=article.pk).update(views=F("views") + 1)
