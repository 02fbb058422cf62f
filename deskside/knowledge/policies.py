"""Who may see and change help articles (registered in the permission gate).

Requesters see published articles written for everyone; desk staff see every article,
drafts and internal ones included, and may change them.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from deskside.accounts.models import User
from deskside.accounts.permissions import Policy, register
from deskside.knowledge.models import (
    Article,
    ArticleCategory,
    ArticleFeedback,
    ArticleRevision,
    ArticleState,
    Visibility,
)


@register(Article)
class ArticlePolicy(Policy):
    def visible(self, user: User, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if user.uses_console:
            return queryset
        return queryset.filter(state=ArticleState.PUBLISHED, visibility=Visibility.PUBLIC)

    def may_change(self, user: User, obj: Any) -> bool:
        return user.uses_console


@register(ArticleCategory)
class ArticleCategoryPolicy(Policy):
    """Category names are not secret: everyone signed in sees them."""

    def visible(self, user: User, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset

    def may_change(self, user: User, obj: Any) -> bool:
        return user.uses_console


class _StaffOnly(Policy):
    def visible(self, user: User, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset if user.uses_console else queryset.none()

    def may_change(self, user: User, obj: Any) -> bool:
        return False  # history and feedback are records; nothing is edited after the fact


@register(ArticleRevision)
class ArticleRevisionPolicy(_StaffOnly):
    """The edit history is for the people who write articles."""


@register(ArticleFeedback)
class ArticleFeedbackPolicy(_StaffOnly):
    """Readers' comments go to staff; a requester never sees anyone's feedback."""
