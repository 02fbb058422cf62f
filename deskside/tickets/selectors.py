"""Reads of tickets, always through the permission gate.

The console queues, the portal and the API all filter tickets through :func:`ticket_query`,
so a filter means the same thing everywhere and nothing skips the gate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db.models import F, Prefetch, Q, QuerySet
from django.db.models.expressions import OrderBy
from django.utils import timezone
from django.utils.translation import gettext as _

from deskside.accounts import permissions
from deskside.accounts.models import TeamMembership, User
from deskside.tickets.models import (
    ACTIVE_KINDS,
    WAITING_KINDS,
    Attachment,
    CannedReply,
    Category,
    LinkKind,
    Message,
    SavedFilter,
    Status,
    StatusKind,
    Ticket,
    TicketEvent,
    TicketLink,
)

# Queue name -> what it shows. Each is a fixed filter on top of what the person may see.
QUEUES = {
    "mine": _("My tickets"),
    "unassigned": _("Unassigned in my teams"),
    "teams": _("My teams"),
    "all": _("All I may see"),
    "waiting": _("Waiting"),
    "resolved": _("Recently resolved"),
    "at_risk": _("At risk"),
}

# Sort keys offered to people and the API, mapped to indexed orderings.
SORTS: dict[str, tuple[str | OrderBy, ...]] = {
    "updated": ("-updated_at", "-id"),
    "-updated": ("updated_at", "id"),
    "created": ("-created_at", "-id"),
    "-created": ("created_at", "id"),
    "priority": ("priority", "-updated_at", "-id"),
    "number": ("-id",),
    # The next SLA deadline, soonest first; tickets without one come last (the index on
    # (sla_due_at, id) serves it: PostgreSQL sorts NULLs last in ascending order anyway).
    "due": (F("sla_due_at").asc(nulls_last=True), "id"),
}
# Queues whose natural order is not "recently updated" when no sort is asked for.
QUEUE_DEFAULT_SORTS = {"at_risk": "due"}

FILTER_KEYS = frozenset(
    {"status", "kind", "priority", "team", "assignee", "category", "channel", "tag", "requester",
     "created_after", "created_before", "queue", "sort"}
)  # fmt: skip


@dataclass
class TicketFilters:
    """Parsed, validated queue filters. Build with :func:`parse_filters`."""

    queue: str = "all"
    sort: str = "updated"
    status: list[int] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    priority: list[int] = field(default_factory=list)
    team: list[int] = field(default_factory=list)
    assignee: list[int] = field(default_factory=list)  # 0 means "nobody"
    category: list[int] = field(default_factory=list)
    channel: list[str] = field(default_factory=list)
    tag: list[str] = field(default_factory=list)
    requester: list[int] = field(default_factory=list)
    created_after: date | None = None
    created_before: date | None = None


def _ints(values: list[str], name: str) -> list[int]:
    try:
        return [int(value) for value in values if value != ""]
    except ValueError:
        raise ValidationError({name: _("Use numbers only for this filter.")}) from None


def _date(values: list[str], name: str) -> date | None:
    if not values or not values[0]:
        return None
    try:
        return date.fromisoformat(values[0])
    except ValueError:
        raise ValidationError({name: _("Write the date as YYYY-MM-DD.")}) from None


def parse_filters(params: Mapping[str, list[str]], *, strict: bool = False) -> TicketFilters:
    """Turn query parameters (name -> list of values) into filters.

    With ``strict`` (the API), unknown parameters are an error instead of being ignored.
    """
    if strict:
        unknown = set(params) - FILTER_KEYS - {"page", "page_size", "q"}
        if unknown:
            raise ValidationError(
                {name: _("This filter does not exist.") for name in sorted(unknown)}
            )
    queue = (params.get("queue") or ["all"])[0] or "all"
    if queue not in QUEUES:
        raise ValidationError({"queue": _("Unknown queue.")})
    default_sort = QUEUE_DEFAULT_SORTS.get(queue, "updated")
    sort = (params.get("sort") or [default_sort])[0] or default_sort
    if sort not in SORTS:
        raise ValidationError({"sort": _("Sort by one of: %(keys)s.") % {"keys": ", ".join(SORTS)}})
    kinds = [k for k in params.get("kind", []) if k]
    if any(kind not in StatusKind.values for kind in kinds):
        raise ValidationError({"kind": _("Unknown status kind.")})
    priorities = _ints(params.get("priority", []), "priority")
    if any(p not in (1, 2, 3, 4) for p in priorities):
        raise ValidationError({"priority": _("Priority must be 1, 2, 3 or 4.")})
    return TicketFilters(
        queue=queue,
        sort=sort,
        status=_ints(params.get("status", []), "status"),
        kind=kinds,
        priority=priorities,
        team=_ints(params.get("team", []), "team"),
        assignee=_ints(params.get("assignee", []), "assignee"),
        category=_ints(params.get("category", []), "category"),
        channel=[c for c in params.get("channel", []) if c],
        tag=[t.strip().lower() for t in params.get("tag", []) if t.strip()],
        requester=_ints(params.get("requester", []), "requester"),
        created_after=_date(params.get("created_after", []), "created_after"),
        created_before=_date(params.get("created_before", []), "created_before"),
    )


def _queue(queryset: QuerySet[Ticket], user: User, queue: str) -> QuerySet[Ticket]:
    if queue == "mine":
        return queryset.filter(assignee=user, status_kind__in=ACTIVE_KINDS)
    if queue in ("unassigned", "teams"):
        teams = TeamMembership.objects.filter(user=user).values("team_id")
        queryset = queryset.filter(team_id__in=teams, status_kind__in=ACTIVE_KINDS)
        return queryset.filter(assignee__isnull=True) if queue == "unassigned" else queryset
    if queue == "waiting":
        return queryset.filter(status_kind__in=WAITING_KINDS)
    if queue == "resolved":
        since = timezone.now() - timedelta(days=7)
        return queryset.filter(status_kind=StatusKind.RESOLVED, resolved_at__gte=since)
    if queue == "at_risk":
        # Imported here: the SLA app builds on tickets, not the other way round.
        from deskside.sla.services import at_risk_filter

        return queryset.filter(at_risk_filter(), status_kind__in=ACTIVE_KINDS)
    return queryset


def ticket_query(user: User, filters: TicketFilters | None = None) -> QuerySet[Ticket]:
    """Tickets ``user`` may see, narrowed by ``filters``, sorted, ready to paginate."""
    filters = filters or TicketFilters()
    queryset = _queue(permissions.visible(user, Ticket), user, filters.queue)
    if filters.status:
        queryset = queryset.filter(status_id__in=filters.status)
    if filters.kind:
        queryset = queryset.filter(status_kind__in=filters.kind)
    if filters.priority:
        queryset = queryset.filter(priority__in=filters.priority)
    if filters.team:
        queryset = queryset.filter(team_id__in=filters.team)
    if filters.assignee:
        nobody = 0 in filters.assignee
        people = [pk for pk in filters.assignee if pk]
        if nobody and people:
            queryset = queryset.filter(assignee_id__in=people) | queryset.filter(
                assignee__isnull=True
            )
        elif nobody:
            queryset = queryset.filter(assignee__isnull=True)
        else:
            queryset = queryset.filter(assignee_id__in=people)
    if filters.category:
        queryset = queryset.filter(category_id__in=filters.category)
    if filters.channel:
        queryset = queryset.filter(channel__in=filters.channel)
    if filters.tag:
        queryset = queryset.filter(tags__name__in=filters.tag).distinct()
    if filters.requester:
        queryset = queryset.filter(requester_id__in=filters.requester)
    tz = timezone.get_current_timezone()
    if filters.created_after:
        start = datetime.combine(filters.created_after, time.min, tzinfo=tz)
        queryset = queryset.filter(created_at__gte=start)
    if filters.created_before:
        end = datetime.combine(filters.created_before, time.max, tzinfo=tz)
        queryset = queryset.filter(created_at__lte=end)
    return queryset.select_related("requester", "assignee", "team", "category", "status").order_by(
        *SORTS[filters.sort]
    )


def ticket_get(user: User, pk: int) -> Ticket:
    """One ticket the user may see, or 404."""
    return permissions.get_visible_or_404(
        user,
        Ticket.objects.select_related(
            "requester", "requester__department", "assignee", "team", "category", "status",
            "merged_into",
        ),
        pk=pk,
    )  # fmt: skip


def ticket_messages(user: User, ticket: Ticket) -> QuerySet[Message]:
    """The conversation as ``user`` may see it (requesters never see internal notes)."""
    return (
        permissions.visible(user, Message.objects.filter(ticket=ticket))
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=permissions.visible(user, Attachment)))
        .order_by("created_at", "id")
    )


def ticket_events(user: User, ticket: Ticket) -> QuerySet[TicketEvent]:
    """The change history. Only IT staff see it; requesters get the plain status timeline."""
    if not user.uses_console or not permissions.can_view(user, ticket):
        return TicketEvent.objects.none()
    return TicketEvent.objects.filter(ticket=ticket).select_related("actor").order_by("at", "id")


def attachment_get(user: User, key: str) -> Attachment:
    return permissions.get_visible_or_404(
        user, Attachment.objects.select_related("ticket"), key=key
    )


def requester_other_tickets(user: User, ticket: Ticket, limit: int = 5) -> QuerySet[Ticket]:
    """The requester's other recent tickets, for the console's requester panel."""
    return (
        permissions.visible(user, Ticket)
        .filter(requester_id=ticket.requester_id)
        .exclude(pk=ticket.pk)
        .select_related("status")
        .order_by("-created_at")[:limit]
    )


def ticket_links(user: User, ticket: Ticket) -> list[tuple[str, Ticket, int]]:
    """The tickets linked to ``ticket`` that ``user`` may see: (how it relates, ticket, link id).

    Links to tickets the user may not see are left out, so a restricted team's ticket is
    not revealed by its number appearing on another ticket.
    """
    visible_tickets = permissions.visible(user, Ticket)
    outgoing = TicketLink.objects.filter(source=ticket, target__in=visible_tickets).select_related(
        "target", "target__status"
    )
    incoming = TicketLink.objects.filter(target=ticket, source__in=visible_tickets).select_related(
        "source", "source__status"
    )
    labels_out: dict[str, str] = {
        LinkKind.RELATED.value: _("Related to"),
        LinkKind.DUPLICATE.value: _("Duplicate of"),
        LinkKind.PARENT.value: _("Parent of"),
    }
    labels_in: dict[str, str] = {
        LinkKind.RELATED.value: _("Related to"),
        LinkKind.DUPLICATE.value: _("Has duplicate"),
        LinkKind.PARENT.value: _("Child of"),
    }
    found = [(str(labels_out.get(link.kind, link.kind)), link.target, link.pk) for link in outgoing]
    found += [(str(labels_in.get(link.kind, link.kind)), link.source, link.pk) for link in incoming]
    return found


def canned_replies(user: User) -> QuerySet[CannedReply]:
    """Canned replies for everyone plus those of the user's own teams."""
    if not user.uses_console:
        return CannedReply.objects.none()
    teams = TeamMembership.objects.filter(user=user).values("team_id")
    return CannedReply.objects.filter(Q(team__isnull=True) | Q(team_id__in=teams)).order_by("title")


def saved_filters(user: User) -> QuerySet[SavedFilter]:
    """A person's own saved queue filters; nobody sees another's."""
    return SavedFilter.objects.filter(owner_id=user.pk).order_by("name")


# --- Added for the REST API -------------------------------------------------------------


def category_list(user: User) -> QuerySet[Category]:
    """The service catalogue, which everyone signed in may read (requesters pick from it).

    Retired categories are shown only to IT staff, who still meet them on old tickets.
    """
    if not user.is_active:
        return Category.objects.none()
    categories = Category.objects.select_related("default_team").order_by("position", "name", "pk")
    return categories if user.uses_console else categories.filter(is_active=True)


def status_list(user: User) -> QuerySet[Status]:
    """Every status, for everyone signed in: requesters see them as their requester_label."""
    if not user.is_active:
        return Status.objects.none()
    return Status.objects.order_by("position", "name", "pk")


def ticket_link_records(user: User, ticket: Ticket) -> QuerySet[TicketLink]:
    """The link rows to and from ``ticket`` whose both ends ``user`` may see (for the API,
    which names links by ID so they can be removed).

    Requesters get none: links are the desk's own bookkeeping.
    """
    if not user.uses_console or not permissions.can_view(user, ticket):
        return TicketLink.objects.none()
    visible_ids = permissions.visible(user, Ticket).values("pk")
    return (
        TicketLink.objects.filter(Q(source=ticket) | Q(target=ticket))
        .filter(source_id__in=visible_ids, target_id__in=visible_ids)
        .order_by("created_at", "pk")
    )
