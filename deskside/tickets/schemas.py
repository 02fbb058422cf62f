"""What the tickets API sends and accepts.

Input schemas forbid fields they do not know, so a typo ("asignee_id") is a 400 naming
the field instead of a change that silently did not happen.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.urls import reverse
from ninja import Field, Schema
from pydantic import ConfigDict

from deskside.accounts.api import PersonRef
from deskside.accounts.models import Team, User
from deskside.api.schemas import Ref
from deskside.sla.models import Clock, SlaEvent, TicketSla
from deskside.sla.phrasing import ticket_sla_or_none
from deskside.tickets import selectors
from deskside.tickets.models import (
    Attachment,
    Channel,
    LinkKind,
    Message,
    MessageKind,
    StatusKind,
    Ticket,
    TicketLink,
)

# Enough for any real ticket; a bound keeps one request from creating thousands of tags.
MAX_TAGS_PER_REQUEST = 20


def _caller(context: dict[str, Any] | None) -> User | None:
    request = (context or {}).get("request")
    person = getattr(request, "auth", None)
    return person if isinstance(person, User) else None


def _is_staff(context: dict[str, Any] | None) -> bool:
    person = _caller(context)
    return person is not None and person.uses_console


class StrictSchema(Schema):
    """A request body that rejects unknown fields."""

    model_config = ConfigDict(extra="forbid")


# --- Output ------------------------------------------------------------------------------


class StatusOut(Schema):
    id: int
    name: str = Field(description="The name IT staff see, such as 'Waiting on supplier'.")
    kind: StatusKind = Field(description="The lifecycle step this status belongs to.")
    requester_label: str = Field(description="What the requester sees, such as 'Fixed'.")
    position: int


class CategoryOut(Schema):
    id: int
    name: str
    description: str
    is_active: bool = Field(description="Retired categories are only listed for IT staff.")


class LinkOut(Schema):
    id: int
    kind: LinkKind = Field(
        description="related, duplicate (source is a duplicate of target) or parent "
        "(source is the parent of target)."
    )
    source_id: int
    target_id: int
    created_at: datetime


class SlaEventOut(Schema):
    clock: Clock
    threshold: int = Field(description="The percentage of the target used; 100 is a breach.")
    due_at: datetime
    recorded_at: datetime


class TicketSlaOut(Schema):
    """Where the ticket's service-level clocks stand. Due times are null when not running."""

    policy: str | None = Field(description="The name of the SLA policy that applies.")
    first_response_due: datetime | None
    next_update_due: datetime | None = Field(
        description="Set while a message from the requester waits for an answer."
    )
    resolution_due: datetime | None
    paused: bool = Field(description="The resolution and next-update clocks are stopped.")
    paused_minutes: float = Field(description="Working minutes spent paused so far.")
    first_response_breached: bool
    resolution_breached: bool
    next_update_breaches: int = Field(description="How many next-update promises were missed.")

    @staticmethod
    def resolve_policy(obj: TicketSla) -> str | None:
        return obj.policy.name if obj.policy is not None else None

    @staticmethod
    def resolve_paused(obj: TicketSla) -> bool:
        return obj.paused_since is not None


class TicketSlaDetailOut(TicketSlaOut):
    events: list[SlaEventOut] = Field(
        description="Warnings and breaches recorded, oldest first. Always empty for requesters."
    )

    @staticmethod
    def resolve_events(obj: TicketSla, context: dict[str, Any]) -> list[SlaEvent]:
        if not _is_staff(context):
            return []
        return list(SlaEvent.objects.filter(ticket_id=obj.ticket_id).order_by("recorded_at", "id"))


class TicketOut(Schema):
    """A ticket. For requesters, internal routing (team and tags) is left empty."""

    id: int
    number: str = Field(description="The number shown to people, such as '#1042'.")
    subject: str
    requester: PersonRef
    department: Ref | None
    channel: Channel
    category: Ref | None
    team: Ref | None = Field(description="Always null for requesters.")
    assignee: PersonRef | None
    priority: int = Field(description="1 business-critical, 2 high, 3 normal, 4 low.")
    status: StatusOut
    tags: list[str] = Field(description="Always empty for requesters.")
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    last_requester_activity_at: datetime | None
    reopen_count: int
    first_contact_resolution: bool
    resolution_note: str = Field(description="What happened and how to avoid it next time.")
    merged_into_id: int | None = Field(description="The ticket this one was merged into.")
    sla: TicketSlaOut | None = Field(
        description="Service-level clocks; null when no SLA policy applies. The events are "
        "listed on GET /tickets/{ticket_id}."
    )

    @staticmethod
    def resolve_sla(obj: Ticket) -> TicketSla | None:
        sla = ticket_sla_or_none(obj)
        return sla if sla is not None and sla.policy_id is not None else None

    @staticmethod
    def resolve_team(obj: Ticket, context: dict[str, Any]) -> Team | None:
        # Requesters are not shown teams anywhere (the permission gate hides them).
        return obj.team if _is_staff(context) else None

    @staticmethod
    def resolve_tags(obj: Ticket, context: dict[str, Any]) -> list[str]:
        if not _is_staff(context):
            return []
        return sorted(tag.name for tag in obj.tags.all())


class TicketDetailOut(TicketOut):
    sla: TicketSlaDetailOut | None = Field(  # the list form plus the events
        description="Service-level clocks with their warnings and breaches; null when no "
        "SLA policy applies."
    )
    links: list[LinkOut] = Field(
        description="Links to and from this ticket whose other end you may see. "
        "Always empty for requesters."
    )

    @staticmethod
    def resolve_links(obj: Ticket, context: dict[str, Any]) -> list[TicketLink]:
        person = _caller(context)
        if person is None:
            return []
        return list(selectors.ticket_link_records(person, obj))


class AttachmentOut(Schema):
    key: str = Field(description="Use it to download the file from /attachments/{key}.")
    filename: str
    content_type: str
    size: int = Field(description="In bytes.")
    created_at: datetime
    download_url: str

    @staticmethod
    def resolve_download_url(obj: Attachment) -> str:
        return reverse("api:attachments_download", kwargs={"key": obj.key})


class MessageOut(Schema):
    id: int
    ticket_id: int = Field(
        description="The ticket it belongs to. A requester's reply to a long-closed ticket "
        "starts a new ticket, which this then names."
    )
    kind: MessageKind = Field(description="public (a reply), note (IT staff only) or system.")
    author: PersonRef | None
    body: str = Field(description="As written, in Markdown.")
    body_html: str = Field(description="The body rendered to safe HTML.")
    channel: Channel
    created_at: datetime
    attachments: list[AttachmentOut]

    @staticmethod
    def resolve_attachments(obj: Message) -> list[Attachment]:
        return list(obj.attachments.all())


# --- Input -------------------------------------------------------------------------------


class TicketListQuery(Schema):
    """The filters of the console's queues, documented here; all may be repeated."""

    queue: str | None = Field(
        None,
        description="mine, unassigned, teams, all (the default), waiting, resolved or at_risk "
        "(open tickets past or near their SLA deadline, soonest first).",
    )
    sort: str | None = Field(
        None,
        description="updated (newest change first, the default), -updated, created, "
        "-created, priority, number or due (soonest SLA deadline first, none last).",
    )
    status: list[str] | None = Field(None, description="Status IDs.")
    kind: list[str] | None = Field(
        None,
        description="Status kinds: new, open, waiting_requester, waiting_third_party, "
        "resolved, closed.",
    )
    priority: list[str] | None = Field(None, description="1, 2, 3 or 4.")
    team: list[str] | None = Field(None, description="Team IDs.")
    assignee: list[str] | None = Field(None, description="People IDs; 0 means nobody.")
    category: list[str] | None = Field(None, description="Category IDs.")
    channel: list[str] | None = Field(None, description="portal, email, phone, api or agent.")
    tag: list[str] | None = Field(None, description="Tag names.")
    requester: list[str] | None = Field(None, description="People IDs.")
    created_after: str | None = Field(None, description="A date, YYYY-MM-DD (inclusive).")
    created_before: str | None = Field(None, description="A date, YYYY-MM-DD (inclusive).")


class TicketCreateIn(StrictSchema):
    subject: str = Field(max_length=250, description="A short summary of the problem.")
    description: str = Field(description="What is needed, in Markdown.")
    requester_id: int | None = Field(
        None, description="Who needs help. Defaults to you; only IT staff may name someone else."
    )
    category_id: int | None = None
    priority: int = Field(3, ge=1, le=4, description="1 business-critical … 4 low.")
    team_id: int | None = Field(None, description="IT staff only.")
    assignee_id: int | None = Field(None, description="IT staff only.")
    tags: list[str] = Field(
        default_factory=list, max_length=MAX_TAGS_PER_REQUEST, description="IT staff only."
    )


class TicketUpdateIn(StrictSchema):
    """Only the fields sent change. Send null for category, team or assignee to clear it."""

    status_id: int | None = Field(
        None, description="A working status. To resolve, use the resolve action."
    )
    priority: int | None = Field(None, ge=1, le=4)
    category_id: int | None = None
    team_id: int | None = None
    assignee_id: int | None = None
    add_tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS_PER_REQUEST)
    remove_tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS_PER_REQUEST)


class ResolveIn(StrictSchema):
    note: str = Field(
        "",
        description="Required: a sentence or two to the requester saying what happened and "
        "how to avoid it next time. It is sent to them.",
    )
    first_contact: bool = Field(False, description="Resolved during the first contact.")
    confirm_open_children: bool = Field(
        False, description="Resolve even though child tickets are still open."
    )


class ReopenIn(StrictSchema):
    status_id: int | None = Field(None, description="The working status to reopen into.")


class MergeIn(StrictSchema):
    into_id: int = Field(description="The ticket that survives; this one then points to it.")


class LinkIn(StrictSchema):
    target_id: int
    kind: LinkKind


class MessageIn(StrictSchema):
    kind: Literal["reply", "note"] = Field(
        "reply", description="reply (the requester sees it) or note (IT staff only)."
    )
    body: str = Field(description="In Markdown.")
    status_id: int | None = Field(
        None, description="IT staff replying may move the ticket to this working status."
    )
