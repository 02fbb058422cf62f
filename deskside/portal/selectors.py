"""Reads for the portal. Tickets always go through the permission gate.

The portal shows a person *their* requests: the ones they asked for and the ones they
follow. Desk staff can open the portal too, but it never becomes a back door into other
people's tickets or into internal notes, whatever the staff member could see in the console.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.http import Http404
from django.utils.translation import gettext as _

from deskside.accounts import permissions
from deskside.accounts.models import User
from deskside.portal.models import IntakeQuestion
from deskside.tickets import selectors as ticket_selectors
from deskside.tickets.models import (
    ACTIVE_KINDS,
    Category,
    Message,
    MessageKind,
    PriorityLevel,
    Status,
    StatusKind,
    Ticket,
    TicketEvent,
)

# The service catalogue, its intake questions and the priority descriptions are the same
# for everyone who may ask for help, so they are read without a per-person filter.


def categories_for_intake() -> QuerySet[Category]:
    return Category.objects.filter(is_active=True).order_by("position", "name")


def category_for_intake(value: object) -> Category | None:
    """The active category named by a form or query value, or None if it is not one."""
    try:
        pk = int(str(value))
    except (TypeError, ValueError):
        return None
    return categories_for_intake().filter(pk=pk).first()


def intake_questions(category: Category | None) -> list[IntakeQuestion]:
    if category is None:
        return []
    return list(
        IntakeQuestion.objects.filter(category=category, is_active=True).order_by("position", "id")
    )


def priority_levels() -> list[PriorityLevel]:
    return list(PriorityLevel.objects.order_by("priority"))


def _mine(user: User) -> Q:
    watched = Ticket.watchers.through.objects.filter(user_id=user.pk).values("ticket_id")
    return Q(requester_id=user.pk) | Q(pk__in=watched)


def portal_tickets(user: User) -> QuerySet[Ticket]:
    """The person's own and watched tickets they may see, open ones first, newest activity first."""
    return (
        permissions.visible(user, Ticket)
        .filter(_mine(user))
        .annotate(
            closed_last=Case(
                When(status_kind__in=ACTIVE_KINDS, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .select_related("status", "assignee", "category")
        .order_by("closed_last", "-updated_at", "-id")
    )


def portal_open_tickets(user: User) -> QuerySet[Ticket]:
    return portal_tickets(user).filter(status_kind__in=ACTIVE_KINDS)


def portal_ticket_get(user: User, pk: int) -> Ticket:
    """One of the person's own or watched tickets, or 404 (never 403, so nothing leaks)."""
    ticket = ticket_selectors.ticket_get(user, pk)
    if not (ticket.requester_id == user.pk or ticket.watchers.filter(pk=user.pk).exists()):
        raise Http404
    return ticket


def portal_messages(user: User, ticket: Ticket) -> QuerySet[Message]:
    """The conversation without internal notes, even for desk staff looking at the portal."""
    return ticket_selectors.ticket_messages(user, ticket).exclude(kind=MessageKind.NOTE)


# --- The plain-language timeline ------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One line of the requester's timeline."""

    at: datetime
    text: str
    kind: str  # received, working, waiting, fixed, closed, reopened: styles the marker


# Only these events are turned into timeline lines; nothing else of the agent history
# (notes, tags, priorities, team names) ever reaches a requester.
_TIMELINE_ACTIONS = (
    "created", "assign", "status", "resolved", "reopened", "confirmed_fixed", "not_fixed",
    "follow_up_of", "merged_into",
)  # fmt: skip


def _first_name(full_name: str) -> str:
    return full_name.split(" ")[0] if full_name else ""


def ticket_timeline(user: User, ticket: Ticket) -> list[Step]:
    """What has happened, in the words a requester would use ("Sam from IT is on it")."""
    if not permissions.can_view(user, ticket):
        return []
    events = TicketEvent.objects.filter(ticket=ticket, action__in=_TIMELINE_ACTIONS).order_by(
        "at", "id"
    )
    # Status events store the status's name; a status renamed since then is simply not
    # drawn, which is better than guessing what it meant.
    statuses = {name: (kind, label) for name, kind, label in
                Status.objects.values_list("name", "kind", "requester_label")}  # fmt: skip
    steps: list[Step] = []
    for event in events:
        step = _step(event, ticket, statuses)
        # Several changes recorded together (confirm, then close) read as one line.
        if step is not None and not (steps and steps[-1].text == step.text):
            steps.append(step)
    return steps


def _step(event: TicketEvent, ticket: Ticket, statuses: dict[str, tuple[str, str]]) -> Step | None:
    at, action = event.at, event.action
    if action == "created":
        return Step(at, _("We've received it"), "received")
    if action == "follow_up_of":
        return Step(
            at,
            _("This follows on from request #%(number)s") % {"number": event.new_value},
            "received",
        )
    if action == "assign" and event.field == "assignee" and event.new_value:
        # The stored value is the agent's full name at the time; people know them by
        # their first name, and the current assignee's preferred name wins.
        if ticket.assignee is not None and ticket.assignee.full_name == event.new_value:
            name = ticket.assignee.first_name
        else:
            name = _first_name(event.new_value)
        return Step(at, _("%(name)s from IT is on it") % {"name": name}, "working")
    if action == "status":
        kind, label = statuses.get(event.new_value, ("", ""))
        if kind in (StatusKind.WAITING_REQUESTER, StatusKind.WAITING_THIRD_PARTY):
            return Step(at, label or _("Waiting for you"), "waiting")
        if kind == StatusKind.CLOSED:
            return Step(at, label or _("Closed"), "closed")
        # New, open and resolved are told by the assignment, reopen and resolve lines.
        return None
    if action == "resolved":
        return Step(at, _("Fixed"), "fixed")
    if action == "reopened":
        return Step(at, _("Opened again: we're looking at it"), "reopened")
    if action == "confirmed_fixed":
        return Step(at, _("You confirmed it's fixed"), "closed")
    if action == "not_fixed":
        return Step(at, _("You told us it's still not working"), "reopened")
    if action == "merged_into":
        return Step(
            at,
            _("Joined with request #%(number)s, where we carry on") % {"number": event.new_value},
            "closed",
        )
    return None
