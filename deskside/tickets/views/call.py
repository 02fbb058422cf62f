"""Log a call: one screen to find (or add) the caller, write it up, and resolve or hand on."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from deskside.accounts import selectors as people
from deskside.accounts import services as people_services
from deskside.accounts.decorators import console_required
from deskside.accounts.models import Role, User
from deskside.lib.phones import format_phone
from deskside.tickets import services
from deskside.tickets.forms import CallForm, apply_service_error
from deskside.tickets.models import Channel, Ticket
from deskside.tickets.views.queue import console_user, forbidden

SEARCH_MIN_CHARACTERS = 2
SEARCH_LIMIT = 10

# Where each service's complaint belongs on this form.
ALIASES = {
    "email_taken": "new_email",
    "invalid_phone": "new_phone",
    "name_required": "new_name",
    "description": "need",
    "note": "resolution_note",
    "subject": "subject",
}


def _person_rows(found: list[User]) -> list[dict[str, Any]]:
    return [
        {
            "person": person,
            "phones": [format_phone(p.number) for p in person.phone_numbers.all()],
            "department": person.department.name if person.department else "",
        }
        for person in found
    ]


@console_required
@require_GET
def call_people(request: HttpRequest) -> HttpResponse:
    """Search-as-you-type over the people this agent may see, by name, email or phone."""
    user = console_user(request)
    text = request.GET.get("q", "").strip()
    found: list[User] = []
    if len(text) >= SEARCH_MIN_CHARACTERS:
        found = list(people.person_list(user=user, search=text)[:SEARCH_LIMIT])
    return render(
        request,
        "tickets/_call_people.html",
        {"rows": _person_rows(found), "searched": len(text) >= SEARCH_MIN_CHARACTERS, "q": text},
    )


def _body(need: str, done: str) -> str:
    text = need.strip()
    if done.strip():
        text += "\n\n" + _("**What was done on the call:**") + "\n\n" + done.strip()
    return text


def _log(user: User, data: dict[str, Any]) -> Ticket:
    """Everything in one transaction: a failure anywhere leaves no person and no ticket."""
    with transaction.atomic():
        if data["requester"] == CallForm.NEW_PERSON:
            phone = (data.get("new_phone") or "").strip()
            requester = people_services.person_create(
                email=data["new_email"],
                full_name=data["new_name"],
                role=Role.REQUESTER,
                phones=[(phone, "work")] if phone else [],
            )
        else:
            try:
                requester = people.person_get(user=user, person_id=data["requester"])
            except Http404:
                raise ValidationError(
                    {"requester": _("We could not find that person. Search again.")}
                ) from None
        resolved = data["outcome"] == CallForm.RESOLVED
        if resolved and not data["resolution_note"].strip():
            # Checked before creating anything, so the agent can fix it in one go.
            raise ValidationError(
                {
                    "note": _(
                        "Tell the caller in a sentence or two what happened and how to avoid "
                        "it next time."
                    )
                }
            )
        ticket = services.ticket_create(
            actor=user,
            requester=requester,
            subject=data["subject"],
            body=_body(data["need"], data["done"]),
            channel=Channel.PHONE,
            category=data["category"],
            priority=data["priority"],
            team=None if resolved else data["team"],
            assignee=user if resolved else data["assignee"],
        )
        if resolved:
            services.ticket_resolve(
                ticket=ticket, actor=user, note=data["resolution_note"], first_contact=True
            )
        return ticket


@console_required
@require_http_methods(["GET", "POST"])
def log_call(request: HttpRequest) -> HttpResponse:
    user = console_user(request)
    form = CallForm(request.POST or None)
    chosen: list[dict[str, Any]] = []
    if request.method == "POST":
        if form.is_valid():
            try:
                ticket = _log(user, form.cleaned_data)
            except ValidationError as exc:
                apply_service_error(form, exc, ALIASES)
            except PermissionDenied as exc:
                return forbidden(request, exc)
            else:
                if ticket.status_kind == "resolved":
                    text = _("Call logged as %(number)s and resolved on the spot. Well done!")
                else:
                    text = _("Call logged as %(number)s and handed on.")
                messages.success(request, text % {"number": ticket.number})
                return redirect(reverse("tickets:ticket", kwargs={"pk": ticket.pk}))
        # Keep the caller chosen before the error, so the agent need not search again.
        picked = request.POST.get("requester", "")
        if picked.isdigit():
            try:
                chosen = _person_rows([people.person_get(user=user, person_id=int(picked))])
            except Http404:
                chosen = []
    return render(
        request,
        "tickets/call.html",
        {"form": form, "chosen": chosen, "new_person": request.POST.get("requester") == "new"},
        status=400 if form.errors else 200,
    )
