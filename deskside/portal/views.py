"""The requester portal: ask for help, follow your requests, reply, and say if it's fixed.

Views are thin: they parse a form, call a ticket service, and render. Every ticket is
fetched through the portal selectors, so someone else's ticket is simply "not found".
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskside.accounts.decorators import portal_required
from deskside.accounts.models import User
from deskside.portal import selectors
from deskside.portal.forms import ConfirmForm, ReplyForm, TicketForm
from deskside.sla.phrasing import expected_answer_phrase
from deskside.tickets import services
from deskside.tickets.attachments import INLINE_TYPES
from deskside.tickets.models import Channel, Message, StatusKind, Ticket

PAGE_SIZE = 20
HOME_OPEN_LIMIT = 5


def _user(request: HttpRequest) -> User:
    # portal_required has already sent anyone else to sign in.
    assert isinstance(request.user, User)
    return request.user


def _form_errors_from(form: Any, error: ValidationError) -> None:
    """Show a service's ValidationError on the form, on the field it names where we have one."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            target = field if field in form.fields else None
            for message in errors:
                form.add_error(target, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


@portal_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    open_tickets = selectors.portal_open_tickets(user)
    return render(
        request,
        "portal/home.html",
        {
            "open_tickets": open_tickets[:HOME_OPEN_LIMIT],
            "open_count": open_tickets.count(),
        },
    )


@portal_required
@require_http_methods(["GET", "POST"])
def ticket_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if request.method == "POST":
        if request.POST.get("refresh"):
            # Without JavaScript, "Show the questions for this topic" comes here: redraw the
            # form for the new topic and keep what was typed (files must be chosen again).
            category = selectors.category_for_intake(request.POST.get("category"))
            form = TicketForm(initial=request.POST.dict(), category=category)
            return _render_new(request, form)
        form = TicketForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                ticket = services.ticket_create(
                    actor=user,
                    requester=user,
                    subject=form.cleaned_data["subject"],
                    body=form.description(),
                    channel=Channel.PORTAL,
                    category=form.cleaned_data["category"],
                    priority=form.cleaned_data["impact"],
                    files=form.cleaned_data["attachments"],
                )
            except ValidationError as error:
                _form_errors_from(form, error)
            else:
                messages.success(
                    request,
                    _("Thank you. We've received your request %(number)s.")
                    % {"number": ticket.number},
                )
                return redirect("portal:ticket", pk=ticket.pk)
        return _render_new(request, form, status=400)
    category = selectors.category_for_intake(request.GET.get("category"))
    if category is None:
        return render(
            request,
            "portal/choose_category.html",
            {"categories": selectors.categories_for_intake()},
        )
    return _render_new(request, TicketForm(initial={"category": category.pk}, category=category))


def _render_new(request: HttpRequest, form: TicketForm, status: int = 200) -> HttpResponse:
    return render(request, "portal/ticket_new.html", {"form": form}, status=status)


@portal_required
@require_GET
def category_questions(request: HttpRequest) -> HttpResponse:
    """The extra questions for one topic, swapped into the form by htmx when it changes."""
    category = selectors.category_for_intake(request.GET.get("category"))
    form = TicketForm(initial={"category": category.pk if category else None}, category=category)
    return render(request, "portal/_category_questions.html", {"form": form})


@portal_required
@require_GET
def ticket_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    paginator = Paginator(selectors.portal_tickets(user), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "portal/ticket_list.html", {"page": page})


def _ticket_context(
    request: HttpRequest,
    ticket: Ticket,
    *,
    reply_form: ReplyForm | None = None,
    confirm_form: ConfirmForm | None = None,
) -> dict[str, Any]:
    user = _user(request)
    conversation = list(selectors.portal_messages(user, ticket))
    resolution: Message | None = None
    show_resolution = bool(ticket.resolution_note) and ticket.status_kind in (
        StatusKind.RESOLVED,
        StatusKind.CLOSED,
    )
    if show_resolution:
        # The note was also sent as a reply; its sanitised HTML is what we show.
        resolution = next(
            (m for m in reversed(conversation) if m.body.strip() == ticket.resolution_note), None
        )
    return {
        "ticket": ticket,
        "status_sentence": _status_sentence(ticket),
        "expected_answer": expected_answer_phrase(ticket),
        "inline_types": INLINE_TYPES,
        "conversation": conversation,
        "timeline": selectors.ticket_timeline(user, ticket),
        "resolution": resolution,
        "show_resolution": show_resolution,
        "is_requester": ticket.requester_id == user.pk,
        "reply_form": reply_form or ReplyForm(),
        "confirm_form": confirm_form or ConfirmForm(),
        "StatusKind": StatusKind,
    }


def _status_sentence(ticket: Ticket) -> str:
    """One sentence under the status saying what it means and what happens next."""
    kind = ticket.status_kind
    if kind == StatusKind.NEW:
        return _(
            "Someone from IT will read it soon and reply here, so there's no need to chase. "
            "If you think of anything else, add a message below."
        )
    if kind == StatusKind.OPEN:
        if ticket.assignee is not None:
            return _("%(name)s from IT is working on it and will keep you posted here.") % {
                "name": ticket.assignee.first_name
            }
        return _("IT is working on it and will keep you posted here.")
    if kind == StatusKind.WAITING_REQUESTER:
        return _(
            "We need something from you to carry on. Please read the latest message and reply."
        )
    if kind == StatusKind.WAITING_THIRD_PARTY:
        return _("We're waiting for another company, such as a supplier. We'll keep you posted.")
    if kind == StatusKind.RESOLVED:
        return _("We think it's fixed. Please tell us whether it works for you now.")
    return _(
        "This request is closed. If the problem comes back, write a message below "
        "and we'll pick it up."
    )


@portal_required
@require_GET
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = selectors.portal_ticket_get(_user(request), pk)
    return render(request, "portal/ticket_detail.html", _ticket_context(request, ticket))


@portal_required
@require_POST
def ticket_reply(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    ticket = selectors.portal_ticket_get(user, pk)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        was_done = ticket.status_kind in (StatusKind.RESOLVED, StatusKind.CLOSED)
        try:
            message = services.ticket_reply(
                ticket=ticket,
                actor=user,
                body=form.cleaned_data["body"],
                channel=Channel.PORTAL,
                files=form.cleaned_data["attachments"],
            )
        except ValidationError as error:
            _form_errors_from(form, error)
        else:
            if message.ticket_id != ticket.pk:
                messages.success(
                    request,
                    _(
                        "Request %(old)s was already closed, so we've opened a new request, "
                        "%(new)s, for your message. It links back to the old one."
                    )
                    % {"old": ticket.number, "new": f"#{message.ticket_id}"},
                )
            elif was_done:
                messages.success(
                    request, _("Thank you. We've opened your request again and will look at it.")
                )
            else:
                messages.success(request, _("Thank you. Your message has been sent to IT."))
            return redirect(reverse("portal:ticket", args=[message.ticket_id]) + "#latest")
    context = _ticket_context(request, ticket, reply_form=form)
    return render(request, "portal/ticket_detail.html", context, status=400)


@portal_required
@require_POST
def ticket_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    ticket = selectors.portal_ticket_get(user, pk)
    form = ConfirmForm(request.POST)
    if form.is_valid():
        fixed = form.cleaned_data["fixed"] == "yes"
        try:
            services.ticket_confirm(
                ticket=ticket, actor=user, fixed=fixed, comment=form.cleaned_data["comment"]
            )
        except PermissionDenied:
            messages.error(
                request,
                _(
                    "Only the person who asked for help can confirm this. You can still "
                    "add a message below."
                ),
            )
        except ValidationError:
            messages.info(
                request,
                _(
                    "This request isn't waiting for your answer any more. If something is "
                    "still wrong, write a message below."
                ),
            )
        else:
            if fixed:
                messages.success(request, _("Great, thank you for letting us know."))
            else:
                messages.success(
                    request,
                    _(
                        "Sorry it's still not working. We've opened it again and will get "
                        "back to you."
                    ),
                )
        return redirect("portal:ticket", pk=ticket.pk)
    context = _ticket_context(request, ticket, confirm_form=form)
    return render(request, "portal/ticket_detail.html", context, status=400)
