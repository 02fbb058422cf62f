"""The tickets REST API: tickets, their conversation, attachments, links and catalogues.

Thin by design: each endpoint parses, then reads through ``tickets.selectors`` or writes
through ``tickets.services``, which apply the permission gate. A ticket the caller may not
see is "not found" at every address below it, exactly as if it did not exist.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router
from ninja.files import UploadedFile as NinjaUploadedFile

from deskside.accounts import selectors as account_selectors
from deskside.accounts.models import Team, User
from deskside.api.auth import caller
from deskside.api.errors import ApiError
from deskside.api.pagination import paginated
from deskside.api.schemas import ObjectId
from deskside.tickets import selectors, services
from deskside.tickets.attachments import UploadedFile, attachment_response, safe_filename
from deskside.tickets.models import (
    Category,
    Channel,
    Message,
    Status,
    Ticket,
    TicketLink,
    TicketSettings,
)
from deskside.tickets.schemas import (
    CategoryOut,
    LinkIn,
    LinkOut,
    MergeIn,
    MessageIn,
    MessageOut,
    ReopenIn,
    ResolveIn,
    StatusOut,
    TicketCreateIn,
    TicketDetailOut,
    TicketListQuery,
    TicketOut,
    TicketUpdateIn,
)

router = Router(tags=["tickets"])

# Services name fields after the model; the API names them as the client sent them.
_API_FIELD_NAMES = {
    "status": "status_id",
    "category": "category_id",
    "team": "team_id",
    "assignee": "assignee_id",
    "requester": "requester_id",
}


@contextmanager
def _fields_named(extra: Mapping[str, str] | None = None) -> Iterator[None]:
    """Rename the fields in a service's ValidationError to the names this API uses."""
    names = {**_API_FIELD_NAMES, **(extra or {})}
    try:
        yield
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        raise ValidationError(
            {names.get(field, field): errors for field, errors in exc.error_dict.items()}
        ) from None


def _missing(field: str) -> ValidationError:
    # The same words whether the object does not exist or is hidden, so IDs cannot be probed.
    return ValidationError(
        {field: _("Nothing with this ID exists that you can see. Check the ID.")},
        code="not_found",
    )


def _find_status(user: User, pk: int, field: str = "status_id") -> Status:
    found = selectors.status_list(user).filter(pk=pk).first()
    if found is None:
        raise _missing(field)
    return found


def _find_category(user: User, pk: int | None, field: str = "category_id") -> Category | None:
    if pk is None:
        return None
    found = selectors.category_list(user).filter(pk=pk).first()
    if found is None:
        raise _missing(field)
    return found


def _find_team(user: User, pk: int | None, field: str = "team_id") -> Team | None:
    if pk is None:
        return None
    found = account_selectors.team_list(user=user).filter(pk=pk).first()
    if found is None:
        raise _missing(field)
    return found


def _find_person(user: User, pk: int | None, field: str) -> User | None:
    if pk is None:
        return None
    found = account_selectors.person_list(user=user).filter(pk=pk).first()
    if found is None:
        raise _missing(field)
    return found


def _fresh_sla(ticket: Ticket) -> Ticket:
    """Forget the ticket's loaded SLA row: the service just recomputed it in the database."""
    relation = Ticket.sla.related  # the reverse one-to-one
    if relation.is_cached(ticket):
        relation.delete_cached_value(ticket)
    return ticket


def _find_ticket(user: User, pk: int, field: str) -> Ticket:
    try:
        return selectors.ticket_get(user, pk)
    except Http404:
        raise _missing(field) from None


# --- Tickets -----------------------------------------------------------------------------


@router.get(
    "/tickets",
    response=list[TicketOut],
    operation_id="tickets_list",
    summary="List tickets",
)
@paginated
def tickets_list(request: HttpRequest, filters: Query[TicketListQuery]) -> QuerySet[Ticket]:
    """Tickets you may see, filtered and sorted exactly as in the agent console's queues.

    Filters not listed here, and unknown sort keys, are refused with 400 rather than
    ignored, so a mistyped filter never looks like an empty or complete answer.
    """
    params = {name: request.GET.getlist(name) for name in request.GET}
    if "q" in params:
        # The console's parser accepts q for its search box; this list does not search.
        raise ValidationError({"q": _("This filter does not exist.")})
    parsed = selectors.parse_filters(params, strict=True)
    return (
        selectors.ticket_query(caller(request), parsed)
        # Both shown on every item; without them each row costs a query.
        .select_related("sla__policy", "department")
        .prefetch_related("tags")
    )


@router.get(
    "/tickets/{ticket_id}",
    response=TicketDetailOut,
    operation_id="tickets_get",
    summary="Get a ticket",
)
def tickets_get(request: HttpRequest, ticket_id: ObjectId) -> Ticket:
    """One ticket, with its links."""
    return selectors.ticket_get(caller(request), ticket_id)


@router.post(
    "/tickets",
    response={201: TicketOut},
    operation_id="tickets_create",
    summary="Create a ticket",
)
def tickets_create(request: HttpRequest, payload: TicketCreateIn) -> Ticket:
    """Open a ticket (channel "api"). Requesters open tickets for themselves only."""
    user = caller(request)
    if not user.uses_console:
        staff_only = {
            name: _("Only the IT team can set this.")
            for name in ("team_id", "assignee_id", "tags")
            if name in payload.model_fields_set
        }
        if staff_only:
            raise ValidationError(staff_only)
    requester = _find_person(user, payload.requester_id, "requester_id") or user
    with _fields_named():
        return services.ticket_create(
            actor=user,
            requester=requester,
            subject=payload.subject,
            body=payload.description,
            channel=Channel.API,
            category=_find_category(user, payload.category_id),
            team=_find_team(user, payload.team_id),
            assignee=_find_person(user, payload.assignee_id, "assignee_id"),
            priority=payload.priority,
            tags=payload.tags,
        )


@router.patch(
    "/tickets/{ticket_id}",
    response=TicketOut,
    operation_id="tickets_update",
    summary="Change a ticket",
)
def tickets_update(request: HttpRequest, ticket_id: ObjectId, payload: TicketUpdateIn) -> Ticket:
    """Change status, priority, category, team, assignee or tags; only the fields sent.

    All the changes are made, or none of them.
    """
    user = caller(request)
    ticket = selectors.ticket_get(user, ticket_id)
    sent = payload.model_fields_set
    for required in ("status_id", "priority"):
        if required in sent and getattr(payload, required) is None:
            raise ValidationError({required: _("This cannot be empty. Leave it out instead.")})
    with _fields_named({"tag": "add_tags"}), transaction.atomic():
        if payload.status_id is not None:
            status = _find_status(user, payload.status_id)
            ticket = services.ticket_change_status(ticket=ticket, actor=user, status=status)
        if payload.priority is not None:
            services.ticket_change_priority(ticket=ticket, actor=user, priority=payload.priority)
        if "category_id" in sent:
            category = _find_category(user, payload.category_id)
            services.ticket_change_category(ticket=ticket, actor=user, category=category)
        if "team_id" in sent or "assignee_id" in sent:
            services.ticket_assign(
                ticket=ticket,
                actor=user,
                team=_find_team(user, payload.team_id) if "team_id" in sent else services.UNSET,
                assignee=(
                    _find_person(user, payload.assignee_id, "assignee_id")
                    if "assignee_id" in sent
                    else services.UNSET
                ),
            )
        for name in payload.add_tags:
            services.ticket_tag_add(ticket=ticket, actor=user, name=name)
        for name in payload.remove_tags:
            services.ticket_tag_remove(ticket=ticket, actor=user, name=name)
    return _fresh_sla(ticket)


@router.post(
    "/tickets/{ticket_id}/resolve",
    response=TicketOut,
    operation_id="tickets_resolve",
    summary="Resolve a ticket",
)
def tickets_resolve(request: HttpRequest, ticket_id: ObjectId, payload: ResolveIn) -> Ticket:
    """Resolve with a note to the requester: what happened, and how to avoid it next time."""
    user = caller(request)
    ticket = selectors.ticket_get(user, ticket_id)
    resolved = services.ticket_resolve(
        ticket=ticket,
        actor=user,
        note=payload.note,
        first_contact=payload.first_contact,
        confirm_open_children=payload.confirm_open_children,
    )
    return _fresh_sla(resolved)


@router.post(
    "/tickets/{ticket_id}/reopen",
    response=TicketOut,
    operation_id="tickets_reopen",
    summary="Reopen a ticket",
)
def tickets_reopen(
    request: HttpRequest, ticket_id: ObjectId, payload: ReopenIn | None = None
) -> Ticket:
    """Reopen a resolved or closed ticket. The requester may reopen their own.

    The body is optional: without it the ticket goes back to the default open status.
    """
    user = caller(request)
    ticket = selectors.ticket_get(user, ticket_id)
    status_id = payload.status_id if payload is not None else None
    status = _find_status(user, status_id) if status_id is not None else None
    with _fields_named():
        return _fresh_sla(services.ticket_reopen(ticket=ticket, actor=user, status=status))


@router.post(
    "/tickets/{ticket_id}/merge",
    response=TicketOut,
    operation_id="tickets_merge",
    summary="Merge a ticket into another",
)
def tickets_merge(request: HttpRequest, ticket_id: ObjectId, payload: MergeIn) -> Ticket:
    """Fold this ticket into ``into_id``. Returns the surviving ticket."""
    user = caller(request)
    source = selectors.ticket_get(user, ticket_id)
    target = _find_ticket(user, payload.into_id, "into_id")
    with _fields_named({"target": "into_id"}):
        return _fresh_sla(services.ticket_merge(source=source, target=target, actor=user))


@router.post(
    "/tickets/{ticket_id}/links",
    response={201: LinkOut},
    operation_id="ticket_links_create",
    summary="Link a ticket to another",
)
def ticket_links_create(request: HttpRequest, ticket_id: ObjectId, payload: LinkIn) -> TicketLink:
    """Link this ticket (the source) to ``target_id``. Linking twice changes nothing."""
    user = caller(request)
    source = selectors.ticket_get(user, ticket_id)
    target = _find_ticket(user, payload.target_id, "target_id")
    with _fields_named({"target": "target_id"}):
        return services.ticket_link(source=source, target=target, kind=payload.kind, actor=user)


@router.delete(
    "/tickets/{ticket_id}/links/{link_id}",
    response={204: None},
    operation_id="ticket_links_delete",
    summary="Remove a link",
)
def ticket_links_delete(request: HttpRequest, ticket_id: ObjectId, link_id: ObjectId) -> None:
    """Remove a link to or from this ticket."""
    user = caller(request)
    ticket = selectors.ticket_get(user, ticket_id)
    link = selectors.ticket_link_records(user, ticket).filter(pk=link_id).first()
    if link is None:
        raise Http404
    services.ticket_unlink(link=link, actor=user)


# --- Conversation ------------------------------------------------------------------------


@router.get(
    "/tickets/{ticket_id}/messages",
    response=list[MessageOut],
    operation_id="ticket_messages_list",
    summary="List a ticket's messages",
)
@paginated
def ticket_messages_list(request: HttpRequest, ticket_id: ObjectId) -> QuerySet[Message]:
    """The conversation, oldest first. Requesters never receive internal notes."""
    user = caller(request)
    return selectors.ticket_messages(user, selectors.ticket_get(user, ticket_id))


@router.post(
    "/tickets/{ticket_id}/messages",
    response={201: MessageOut},
    operation_id="ticket_messages_create",
    summary="Reply or add a note",
)
def ticket_messages_create(
    request: HttpRequest, ticket_id: ObjectId, payload: MessageIn
) -> Message:
    """A reply the requester sees, or (IT staff only) an internal note."""
    user = caller(request)
    ticket = selectors.ticket_get(user, ticket_id)
    return _post_message(
        user, ticket, kind=payload.kind, body=payload.body, status_id=payload.status_id
    )


def _post_message(
    user: User,
    ticket: Ticket,
    *,
    kind: str,
    body: str,
    status_id: int | None = None,
    files: list[UploadedFile] | None = None,
) -> Message:
    with _fields_named():
        if kind == "note":
            if status_id is not None:
                raise ValidationError({"status_id": _("A note cannot change the status.")})
            return services.ticket_add_note(ticket=ticket, actor=user, body=body, files=files or ())
        status = _find_status(user, status_id) if status_id is not None else None
        if status is not None and not user.uses_console:
            raise ValidationError({"status_id": _("Only the IT team can set this.")})
        return services.ticket_reply(
            ticket=ticket,
            actor=user,
            body=body,
            channel=Channel.API,
            files=files or (),
            status=status,
        )


# --- Attachments -------------------------------------------------------------------------

_UPLOAD_FORM_FIELDS = frozenset({"message_id", "kind", "body"})
_UPLOAD_FILE_FIELDS = frozenset({"files"})


def _read_uploads(uploads: list[NinjaUploadedFile]) -> list[UploadedFile]:
    """Check the limits on the sizes Django already knows, then read the files."""
    limits = TicketSettings.current()
    if len(uploads) > limits.max_attachments_per_message:
        raise ValidationError(
            {
                "files": _("Attach at most %(count)d files to one message.")
                % {"count": limits.max_attachments_per_message}
            }
        )
    max_bytes = limits.max_attachment_mb * 1024 * 1024
    for upload in uploads:
        # Checked before reading, so an oversized file is refused without loading it.
        if (upload.size or 0) > max_bytes:
            raise ValidationError(
                {
                    "files": _(
                        "%(name)s is larger than %(mb)d MB. Share a smaller copy or a link "
                        "to it instead."
                    )
                    % {"name": safe_filename(upload.name or ""), "mb": limits.max_attachment_mb}
                }
            )
    return [
        UploadedFile(
            name=upload.name or "attachment",
            content=upload.read(),
            content_type=upload.content_type or "",
        )
        for upload in uploads
    ]


@router.post(
    "/tickets/{ticket_id}/attachments",
    response={201: MessageOut},
    operation_id="ticket_attachments_upload",
    summary="Upload attachments",
)
def ticket_attachments_upload(
    request: HttpRequest,
    ticket_id: ObjectId,
    files: File[list[NinjaUploadedFile]],
    message_id: Form[int | None] = None,
    kind: Form[Literal["reply", "note"]] = "reply",
    body: Form[str] = "",
) -> Message:
    """Upload files as ``multipart/form-data`` (one or more ``files`` parts).

    Without ``message_id`` the files arrive in a new message (a reply, or with
    ``kind=note`` an internal note) whose text is ``body`` or, if that is empty, a line
    listing the files. With ``message_id`` they are added to that message, which must be
    one you wrote on this ticket. Returns the message with all its attachments.
    """
    unknown = (set(request.POST) - _UPLOAD_FORM_FIELDS) | (set(request.FILES) - _UPLOAD_FILE_FIELDS)
    if unknown:
        raise ApiError(
            400,
            "unknown_field",
            _(
                "Some of the fields sent do not exist for this request. Remove or correct "
                "the fields listed and try again."
            ),
            {
                "fields": {
                    name: [{"code": "extra_forbidden", "message": _("There is no such field.")}]
                    for name in sorted(unknown)
                }
            },
        )
    user = caller(request)
    ticket = selectors.ticket_get(user, ticket_id)
    uploads = _read_uploads(files)
    if message_id is None:
        text = body.strip() or _("Attached: %(names)s") % {
            "names": ", ".join(safe_filename(upload.name) for upload in uploads)
        }
        message = _post_message(user, ticket, kind=kind, body=text, files=uploads)
    else:
        message_ = selectors.ticket_messages(user, ticket).filter(pk=message_id).first()
        if message_ is None:
            raise _missing("message_id")
        services.message_attach_files(message=message_, actor=user, files=uploads)
        message = message_
    # Read back through the selector, so the attachments listed are those the caller may see.
    return selectors.ticket_messages(user, message.ticket).get(pk=message.pk)


@router.get(
    "/attachments/{key}",
    operation_id="attachments_download",
    url_name="attachments_download",
    summary="Download an attachment",
    openapi_extra={
        "responses": {
            200: {
                "description": "The file, always as a download.",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        }
    },
)
def attachments_download(request: HttpRequest, key: str) -> FileResponse:
    """The file itself. It is always offered as a download and never run by the browser."""
    return attachment_response(selectors.attachment_get(caller(request), key))


# --- Catalogues --------------------------------------------------------------------------


@router.get(
    "/categories",
    response=list[CategoryOut],
    operation_id="categories_list",
    summary="List categories",
)
@paginated
def categories_list(request: HttpRequest) -> QuerySet[Category]:
    """The service catalogue, in the order people are shown it."""
    return selectors.category_list(caller(request))


@router.get(
    "/statuses",
    response=list[StatusOut],
    operation_id="statuses_list",
    summary="List statuses",
)
@paginated
def statuses_list(request: HttpRequest) -> QuerySet[Status]:
    """Every ticket status, each with its lifecycle kind and the words requesters see."""
    return selectors.status_list(caller(request))
