"""Reads of SLA calendars, policies and a ticket's clocks, through the permission gate.

Calendars and policies are the desk's configuration: only administrators see or change
them. A ticket's clocks are shown to whoever may see the ticket in the console.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from deskside.accounts import permissions
from deskside.accounts.models import User
from deskside.sla.models import (
    BusinessCalendar,
    Clock,
    SlaEvent,
    SlaPolicy,
    TicketSla,
)
from deskside.sla.phrasing import STOPPED_KINDS, due_label, ticket_sla_or_none
from deskside.sla.policies import may_configure_sla
from deskside.tickets.models import Ticket

__all__ = [
    "ClockState",
    "SlaPanel",
    "calendar_get",
    "calendar_list",
    "may_configure_sla",
    "policy_get",
    "policy_list",
    "ticket_sla_events",
    "ticket_sla_panel",
]


def calendar_list(user: User) -> QuerySet[BusinessCalendar]:
    # The models' own orderings (weekday and time, date) apply to the prefetched rows.
    return (
        permissions.visible(user, BusinessCalendar)
        .prefetch_related("periods", "holidays", "exceptions")
        .order_by("name", "pk")
    )


def calendar_get(user: User, pk: int) -> BusinessCalendar:
    return permissions.get_visible_or_404(user, calendar_list(user), pk=pk)


def policy_list(user: User) -> QuerySet[SlaPolicy]:
    return (
        permissions.visible(user, SlaPolicy)
        .select_related("calendar")
        .prefetch_related("categories", "teams", "departments")
        .order_by("position", "name", "pk")
    )


def policy_get(user: User, pk: int) -> SlaPolicy:
    return permissions.get_visible_or_404(user, policy_list(user), pk=pk)


# --- A ticket's clocks ------------------------------------------------------------------


def ticket_sla_events(user: User, ticket: Ticket) -> QuerySet[SlaEvent]:
    """Warnings and breaches recorded on ``ticket``; IT staff only (it is the desk's record)."""
    if not user.uses_console or not permissions.can_view(user, ticket):
        return SlaEvent.objects.none()
    return SlaEvent.objects.filter(ticket_id=ticket.pk).order_by("recorded_at", "id")


@dataclass(frozen=True)
class ClockState:
    """One clock as the ticket page shows it."""

    clock: str
    label: str
    due: datetime | None
    state: str  # "met", "breached", "running", "overdue", "paused", "stopped"
    words: str


@dataclass(frozen=True)
class SlaPanel:
    policy_name: str
    clocks: list[ClockState]
    paused: bool
    paused_minutes: int
    events: list[SlaEvent]


def _clock_states(sla: TicketSla, ticket: Ticket, now: datetime) -> list[ClockState]:
    stopped = ticket.status_kind in STOPPED_KINDS
    paused = sla.paused_since is not None and not stopped
    states = []

    def running(clock: str, due: datetime | None, can_pause: bool) -> ClockState:
        label = str(Clock(clock).label)
        if can_pause and paused:
            return ClockState(clock, label, due, "paused", _("Paused while we wait"))
        found = due_label(due, now)
        if found is None:
            return ClockState(clock, label, due, "stopped", _("No deadline"))
        state = "overdue" if found.state == "overdue" else "running"
        return ClockState(clock, label, due, state, found.text)

    # First response.
    label = str(Clock.FIRST_RESPONSE.label)
    if ticket.first_response_at is not None:
        breached = sla.first_response_breached
        states.append(
            ClockState(
                Clock.FIRST_RESPONSE,
                label,
                sla.first_response_due,
                "breached" if breached else "met",
                _("Missed: answered late") if breached else _("Met"),
            )
        )
    elif stopped:
        states.append(
            ClockState(Clock.FIRST_RESPONSE, label, sla.first_response_due, "stopped", _("Stopped"))
        )
    else:
        states.append(running(Clock.FIRST_RESPONSE, sla.first_response_due, can_pause=False))

    # Next update: only while a requester's message waits, or once one was missed.
    if sla.next_update_started_at is not None and not stopped:
        states.append(running(Clock.NEXT_UPDATE, sla.next_update_due, can_pause=True))
    elif sla.next_update_breaches:
        states.append(
            ClockState(
                Clock.NEXT_UPDATE,
                str(Clock.NEXT_UPDATE.label),
                None,
                "breached",
                ngettext("Missed once", "Missed %(count)d times", sla.next_update_breaches)
                % {"count": sla.next_update_breaches},
            )
        )

    # Resolution.
    label = str(Clock.RESOLUTION.label)
    if stopped:
        breached = sla.resolution_breached
        states.append(
            ClockState(
                Clock.RESOLUTION,
                label,
                sla.resolution_due,
                "breached" if breached else "met",
                _("Missed: resolved late") if breached else _("Met"),
            )
        )
    else:
        states.append(running(Clock.RESOLUTION, sla.resolution_due, can_pause=True))
    return states


def ticket_sla_panel(user: User, ticket: Ticket, now: datetime | None = None) -> SlaPanel | None:
    """What the console's SLA panel shows for ``ticket``, or None if no policy applies."""
    if not user.uses_console:
        return None
    now = now or timezone.now()
    sla = ticket_sla_or_none(ticket)
    if sla is None or sla.policy is None:
        return None
    return SlaPanel(
        policy_name=sla.policy.name,
        clocks=_clock_states(sla, ticket, now),
        paused=sla.paused_since is not None and ticket.status_kind not in STOPPED_KINDS,
        paused_minutes=round(sla.paused_minutes),
        events=list(ticket_sla_events(user, ticket)),
    )
