"""The console's ticket page and the actions on it.

Every action parses a small form, calls one service and comes back to the page. When the
service says no, the page is shown again with its words next to the field concerned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from deskside.accounts import permissions
from deskside.accounts.decorators import console_required
from deskside.accounts.models import User, normalise_email
from deskside.coach.services import reading_suggestions_applied
from deskside.knowledge import selectors as knowledge_selectors
from deskside.knowledge.services import ticket_articles_link_many
from deskside.lib.markdown import render_markdown
from deskside.lib.phones import format_phone
from deskside.sla import selectors as sla_selectors
from deskside.tickets import presence, selectors, services
from deskside.tickets.forms import (
    NOTE,
    AssignForm,
    CannedForm,
    CategoryForm,
    ComposerForm,
    LinkForm,
    MergeForm,
    PriorityForm,
    ResolveForm,
    StatusForm,
    TagForm,
    WatcherForm,
    apply_service_error,
    to_uploads,
)
from deskside.tickets.models import (
    Channel,
    LinkKind,
    MessageKind,
    StatusKind,
    Ticket,
    TicketEvent,
    TicketLink,
)
from deskside.tickets.views.queue import console_user, forbidden

FORMS: dict[str, type[forms.Form]] = {
    "composer": ComposerForm,
    "status": StatusForm,
    "priority": PriorityForm,
    "category": CategoryForm,
    "assign": AssignForm,
    "tag": TagForm,
    "watcher": WatcherForm,
    "resolve": ResolveForm,
    "merge": MergeForm,
    "link": LinkForm,
}


# --- Safe placeholders for canned replies ---------------------------------------------


PLACEHOLDERS = ("{first_name}", "{full_name}", "{ticket_number}", "{agent_name}")


def fill_placeholders(text: str, *, ticket: Ticket, agent: User) -> str:
    """Fill the known placeholders by plain replacement.

    Nothing in the text is ever evaluated as a template: an unknown ``{placeholder}`` or
    ``{{ anything }}`` is left exactly as written.
    """
    values = {
        "{first_name}": ticket.requester.first_name,
        "{full_name}": ticket.requester.full_name,
        "{ticket_number}": ticket.number,
        "{agent_name}": agent.first_name,
    }
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text


# --- History in plain words -------------------------------------------------------------


def describe_event(event: TicketEvent) -> str:
    """One history entry as a sentence, e.g. "Xena Agent changed priority from P3 to P1"."""
    who = event.actor.full_name if event.actor else _("Deskside")
    old, new = event.old_value, event.new_value
    values = {"who": who, "old": old, "new": new}
    action = event.action
    if action == "created":
        channel = dict(Channel.choices).get(new, new)
        return _("%(who)s opened the ticket (%(channel)s)") % {"who": who, "channel": channel}
    if action in ("status", "priority", "category"):
        names = {"status": _("status"), "priority": _("priority"), "category": _("category")}
        values["what"] = names[action]
        if old and new:
            return _("%(who)s changed %(what)s from %(old)s to %(new)s") % values
        if new:
            return _("%(who)s set %(what)s to %(new)s") % values
        return _("%(who)s cleared %(what)s (was %(old)s)") % values
    if action == "assign" and event.field == "team":
        if new:
            return _("%(who)s handed it to the %(new)s team") % values
        return _("%(who)s took it away from the %(old)s team") % values
    if action == "assign":
        if new:
            return _("%(who)s assigned it to %(new)s") % values
        return _("%(who)s unassigned %(old)s") % values
    if action in ("escalated", "escalation_acknowledged", "escalation_resumed") and new:
        # The escalation ladder stores the whole sentence, e.g. "Escalated to Lena Lead
        # (team lead) after 30 minutes".
        return new
    kind_labels = dict(LinkKind.choices)
    simple = {
        "reply": _("%(who)s replied to the requester"),
        "note": _("%(who)s added an internal note"),
        "tag_added": _("%(who)s added the tag “%(new)s”"),
        "tag_removed": _("%(who)s removed the tag “%(old)s”"),
        "watcher_added": _("%(who)s added %(new)s as a watcher"),
        "watcher_removed": _("%(who)s removed %(old)s as a watcher"),
        "reopened": _("%(who)s reopened it"),
        "merged_into": _("%(who)s merged it into #%(new)s"),
        "merged_from": _("%(who)s merged #%(new)s into it"),
        "linked_from": _("%(who)s linked #%(new)s to it"),
        "unlinked": _("%(who)s removed the link to #%(old)s"),
        "confirmed_fixed": _("%(who)s confirmed it is fixed"),
        "not_fixed": _("%(who)s said it is still not fixed"),
        "auto_closed": _("It closed by itself after the waiting period"),
        "follow_up_of": _("%(who)s wrote after #%(new)s had closed, so this ticket follows it"),
    }
    if action == "resolved":
        if new:
            return _("%(who)s resolved it on the first contact") % values
        return _("%(who)s resolved it") % values
    if action == "linked":
        values["kind"] = str(kind_labels.get(event.field, event.field)).lower()
        return _("%(who)s marked it as %(kind)s #%(new)s") % values
    if action in simple:
        return simple[action] % values
    return _("%(who)s: %(action)s") % {"who": who, "action": action.replace("_", " ")}


# --- The page ---------------------------------------------------------------------------


def _ticket_url(ticket: Ticket, anchor: str = "") -> str:
    url = reverse("tickets:ticket", kwargs={"pk": ticket.pk})
    return f"{url}#{anchor}" if anchor else url


def _auto_id(key: str) -> str:
    # Several forms share field names (status, target); ids must stay unique on the page.
    return "id_%s" if key == "composer" else f"{key}_%s"


def _initial_forms(ticket: Ticket) -> dict[str, forms.Form]:
    initial: dict[str, dict[str, Any]] = {
        "status": {"status": ticket.status_id},
        "priority": {"priority": ticket.priority},
        "category": {"category": ticket.category_id},
        "assign": {"team": ticket.team_id, "assignee": ticket.assignee_id},
    }
    return {
        key: form_class(initial=initial.get(key), auto_id=_auto_id(key))
        for key, form_class in FORMS.items()
    }


def _render_ticket(
    request: HttpRequest,
    user: User,
    ticket: Ticket,
    bound: dict[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    page_forms = _initial_forms(ticket)
    page_forms.update(bound or {})
    requester = ticket.requester
    thread = list(selectors.ticket_messages(user, ticket))
    events = list(selectors.ticket_events(user, ticket))
    other_tickets = list(selectors.requester_other_tickets(user, ticket, limit=8))
    presence.presence_touch(ticket_id=ticket.pk, user=user)
    context = {
        "ticket": ticket,
        "thread": thread,
        "history": [(event, describe_event(event)) for event in events],
        "requester": requester,
        "requester_emails": [e.email for e in requester.email_addresses.all()],
        "requester_phones": [
            {
                "number": format_phone(p.number),
                "tel": p.number,
                "kind": p.get_kind_display(),
                "extension": p.extension,
            }
            for p in requester.phone_numbers.all()
        ],
        "open_tickets": [t for t in other_tickets if t.is_active],
        "recent_tickets": [t for t in other_tickets if not t.is_active],
        "links": selectors.ticket_links(user, ticket),
        "tags": list(ticket.tags.order_by("name")),
        "watchers": list(ticket.watchers.order_by("full_name")),
        "canned_replies": list(selectors.canned_replies(user)),
        "others": presence.presence_others(ticket_id=ticket.pk, user=user),
        "forms": page_forms,
        "sla_panel": sla_selectors.ticket_sla_panel(user, ticket),
        "kb_panel": knowledge_selectors.ticket_kb_panel(user, ticket),
        "is_done": ticket.status_kind in (StatusKind.RESOLVED, StatusKind.CLOSED),
        "is_assigned_to_me": ticket.assignee_id == user.pk,
        "NOTE": MessageKind.NOTE,
        "SYSTEM": MessageKind.SYSTEM,
    }
    return render(request, "tickets/ticket.html", context, status=status)


@console_required
@require_GET
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = console_user(request)
    return _render_ticket(request, user, selectors.ticket_get(user, pk))


Perform = Callable[[User, Ticket, dict[str, Any]], str]


def _act(
    request: HttpRequest,
    pk: int,
    form_key: str,
    perform: Perform,
    *,
    aliases: dict[str, str] | None = None,
    anchor: str = "",
) -> HttpResponse:
    """Parse the form, call the service, come back to the ticket (or show what is wrong)."""
    user = console_user(request)
    ticket = selectors.ticket_get(user, pk)
    form = FORMS[form_key](request.POST, request.FILES, auto_id=_auto_id(form_key))
    if form.is_valid():
        try:
            done = perform(user, ticket, form.cleaned_data)
        except ValidationError as exc:
            apply_service_error(form, exc, aliases or {})
        except PermissionDenied as exc:
            return forbidden(request, exc)
        else:
            messages.success(request, done)
            return redirect(_ticket_url(ticket, anchor))
    # Re-read: a failed service rolled back, and the page must show what is really stored.
    return _render_ticket(request, user, selectors.ticket_get(user, pk), {form_key: form}, 400)


def _visible_ticket(user: User, number: int) -> Ticket:
    try:
        return selectors.ticket_get(user, number)
    except Http404:
        raise ValidationError(
            {"target": _("There is no ticket #%(number)s that you can see.") % {"number": number}}
        ) from None


def _coach_applied(request: HttpRequest) -> int:
    """How many of the coach's suggestions the composer says were applied (0 if unsure);
    the coach's service keeps it within bounds."""
    try:
        return int(request.POST.get("coach_applied", "0"))
    except ValueError:
        return 0


@console_required
@require_POST
def ticket_compose(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(user: User, ticket: Ticket, data: dict[str, Any]) -> str:
        uploads = to_uploads(data["attachments"])
        # Help articles shared from the composer's picker are linked to the ticket.
        shared = request.POST.getlist("article")
        with transaction.atomic():
            if data["kind"] == NOTE:
                services.ticket_add_note(
                    ticket=ticket, actor=user, body=data["body"], files=uploads
                )
                done = _("Your internal note is added.")
            else:
                message = services.ticket_reply(
                    ticket=ticket,
                    actor=user,
                    body=data["body"],
                    files=uploads,
                    status=data["status"],
                )
                reading_suggestions_applied(message=message, applied=_coach_applied(request))
                done = _("Your reply is sent.")
            if shared:
                ticket_articles_link_many(ticket=ticket, article_ids=shared, actor=user)
        return done

    return _act(
        request, pk, "composer", perform, aliases={"files": "attachments"}, anchor="composer"
    )


@console_required
@require_POST
def ticket_set_status(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(user: User, ticket: Ticket, data: dict[str, Any]) -> str:
        services.ticket_change_status(ticket=ticket, actor=user, status=data["status"])
        return _("Status changed to %(status)s.") % {"status": data["status"].name}

    return _act(request, pk, "status", perform)


@console_required
@require_POST
def ticket_set_priority(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(user: User, ticket: Ticket, data: dict[str, Any]) -> str:
        services.ticket_change_priority(ticket=ticket, actor=user, priority=data["priority"])
        return _("Priority changed to P%(priority)d.") % {"priority": data["priority"]}

    return _act(request, pk, "priority", perform)


@console_required
@require_POST
def ticket_set_category(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(user: User, ticket: Ticket, data: dict[str, Any]) -> str:
        services.ticket_change_category(ticket=ticket, actor=user, category=data["category"])
        return _("Category changed.")

    return _act(request, pk, "category", perform)


@console_required
@require_POST
def ticket_set_assignment(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(user: User, ticket: Ticket, data: dict[str, Any]) -> str:
        if request.POST.get("me"):
            services.ticket_assign(ticket=ticket, actor=user, assignee=user)
            return _("Assigned to you.")
        services.ticket_assign(
            ticket=ticket, actor=user, team=data["team"], assignee=data["assignee"]
        )
        return _("Assignment saved.")

    return _act(request, pk, "assign", perform)


@console_required
@require_POST
def ticket_tag_add(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(user: User, ticket: Ticket, data: dict[str, Any]) -> str:
        tag = services.ticket_tag_add(ticket=ticket, actor=user, name=data["tag"])
        return _("Tag “%(tag)s” added.") % {"tag": tag.name}

    return _act(request, pk, "tag", perform, anchor="tags")


@console_required
@require_POST
def ticket_tag_remove(request: HttpRequest, pk: int) -> HttpResponse:
    user = console_user(request)
    ticket = selectors.ticket_get(user, pk)
    name = request.POST.get("tag", "")
    try:
        services.ticket_tag_remove(ticket=ticket, actor=user, name=name)
    except PermissionDenied as exc:
        return forbidden(request, exc)
    messages.success(request, _("Tag “%(tag)s” removed.") % {"tag": name})
    return redirect(_ticket_url(ticket, "tags"))


@console_required
@require_POST
def ticket_watcher_add(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(user: User, ticket: Ticket, data: dict[str, Any]) -> str:
        address = normalise_email(data["email"])
        watcher = (
            permissions.visible(user, User)
            .filter(Q(email=address) | Q(email_addresses__email=address), is_active=True)
            .distinct()
            .first()
        )
        if watcher is None:
            raise ValidationError({"email": _("Nobody with that email address is on the desk.")})
        services.ticket_watcher_add(ticket=ticket, actor=user, watcher=watcher)
        return _("%(name)s now gets updates on this ticket.") % {"name": watcher.full_name}

    return _act(request, pk, "watcher", perform, anchor="watchers")


@console_required
@require_POST
def ticket_watcher_remove(request: HttpRequest, pk: int) -> HttpResponse:
    user = console_user(request)
    ticket = selectors.ticket_get(user, pk)
    watcher = ticket.watchers.filter(pk=request.POST.get("watcher") or 0).first()
    if watcher is None:
        return redirect(_ticket_url(ticket, "watchers"))
    try:
        services.ticket_watcher_remove(ticket=ticket, actor=user, watcher=watcher)
    except PermissionDenied as exc:
        return forbidden(request, exc)
    messages.success(
        request, _("%(name)s no longer watches this ticket.") % {"name": watcher.full_name}
    )
    return redirect(_ticket_url(ticket, "watchers"))


@console_required
@require_POST
def ticket_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(user: User, ticket: Ticket, data: dict[str, Any]) -> str:
        with transaction.atomic():
            services.ticket_resolve(
                ticket=ticket,
                actor=user,
                note=data["note"],
                confirm_open_children=data["confirm_open_children"],
                first_contact=data["first_contact"],
            )
            note = ticket.messages.filter(kind=MessageKind.PUBLIC).order_by("-id").first()
            if note is not None:
                reading_suggestions_applied(message=note, applied=_coach_applied(request))
        return _("Resolved. Your note is on its way to the requester.")

    return _act(request, pk, "resolve", perform, anchor="resolve")


@console_required
@require_POST
def ticket_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    user = console_user(request)
    ticket = selectors.ticket_get(user, pk)
    try:
        services.ticket_reopen(ticket=ticket, actor=user)
    except PermissionDenied as exc:
        return forbidden(request, exc)
    messages.success(request, _("Reopened."))
    return redirect(_ticket_url(ticket))


@console_required
@require_POST
def ticket_merge(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(user: User, ticket: Ticket, data: dict[str, Any]) -> str:
        target = _visible_ticket(user, data["target"])
        services.ticket_merge(source=ticket, target=target, actor=user)
        return _("Merged into #%(number)s.") % {"number": target.pk}

    return _act(request, pk, "merge", perform, anchor="merge")


@console_required
@require_POST
def ticket_link(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(user: User, ticket: Ticket, data: dict[str, Any]) -> str:
        target = _visible_ticket(user, data["target"])
        services.ticket_link(source=ticket, target=target, kind=data["kind"], actor=user)
        return _("Linked to #%(number)s.") % {"number": target.pk}

    return _act(request, pk, "link", perform, anchor="links")


@console_required
@require_POST
def ticket_unlink(request: HttpRequest, pk: int) -> HttpResponse:
    user = console_user(request)
    ticket = selectors.ticket_get(user, pk)
    link_ids = {link_id for _label, _other, link_id in selectors.ticket_links(user, ticket)}
    try:
        link_id = int(request.POST.get("link", ""))
    except ValueError:
        link_id = 0
    # Only a link shown on this page (both ends visible to the agent) can be removed here.
    if link_id not in link_ids:
        raise Http404
    link = TicketLink.objects.select_related("source", "target").get(pk=link_id)
    other = link.target if link.source_id == ticket.pk else link.source
    try:
        services.ticket_unlink(link=link, actor=user)
    except PermissionDenied as exc:
        return forbidden(request, exc)
    messages.success(request, _("No longer linked to #%(number)s.") % {"number": other.pk})
    return redirect(_ticket_url(ticket, "links"))


# --- HTMX helpers: preview, canned replies, presence ----------------------------------


@console_required
@require_POST
def ticket_preview(request: HttpRequest, pk: int) -> HttpResponse:
    selectors.ticket_get(console_user(request), pk)
    body = request.POST.get("body", "")
    return render(
        request, "tickets/_preview.html", {"html": render_markdown(body), "empty": not body.strip()}
    )


@console_required
@require_POST
def ticket_canned(request: HttpRequest, pk: int) -> HttpResponse:
    """The composer's text with the chosen canned reply added, placeholders filled."""
    user = console_user(request)
    ticket = selectors.ticket_get(user, pk)
    form = CannedForm(request.POST)
    form.fields["canned"].queryset = selectors.canned_replies(user)  # type: ignore[attr-defined]
    body = request.POST.get("body", "")
    if form.is_valid() and form.cleaned_data["canned"] is not None:
        filled = fill_placeholders(form.cleaned_data["canned"].body, ticket=ticket, agent=user)
        body = f"{body.rstrip()}\n\n{filled}" if body.strip() else filled
    return render(request, "tickets/_composer_body.html", {"body": body})


@console_required
@require_POST
def ticket_presence(request: HttpRequest, pk: int) -> HttpResponse:
    user = console_user(request)
    ticket = selectors.ticket_get(user, pk)
    state = request.POST.get("state", presence.VIEWING)
    if state == "gone":
        presence.presence_leave(ticket_id=ticket.pk, user=user)
        return HttpResponse("")
    presence.presence_touch(ticket_id=ticket.pk, user=user, state=state)
    return render(
        request,
        "tickets/_presence.html",
        {"others": presence.presence_others(ticket_id=ticket.pk, user=user)},
    )
