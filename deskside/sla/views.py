"""One-click pages behind the links in escalation mail: acknowledge, take, reassign.

Each link only names the ticket and the action. The page needs a signed-in person who may
change the ticket (anyone else sees "not found"), and a GET only shows a confirm button:
mail security scanners open every link in a message, and must not acknowledge anything.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from deskside.accounts import permissions
from deskside.accounts.models import User
from deskside.sla.escalation import escalation_acknowledge, escalation_take, step_reason
from deskside.sla.models import EscalationStep, TicketEscalation
from deskside.tickets.models import Ticket

# Lazy: read at import time, translated when the page is shown.
ACTIONS = {
    "acknowledge": (
        gettext_lazy("Acknowledge this escalation"),
        gettext_lazy(
            "No one else will be told about this ticket unless one of its targets is missed."
        ),
        gettext_lazy("Acknowledge"),
    ),
    "take": (
        gettext_lazy("Take this ticket"),
        gettext_lazy("The ticket will be assigned to you, and the escalation acknowledged."),
        gettext_lazy("Assign it to me"),
    ),
}


def _person(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) and user.is_active else None


def _ticket_for(person: User, pk: int) -> Ticket:
    """The ticket, if ``person`` may change it; otherwise "not found" (never "forbidden")."""
    ticket = permissions.get_visible_or_404(
        person, Ticket.objects.select_related("requester", "team", "assignee"), pk=pk
    )
    if not permissions.can_change(person, ticket):
        raise Http404
    return ticket


def _confirm(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    person = _person(request)
    if person is None:
        return redirect_to_login(request.get_full_path())
    ticket = _ticket_for(person, pk)
    escalation = TicketEscalation.objects.filter(ticket=ticket).first()
    error = ""
    if request.method == "POST":
        try:
            if action == "take":
                escalation_take(ticket=ticket, actor=person)
                messages.success(request, _("The ticket is yours, and the escalation stopped."))
            else:
                escalation_acknowledge(ticket=ticket, actor=person)
                messages.success(request, _("Acknowledged. The escalation has stopped."))
            return redirect("tickets:ticket", pk=ticket.pk)
        except ValidationError as exc:
            error = " ".join(exc.messages)
    title, explanation, button = ACTIONS[action]
    reason = ""
    if escalation is not None and escalation.steps_done:
        step = EscalationStep.objects.filter(
            rule_id=escalation.rule_id, position=escalation.steps_done
        ).first()
        reason = step_reason(step, ticket) if step is not None else ""
    return render(
        request,
        "sla/escalation_confirm.html",
        {
            "ticket": ticket,
            "escalation": escalation,
            "reason": reason,
            "title": title,
            "explanation": explanation,
            "button": button,
            "error": error,
            "action_url": reverse(f"sla:escalation_{action}", kwargs={"pk": ticket.pk}),
        },
        status=400 if error else 200,
    )


@require_http_methods(["GET", "POST"])
def escalation_acknowledge_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _confirm(request, pk, "acknowledge")


@require_http_methods(["GET", "POST"])
def escalation_take_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _confirm(request, pk, "take")


@require_GET
def escalation_reassign_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Reassigning needs a choice of team or person: that form is on the ticket page."""
    person = _person(request)
    if person is None:
        return redirect_to_login(request.get_full_path())
    ticket = _ticket_for(person, pk)
    return redirect(reverse("tickets:ticket", kwargs={"pk": ticket.pk}) + "#details-title")
