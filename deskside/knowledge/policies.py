"""Who may see and change help articles (registered in the permission gate).

Requesters see published articles written for everyone; desk staff see every article,
drafts and internal ones included, and may change them. A ticket's links to articles are
seen by whoever sees both the ticket and the article, and changed by whoever may change
the ticket.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from deskside.accounts import permissions
from deskside.accounts.models import User
from deskside.accounts.permissions import Policy, register
from deskside.knowledge.models import (
    Article,
    ArticleCategory,
    ArticleFeedback,
    ArticleRevision,
    ArticleState,
    TicketArticle,
    Visibility,
)
from deskside.tickets.policies import ticket_filter


def may_write_articles(user: User | None) -> bool:
    """Whether ``user`` may write new articles (and change existing ones): desk staff."""
    return user is not None and user.is_active and user.uses_console


@register(Article)
class ArticlePolicy(Policy):
    def visible(self, user: User, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if user.uses_console:
            return queryset
        return queryset.filter(state=ArticleState.PUBLISHED, visibility=Visibility.PUBLIC)

    def may_change(self, user: User, obj: Any) -> bool:
        return may_write_articles(user)


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


@register(TicketArticle)
class TicketArticlePolicy(Policy):
    """A link is seen with its ticket, and only if its article can be seen too, so a
    requester never learns the title of an internal article or a draft."""

    def visible(self, user: User, queryset: QuerySet[Any]) -> QuerySet[Any]:
        articles = permissions.visible(user, Article).values("pk")
        return queryset.filter(ticket_filter(user, "ticket__"), article__in=articles)

    def may_change(self, user: User, obj: Any) -> bool:
        return permissions.can_change(user, obj.ticket)
