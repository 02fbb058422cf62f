"""Who may see and change tickets, their messages and attachments (registered in the gate)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from deskside.accounts.models import Team, User
from deskside.accounts.permissions import Policy, register
from deskside.tickets.models import Attachment, Message, MessageKind, Ticket


def ticket_filter(user: User, prefix: str = "") -> Q:
    """The tickets ``user`` may see, as a filter (``prefix`` reaches them through a relation).

    - IT managers, executives and administrators: every ticket.
    - Agents and team leads: every ticket except those of restricted teams they are not in,
      unless assigned to them or requested by them.
    - Requesters: tickets they requested or watch.

    The small id lists (watched tickets, hidden teams) are read first and inlined, so the
    final query is a plain OR of indexed columns. A subquery inside the OR made PostgreSQL
    scan the whole tickets table.
    """
    if user.sees_whole_desk:
        return Q()
    watched = list(
        Ticket.watchers.through.objects.filter(user_id=user.pk).values_list("ticket_id", flat=True)
    )
    own = Q(**{f"{prefix}requester_id": user.pk})
    if watched:
        own |= Q(**{f"{prefix}pk__in": watched})
    if not user.uses_console:
        return own
    hidden_teams = list(
        Team.objects.filter(is_restricted=True)
        .exclude(memberships__user=user)
        .values_list("pk", flat=True)
    )
    if not hidden_teams:
        return Q()
    return (
        Q(**{f"{prefix}team__isnull": True})
        | ~Q(**{f"{prefix}team_id__in": hidden_teams})
        | Q(**{f"{prefix}assignee_id": user.pk})
        | own
    )


@register(Ticket)
class TicketPolicy(Policy):
    def visible(self, user: User, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(ticket_filter(user))

    def may_change(self, user: User, obj: Any) -> bool:
        # Requesters act on their tickets only through replies and "fixed / not fixed".
        return user.uses_console

    def sees_loaded(self, user: User, obj: Any) -> bool:
        # Both hold in every branch of ticket_filter: the whole desk, and one's own ticket.
        return user.sees_whole_desk or (obj.pk is not None and obj.requester_id == user.pk)


@register(Message)
class MessagePolicy(Policy):
    def visible(self, user: User, queryset: QuerySet[Any]) -> QuerySet[Any]:
        queryset = queryset.filter(ticket_filter(user, "ticket__"))
        if not user.uses_console:
            queryset = queryset.exclude(kind=MessageKind.NOTE)
        return queryset

    def may_change(self, user: User, obj: Any) -> bool:
        return False  # the conversation is a record; nothing is edited after it is sent


@register(Attachment)
class AttachmentPolicy(Policy):
    def visible(self, user: User, queryset: QuerySet[Any]) -> QuerySet[Any]:
        queryset = queryset.filter(ticket_filter(user, "ticket__"))
        if not user.uses_console:
            queryset = queryset.exclude(message__kind=MessageKind.NOTE)
        return queryset

    def may_change(self, user: User, obj: Any) -> bool:
        return False
