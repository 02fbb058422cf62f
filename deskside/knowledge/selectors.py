"""Reads from the knowledge base, always through the permission gate."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from deskside.accounts import permissions
from deskside.accounts.models import User
from deskside.knowledge.models import (
    Article,
    ArticleCategory,
    ArticleFeedback,
    ArticleRevision,
    ArticleState,
    Visibility,
)


def articles_for(user: User) -> QuerySet[Article]:
    """Every article ``user`` may see."""
    return permissions.visible(user, Article).select_related("category", "owner")


def portal_articles(user: User, *, category: int | None = None) -> QuerySet[Article]:
    """What the portal lists: published articles written for everyone, newest first.

    Staff use the portal to see what requesters see, so the list is the same for them.
    """
    queryset = articles_for(user).filter(state=ArticleState.PUBLISHED, visibility=Visibility.PUBLIC)
    if category is not None:
        queryset = queryset.filter(category_id=category)
    return queryset.order_by("-published_at", "-pk")


def portal_categories(user: User) -> QuerySet[ArticleCategory]:
    """Categories holding at least one article the portal lists, with that count."""
    listed = Q(articles__state=ArticleState.PUBLISHED, articles__visibility=Visibility.PUBLIC)
    return (
        permissions.visible(user, ArticleCategory)
        .annotate(article_count=Count("articles", filter=listed))
        .filter(article_count__gt=0)
    )


def article_get(user: User, slug: str) -> Article:
    """One article by its address; anything the user may not see is "not found"."""
    return permissions.get_visible_or_404(user, articles_for(user), slug=slug)


def article_by_pk(user: User, pk: int) -> Article:
    return permissions.get_visible_or_404(user, articles_for(user), pk=pk)


def console_articles(user: User, *, state: str = "", visibility: str = "") -> QuerySet[Article]:
    queryset = articles_for(user)
    if state in ArticleState.values:
        queryset = queryset.filter(state=state)
    if visibility in Visibility.values:
        queryset = queryset.filter(visibility=visibility)
    return queryset.order_by("-updated_at", "-pk")


def feedback_for_owner(user: User, limit: int = 20) -> QuerySet[ArticleFeedback]:
    """Readers' comments on the articles ``user`` owns, newest first."""
    return (
        permissions.visible(user, ArticleFeedback)
        .filter(article__owner=user)
        .exclude(comment="")
        .select_related("article", "user")[:limit]
    )


def article_revisions(user: User, article: Article) -> QuerySet[ArticleRevision]:
    return permissions.visible(user, ArticleRevision).filter(article=article)
