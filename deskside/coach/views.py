"""The coach in the console: checking a draft as it is written, and the report.

``coach_check`` answers the composers' script (see ``static/deskside/coach.js``) with the
same JSON as ``POST /api/v1/coach/analyze``, but works out the reader and the earlier
conversation itself from the ticket, through the gate, so the browser never sends them.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from deskside.accounts import permissions
from deskside.accounts.decorators import console_required
from deskside.coach.api import MAX_TEXT_CHARS, report_out
from deskside.coach.selectors import REPORT_PERIODS, reading_report
from deskside.coach.services import coach_analyze, ticket_reader_context
from deskside.tickets.models import Ticket
from deskside.tickets.views.queue import console_user


@console_required
@require_POST
def coach_check(request: HttpRequest) -> HttpResponse:
    """Check a draft reply, note or article; ``ticket`` gives the reader and conversation."""
    user = console_user(request)
    text = request.POST.get("text", "")
    if len(text) > MAX_TEXT_CHARS:
        message = _(
            "This is too long for the coach to check (the most is %(limit)s characters). "
            "You can still send it."
        ) % {"limit": f"{MAX_TEXT_CHARS:,}"}
        return JsonResponse({"error": message}, status=400)
    context, reader = "", ""
    ticket_id = request.POST.get("ticket", "").strip()
    if ticket_id:
        ticket = permissions.get_visible_or_404(user, Ticket, pk=ticket_id)
        context, reader = ticket_reader_context(ticket)
    report = coach_analyze(text, context=context, reader_name=reader)
    data = report_out(report).dict()
    data["reader"] = reader
    return JsonResponse(data)


@console_required
@require_GET
def coach_report(request: HttpRequest) -> HttpResponse:
    """Each team's average reading grade, and how often the coach's suggestions were taken."""
    user = console_user(request)
    try:
        days = int(request.GET.get("days", "30"))
    except ValueError:
        days = 30
    if days not in REPORT_PERIODS:
        days = 30
    teams, total = reading_report(user, days=days)
    return render(
        request,
        "coach/report.html",
        {"teams": teams, "total": total, "days": days, "periods": REPORT_PERIODS},
    )
