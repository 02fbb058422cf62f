"""Who may see SLA calendars, policies and ladders (registered in the permission gate).

Administrators configure service levels; everyone else meets them only through the
tickets they can see (a ticket's SLA state is part of the ticket).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from deskside.accounts import permissions
from deskside.accounts.models import User
from deskside.sla.models import (
    BusinessCalendar,
    CalendarException,
    EscalationRule,
    EscalationStep,
    Holiday,
    SlaPolicy,
    WorkingPeriod,
)


def may_configure_sla(user: User) -> bool:
    """Whether ``user`` may see and change calendars and policies."""
    return user.is_admin


class _AdminOnly(permissions.Policy):
    def visible(self, user: User, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset if may_configure_sla(user) else queryset.none()


def register() -> None:
    configured = (
        BusinessCalendar,
        WorkingPeriod,
        Holiday,
        CalendarException,
        SlaPolicy,
        EscalationRule,
        EscalationStep,
    )
    for model in configured:
        permissions.register(model)(type(f"{model.__name__}Policy", (_AdminOnly,), {}))
