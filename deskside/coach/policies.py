"""Who may see the coach's records of sent replies (registered in the permission gate).

IT managers, executives and administrators see the whole desk; a team lead sees their
teams' replies and their own; an agent sees their own. Nobody changes them: they are a
record of what was sent.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from deskside.accounts.models import Role, User
from deskside.accounts.permissions import Policy, register
from deskside.coach.models import SentReading


@register(SentReading)
class SentReadingPolicy(Policy):
    def visible(self, user: User, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if user.sees_whole_desk:
            return queryset
        if not user.uses_console:
            return queryset.none()
        if user.role == Role.TEAM_LEAD:
            return queryset.filter(Q(team__lead=user) | Q(author=user))
        return queryset.filter(author=user)

    def may_change(self, user: User, obj: Any) -> bool:
        return False
