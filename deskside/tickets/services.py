"""Writes on tickets. Each is one transaction that records its history.

Every function takes the acting person as ``actor`` and checks, through the permission
gate, that they may do it; nothing here trusts its caller to have checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from deskside.accounts import permissions
from deskside.accounts.models import Team, User
from deskside.coach import services as coach
from deskside.lib.markdown import render_markdown
from deskside.mail import tasks as mail
from deskside.search.tasks import search_queue_reindex
from deskside.system.memo import memo_scope
from deskside.tickets.attachments import UploadedFile, attachments_save
from deskside.tickets.models import (
    ACTIVE_KINDS,
    Attachment,
    Category,
    Channel,
    LinkKind,
    Message,
    MessageKind,
    Priority,
    SavedFilter,
    Status,
    StatusKind,
    Tag,
    Ticket,
    TicketEvent,
    TicketLink,
    TicketSettings,
)
from deskside.tickets.statuses import default_status

SUBJECT_MAX = 250
RESOLUTION_NOTE_MIN = 20


class _Unset:
    pass


UNSET: Any = _Unset()


def _record(
    ticket: Ticket,
    actor: User | None,
    action: str,
    field: str = "",
    old: object = "",
    new: object = "",
) -> TicketEvent:
    return TicketEvent.objects.create(
        ticket=ticket,
        actor=actor,
        action=action,
        field=field,
        old_value=str(old if old is not None else "")[:250],
        new_value=str(new if new is not None else "")[:250],
    )


def _require_view(actor: User, ticket: Ticket) -> None:
    if not permissions.can_view(actor, ticket):
        raise Http404


def _require_agent(actor: User, ticket: Ticket) -> None:
    _require_view(actor, ticket)
    if not permissions.can_change(actor, ticket):
        raise PermissionDenied(_("Only the IT team can do that."))


def _clean_subject(subject: str) -> str:
    text = " ".join(subject.split())
    if not text:
        raise ValidationError({"subject": _("Please give a short summary of the problem.")})
    if len(text) > SUBJECT_MAX:
        raise ValidationError(
            {"subject": _("Keep the summary under %(max)d characters.") % {"max": SUBJECT_MAX}}
        )
    return text


def _clean_body(body: str, field: str = "body") -> str:
    text = body.strip()
    if not text:
        raise ValidationError({field: _("Please write a message.")})
    return text


# A change to any of these can start, stop, pause or move an SLA clock.
SLA_FIELDS = frozenset(
    {"status", "status_kind", "priority", "category", "team", "first_response_at", "resolved_at"}
)


def _touch(
    ticket: Ticket, *fields: str, requester_wrote: bool = False, agent_replied: bool = False
) -> None:
    ticket.updated_at = timezone.now()
    ticket.save(update_fields=[*fields, "updated_at"])
    if "subject" in fields:
        search_queue_reindex(ticket.pk)
    if requester_wrote or agent_replied or SLA_FIELDS.intersection(fields):
        _sla_changed(ticket, requester_wrote=requester_wrote, agent_replied=agent_replied)


def _sla_changed(
    ticket: Ticket,
    *,
    requester_wrote: bool = False,
    agent_replied: bool = False,
    created: bool = False,
) -> None:
    # Imported here: the SLA app builds on tickets, not the other way round.
    from deskside.sla.services import sla_ticket_changed

    if isinstance(ticket.reopen_count, int):
        sla_ticket_changed(
            ticket, requester_wrote=requester_wrote, agent_replied=agent_replied, created=created
        )
    else:
        # An F() expression from _reopen is still on the instance; read the saved row.
        sla_ticket_changed(
            Ticket.objects.select_related("requester").get(pk=ticket.pk),
            requester_wrote=requester_wrote,
            agent_replied=agent_replied,
        )


def _set_status(ticket: Ticket, actor: User | None, status: Status) -> None:
    if ticket.status_id == status.pk:
        return
    old = ticket.status
    ticket.status = status
    ticket.status_kind = status.kind
    _record(ticket, actor, "status", "status", old.name, status.name)


def _add_message(
    ticket: Ticket,
    *,
    author: User | None,
    kind: str,
    body: str,
    channel: str,
    files: Sequence[UploadedFile] = (),
) -> Message:
    message = Message.objects.create(
        ticket=ticket,
        author=author,
        kind=kind,
        body=body,
        body_html=render_markdown(body),
        channel=channel,
    )
    if files:
        attachments_save(ticket=ticket, message=message, files=files, uploaded_by=author)
    # Every create, reply, note, resolution and merge adds a message: one hook covers them.
    search_queue_reindex(ticket.pk)
    return message


@transaction.atomic
# One memo scope: the default status and the SLA policies both ask the configuration
# versions, which one query then answers.
@memo_scope()
def ticket_create_with_message(
    *,
    actor: User,
    requester: User,
    subject: str,
    body: str,
    channel: str,
    category: Category | None = None,
    team: Team | None = None,
    assignee: User | None = None,
    priority: int = Priority.P3,
    tags: Iterable[str] = (),
    files: Sequence[UploadedFile] = (),
) -> tuple[Ticket, Message]:
    """:func:`ticket_create`, also returning the ticket's first message (just written)."""
    if actor.pk != requester.pk and not actor.uses_console:
        raise PermissionDenied(_("You can only ask for help for yourself."))
    if not requester.is_active:
        raise ValidationError({"requester": _("This person's account is switched off.")})
    if channel not in Channel.values:
        raise ValidationError({"channel": _("Unknown channel.")})
    if priority not in Priority.values:
        raise ValidationError({"priority": _("Priority must be 1, 2, 3 or 4.")})
    if team is None and category is not None:
        team = category.default_team
    if assignee is not None and not assignee.uses_console:
        raise ValidationError({"assignee": _("Tickets can only be assigned to IT staff.")})
    now = timezone.now()
    status = default_status(StatusKind.NEW if assignee is None else StatusKind.OPEN)
    ticket = Ticket.objects.create(
        subject=_clean_subject(subject),
        requester=requester,
        department_id=requester.department_id,
        channel=channel,
        category=category,
        team=team,
        assignee=assignee,
        priority=priority,
        status=status,
        status_kind=status.kind,
        created_at=now,
        updated_at=now,
        last_requester_activity_at=now if actor.pk == requester.pk else None,
    )
    message = _add_message(
        ticket,
        author=actor,
        kind=MessageKind.PUBLIC,
        body=_clean_body(body, "description"),
        channel=channel,
        files=files,
    )
    _record(ticket, actor, "created", "channel", "", channel)
    # Before the acknowledgement is queued, so it can say when to expect an answer. The
    # ticket is new, so it has no clocks to read back first.
    _sla_changed(ticket, created=True)
    mail.mail_queue_ticket_created(ticket, actor)
    if tags:
        for name in tags:
            ticket_tag_add(ticket=ticket, actor=actor, name=name, _checked=True)
    else:
        # A new ticket without tags has none: whoever shows it need not ask the database.
        # Stored as prefetch_related stores it (already evaluated), so reading it does
        # not even run the empty query through the ORM's compiler.
        no_tags = Tag.objects.none()
        no_tags._result_cache = []
        no_tags._prefetch_done = True  # type: ignore[attr-defined]  # Django internal
        ticket._prefetched_objects_cache = {"tags": no_tags}  # type: ignore[attr-defined]  # Django internal
    return ticket, message


def ticket_create(
    *,
    actor: User,
    requester: User,
    subject: str,
    body: str,
    channel: str,
    category: Category | None = None,
    team: Team | None = None,
    assignee: User | None = None,
    priority: int = Priority.P3,
    tags: Iterable[str] = (),
    files: Sequence[UploadedFile] = (),
) -> Ticket:
    """Open a ticket for ``requester``. Staff open them for anyone; others for themselves."""
    ticket, _message = ticket_create_with_message(
        actor=actor, requester=requester, subject=subject, body=body, channel=channel,
        category=category, team=team, assignee=assignee, priority=priority, tags=tags,
        files=files,
    )  # fmt: skip
    return ticket


@transaction.atomic
def ticket_reply(
    *,
    ticket: Ticket,
    actor: User,
    body: str,
    channel: str = Channel.AGENT,
    files: Sequence[UploadedFile] = (),
    status: Status | None = None,
) -> Message:
    """A public reply. From the requester it may reopen the ticket or start a linked one."""
    _require_view(actor, ticket)
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    text = _clean_body(body)
    now = timezone.now()
    if not actor.uses_console or actor.pk == ticket.requester_id:
        return _requester_reply(ticket, actor, text, channel, files, now)
    message = _add_message(
        ticket, author=actor, kind=MessageKind.PUBLIC, body=text, channel=channel, files=files
    )
    coach.reading_record(message=message)
    fields = ["status", "status_kind"]
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        fields.append("first_response_at")
    if status is not None:
        if status.kind in (StatusKind.RESOLVED, StatusKind.CLOSED):
            raise ValidationError({"status": _("Use Resolve, which asks for the resolution note.")})
        _set_status(ticket, actor, status)
    elif ticket.status_kind == StatusKind.NEW:
        _set_status(ticket, actor, default_status(StatusKind.OPEN))
    _record(ticket, actor, "reply")
    _touch(ticket, *fields, agent_replied=True)
    mail.mail_queue_agent_reply(message, actor)
    return message


def _requester_reply(
    ticket: Ticket,
    actor: User,
    text: str,
    channel: str,
    files: Sequence[UploadedFile],
    now: Any,
) -> Message:
    reopen_days = TicketSettings.current().reopen_days
    resolved_long_ago = ticket.resolved_at is not None and ticket.resolved_at < now - timedelta(
        days=reopen_days
    )
    if ticket.status_kind == StatusKind.CLOSED or (
        ticket.status_kind == StatusKind.RESOLVED and resolved_long_ago
    ):
        # Too late to reopen: the reply starts a new ticket that points back to this one.
        follow_up, first = ticket_create_with_message(
            actor=actor,
            requester=actor,
            subject=ticket.subject,
            body=text,
            channel=channel,
            category=ticket.category,
            team=ticket.team,
            priority=ticket.priority,
            files=files,
        )
        TicketLink.objects.create(
            source=follow_up, target=ticket, kind=LinkKind.RELATED, created_by=actor
        )
        _record(follow_up, actor, "follow_up_of", "ticket", "", ticket.pk)
        return first
    message = _add_message(
        ticket, author=actor, kind=MessageKind.PUBLIC, body=text, channel=channel, files=files
    )
    ticket.last_requester_activity_at = now
    fields = ["last_requester_activity_at", "status", "status_kind"]
    if ticket.status_kind == StatusKind.RESOLVED:
        _reopen(ticket, actor)
        fields += ["reopen_count", "resolved_at"]
    elif ticket.status_kind == StatusKind.WAITING_REQUESTER:
        _set_status(ticket, actor, default_status(StatusKind.OPEN))
    _record(ticket, actor, "reply")
    _touch(ticket, *fields, requester_wrote=True)
    mail.mail_queue_requester_reply(message, actor)
    return message


def _reopen(ticket: Ticket, actor: User | None) -> None:
    _set_status(ticket, actor, default_status(StatusKind.OPEN))
    ticket.reopen_count = F("reopen_count") + 1
    ticket.resolved_at = None
    _record(ticket, actor, "reopened")


@transaction.atomic
def ticket_add_note(
    *,
    ticket: Ticket,
    actor: User,
    body: str,
    files: Sequence[UploadedFile] = (),
    channel: str = Channel.AGENT,
) -> Message:
    """An internal note: only IT staff ever see it. ``channel`` says how it was written."""
    _require_agent(actor, ticket)
    message = _add_message(
        ticket, author=actor, kind=MessageKind.NOTE, body=_clean_body(body), channel=channel,
        files=files,
    )  # fmt: skip
    _record(ticket, actor, "note")
    _touch(ticket)
    return message


@transaction.atomic
def ticket_assign(
    *, ticket: Ticket, actor: User, team: Team | None = UNSET, assignee: User | None = UNSET
) -> Ticket:
    _require_agent(actor, ticket)
    fields: list[str] = []
    if team is not UNSET and team != ticket.team:
        _record(ticket, actor, "assign", "team", ticket.team or "", team or "")
        ticket.team = team
        fields.append("team")
    if assignee is not UNSET and assignee != ticket.assignee:
        if assignee is not None and not assignee.uses_console:
            raise ValidationError({"assignee": _("Tickets can only be assigned to IT staff.")})
        _record(
            ticket, actor, "assign", "assignee",
            ticket.assignee.full_name if ticket.assignee else "",
            assignee.full_name if assignee else "",
        )  # fmt: skip
        ticket.assignee = assignee
        fields.append("assignee")
        mail.mail_queue_assigned(ticket, actor)
        if assignee is not None and ticket.status_kind == StatusKind.NEW:
            _set_status(ticket, actor, default_status(StatusKind.OPEN))
            fields += ["status", "status_kind"]
    if fields:
        _touch(ticket, *fields)
    return ticket


@transaction.atomic
def ticket_change_status(*, ticket: Ticket, actor: User, status: Status) -> Ticket:
    """Move between the working statuses. Resolving and closing have their own services."""
    _require_agent(actor, ticket)
    if status.kind in (StatusKind.RESOLVED, StatusKind.CLOSED):
        raise ValidationError(
            {"status": _("Use Resolve: it asks what happened and how to avoid it next time.")}
        )
    if ticket.status_kind in (StatusKind.RESOLVED, StatusKind.CLOSED):
        return ticket_reopen(ticket=ticket, actor=actor, status=status)
    if ticket.status_id != status.pk:
        mail.mail_queue_status_changed(ticket, actor)
    _set_status(ticket, actor, status)
    _touch(ticket, "status", "status_kind")
    return ticket


@transaction.atomic
def ticket_change_priority(*, ticket: Ticket, actor: User, priority: int) -> Ticket:
    _require_agent(actor, ticket)
    if priority not in Priority.values:
        raise ValidationError({"priority": _("Priority must be 1, 2, 3 or 4.")})
    if priority != ticket.priority:
        _record(ticket, actor, "priority", "priority", f"P{ticket.priority}", f"P{priority}")
        ticket.priority = priority
        _touch(ticket, "priority")
    return ticket


@transaction.atomic
def ticket_change_category(*, ticket: Ticket, actor: User, category: Category | None) -> Ticket:
    _require_agent(actor, ticket)
    if category != ticket.category:
        _record(ticket, actor, "category", "category", ticket.category or "", category or "")
        ticket.category = category
        _touch(ticket, "category")
    return ticket


@transaction.atomic
def ticket_tag_add(*, ticket: Ticket, actor: User, name: str, _checked: bool = False) -> Tag:
    if not _checked:
        _require_agent(actor, ticket)
    label = " ".join(name.split()).lower()[:60]
    if not label:
        raise ValidationError({"tag": _("A tag needs at least one letter.")})
    tag, _created = Tag.objects.get_or_create(name=label)
    if not ticket.tags.filter(pk=tag.pk).exists():
        ticket.tags.add(tag)
        _record(ticket, actor, "tag_added", "tags", "", label)
    return tag


@transaction.atomic
def ticket_tag_remove(*, ticket: Ticket, actor: User, name: str) -> None:
    _require_agent(actor, ticket)
    tag = Tag.objects.filter(name=name.strip().lower()).first()
    if tag is not None and ticket.tags.filter(pk=tag.pk).exists():
        ticket.tags.remove(tag)
        _record(ticket, actor, "tag_removed", "tags", tag.name, "")


@transaction.atomic
def ticket_watcher_add(*, ticket: Ticket, actor: User, watcher: User) -> None:
    _require_agent(actor, ticket)
    if not ticket.watchers.filter(pk=watcher.pk).exists():
        ticket.watchers.add(watcher)
        _record(ticket, actor, "watcher_added", "watchers", "", watcher.full_name)


@transaction.atomic
def ticket_watcher_remove(*, ticket: Ticket, actor: User, watcher: User) -> None:
    # Anyone may stop watching; only staff remove others.
    if actor.pk != watcher.pk:
        _require_agent(actor, ticket)
    if ticket.watchers.filter(pk=watcher.pk).exists():
        ticket.watchers.remove(watcher)
        _record(ticket, actor, "watcher_removed", "watchers", watcher.full_name, "")


def open_children(ticket: Ticket) -> list[Ticket]:
    return list(
        Ticket.objects.filter(
            links_in__source=ticket, links_in__kind=LinkKind.PARENT, status_kind__in=ACTIVE_KINDS
        )
    )


@transaction.atomic
def ticket_resolve(
    *,
    ticket: Ticket,
    actor: User,
    note: str,
    confirm_open_children: bool = False,
    first_contact: bool = False,
) -> Ticket:
    """Resolve with a note to the requester: what happened, and how to avoid it next time."""
    _require_agent(actor, ticket)
    text = note.strip()
    if len(text) < RESOLUTION_NOTE_MIN:
        raise ValidationError(
            {
                "note": _(
                    "Tell the requester in a sentence or two what happened and how to avoid "
                    "it next time."
                )
            }
        )
    children = open_children(ticket)
    if children and not confirm_open_children:
        numbers = ", ".join(f"#{child.pk}" for child in children)
        raise ValidationError(
            {
                "confirm_open_children": _(
                    "Linked tickets %(numbers)s are still open. Resolve them first, or confirm "
                    "that this one should be resolved anyway."
                )
                % {"numbers": numbers}
            }
        )
    now = timezone.now()
    message = _add_message(
        ticket, author=actor, kind=MessageKind.PUBLIC, body=text, channel="agent"
    )
    coach.reading_record(message=message)
    ticket.resolution_note = text
    ticket.resolved_at = now
    if ticket.first_response_at is None:
        ticket.first_response_at = now
    ticket.first_contact_resolution = first_contact
    _set_status(ticket, actor, default_status(StatusKind.RESOLVED))
    _record(ticket, actor, "resolved", "first_contact", "", "yes" if first_contact else "")
    mail.mail_queue_resolved(ticket, actor)
    # The resolution note answers the requester, so it ends a next-update cycle too.
    _touch(
        ticket, "resolution_note", "resolved_at", "first_response_at", "first_contact_resolution",
        "status", "status_kind", agent_replied=True,
    )  # fmt: skip
    return ticket


@transaction.atomic
def ticket_reopen(*, ticket: Ticket, actor: User, status: Status | None = None) -> Ticket:
    _require_view(actor, ticket)
    if not (actor.uses_console or actor.pk == ticket.requester_id):
        raise PermissionDenied(_("Only the person who asked, or IT staff, can reopen this."))
    if ticket.status_kind not in (StatusKind.RESOLVED, StatusKind.CLOSED):
        return ticket
    _reopen(ticket, actor)
    if status is not None:
        _set_status(ticket, actor, status)
    ticket.closed_at = None
    _touch(ticket, "status", "status_kind", "reopen_count", "resolved_at", "closed_at")
    ticket.refresh_from_db()
    return ticket


@transaction.atomic
def ticket_confirm(*, ticket: Ticket, actor: User, fixed: bool, comment: str = "") -> Ticket:
    """The requester says the fix worked (the ticket closes) or did not (it reopens)."""
    _require_view(actor, ticket)
    if actor.pk != ticket.requester_id:
        raise PermissionDenied(_("Only the person who asked can confirm this."))
    if ticket.status_kind != StatusKind.RESOLVED:
        raise ValidationError(_("This ticket is not waiting for your confirmation."))
    if fixed:
        if comment.strip():
            _add_message(
                ticket, author=actor, kind=MessageKind.PUBLIC, body=comment, channel="portal"
            )
        _record(ticket, actor, "confirmed_fixed")
        return _close(ticket, actor)
    text = comment.strip() or _("It is still not working.")
    message = _add_message(
        ticket, author=actor, kind=MessageKind.PUBLIC, body=text, channel="portal"
    )
    _record(ticket, actor, "not_fixed")
    mail.mail_queue_requester_reply(message, actor)
    ticket.last_requester_activity_at = timezone.now()
    _reopen(ticket, actor)
    _touch(
        ticket, "status", "status_kind", "reopen_count", "resolved_at", "last_requester_activity_at"
    )
    ticket.refresh_from_db()
    return ticket


def _close(ticket: Ticket, actor: User | None) -> Ticket:
    ticket.closed_at = timezone.now()
    _set_status(ticket, actor, default_status(StatusKind.CLOSED))
    _touch(ticket, "closed_at", "status", "status_kind")
    return ticket


@transaction.atomic
def ticket_merge(*, source: Ticket, target: Ticket, actor: User) -> Ticket:
    """Fold ``source`` into ``target``: its conversation moves, and it points to the survivor."""
    _require_agent(actor, source)
    _require_agent(actor, target)
    if source.pk == target.pk:
        raise ValidationError({"target": _("A ticket cannot be merged into itself.")})
    if target.merged_into_id is not None:
        raise ValidationError(
            {"target": _("That ticket was itself merged; pick the one it points to.")}
        )
    Message.objects.filter(ticket=source).update(ticket=target)
    source.attachments.update(ticket=target)
    if source.requester_id != target.requester_id:
        target.watchers.add(source.requester_id)
    for watcher_id in source.watchers.values_list("pk", flat=True):
        if watcher_id != target.requester_id:
            target.watchers.add(watcher_id)
    source.merged_into = target
    _add_message(
        source, author=None, kind=MessageKind.SYSTEM, channel="agent",
        body=_("This request was merged into #%(number)s.") % {"number": target.pk},
    )  # fmt: skip
    _add_message(
        target, author=None, kind=MessageKind.SYSTEM, channel="agent",
        body=_("Request #%(number)s was merged into this one.") % {"number": source.pk},
    )  # fmt: skip
    _record(source, actor, "merged_into", "ticket", "", target.pk)
    _record(target, actor, "merged_from", "ticket", "", source.pk)
    source.closed_at = timezone.now()
    _set_status(source, actor, default_status(StatusKind.CLOSED))
    _touch(source, "merged_into", "closed_at", "status", "status_kind")
    _touch(target)
    return target


@transaction.atomic
def ticket_link(*, source: Ticket, target: Ticket, kind: str, actor: User) -> TicketLink:
    _require_agent(actor, source)
    _require_agent(actor, target)
    if kind not in LinkKind.values:
        raise ValidationError({"kind": _("Choose related, duplicate or parent.")})
    if source.pk == target.pk:
        raise ValidationError({"target": _("A ticket cannot be linked to itself.")})
    link, created = TicketLink.objects.get_or_create(
        source=source, target=target, kind=kind, defaults={"created_by": actor}
    )
    if created:
        _record(source, actor, "linked", kind, "", target.pk)
        _record(target, actor, "linked_from", kind, "", source.pk)
    return link


@transaction.atomic
def ticket_unlink(*, link: TicketLink, actor: User) -> None:
    _require_agent(actor, link.source)
    _record(link.source, actor, "unlinked", link.kind, link.target_id, "")
    link.delete()


def tickets_autoclose(*, batch: int = 500) -> int:
    """Close tickets resolved longer ago than the desk's auto-close period. Returns how many."""
    cutoff = timezone.now() - timedelta(days=TicketSettings.current().autoclose_days)
    closed = 0
    while True:
        with transaction.atomic():
            due = list(
                Ticket.objects.select_for_update(skip_locked=True)
                .select_related("status")
                .filter(status_kind=StatusKind.RESOLVED, resolved_at__lt=cutoff)
                .order_by("resolved_at")[:batch]
            )
            for ticket in due:
                _record(ticket, None, "auto_closed")
                _close(ticket, None)
        closed += len(due)
        if len(due) < batch:
            return closed


def tickets_bulk_update(
    *,
    actor: User,
    tickets: Iterable[Ticket],
    assignee: User | None = UNSET,
    team: Team | None = UNSET,
    status: Status | None = None,
    priority: int | None = None,
) -> int:
    """Apply the same change to several tickets, each through its own service and check."""
    count = 0
    with transaction.atomic():
        for ticket in tickets:
            if assignee is not UNSET or team is not UNSET:
                ticket_assign(ticket=ticket, actor=actor, team=team, assignee=assignee)
            if status is not None:
                ticket_change_status(ticket=ticket, actor=actor, status=status)
            if priority is not None:
                ticket_change_priority(ticket=ticket, actor=actor, priority=priority)
            count += 1
    return count


@transaction.atomic
def saved_filter_create(*, owner: User, name: str, query: str) -> SavedFilter:
    """Save a queue's query string under a name; saving an existing name replaces it."""
    label = " ".join(name.split())[:80]
    if not label:
        raise ValidationError({"name": _("Give the filter a short name, such as 'My P1s'.")})
    if len(query) > 1000:
        raise ValidationError({"query": _("This filter is too long to save.")})
    saved, _created = SavedFilter.objects.update_or_create(
        owner=owner, name=label, defaults={"query": query}
    )
    return saved


@transaction.atomic
def saved_filter_delete(*, owner: User, saved_filter: SavedFilter) -> None:
    if saved_filter.owner_id != owner.pk:
        raise Http404
    saved_filter.delete()


@transaction.atomic
def message_attach_files(
    *, message: Message, actor: User, files: Sequence[UploadedFile]
) -> list[Attachment]:
    """Add files to a message the actor wrote (a script posts text, then its files).

    Only the author may: anyone else adding files would change what someone else said.
    The count limit covers the message's files before and after, not just this batch.
    """
    ticket = message.ticket
    _require_view(actor, ticket)
    if not permissions.can_view(actor, message):
        raise Http404
    if message.author_id != actor.pk or message.kind == MessageKind.SYSTEM:
        raise PermissionDenied(_("Files can only be added to a message you wrote."))
    already = message.attachments.count()
    limit = TicketSettings.current().max_attachments_per_message
    if already + len(files) > limit:
        raise ValidationError(
            {
                "files": _(
                    "A message can have at most %(limit)d files, and this one already has "
                    "%(already)d."
                )
                % {"limit": limit, "already": already}
            }
        )
    saved = attachments_save(ticket=ticket, message=message, files=files, uploaded_by=actor)
    for attachment in saved:
        _record(ticket, actor, "attachment_added", "attachments", "", attachment.filename)
    _touch(ticket)
    return saved
