"""Who may see the email channel's own records (registered in the permission gate).

Incoming mail is raw evidence: it can hold anything anyone sent, including mail that never
became a ticket and mail for teams the reader is not in. Only administrators see it, and
they see it whole; everyone else reaches mail only through the tickets it became.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from deskside.accounts.models import User
from deskside.accounts.permissions import Policy, register
from deskside.mail.models import InboundMessage, Mailbox


def may_review_mail(user: User) -> bool:
    """Whether ``user`` may see mailboxes and stored mail (and so their review pages)."""
    return user.is_admin


@register(Mailbox)
class MailboxPolicy(Policy):
    def visible(self, user: User, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset if may_review_mail(user) else queryset.none()


@register(InboundMessage)
class InboundMessagePolicy(Policy):
    def visible(self, user: User, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset if may_review_mail(user) else queryset.none()
