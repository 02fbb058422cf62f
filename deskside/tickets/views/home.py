"""The agent console. Ticket queues and pages arrive with the ticket issue."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from deskside.accounts.decorators import console_required
from deskside.knowledge import selectors as knowledge_selectors
from deskside.tickets.views.queue import console_user


@console_required
def console_home(request: HttpRequest) -> HttpResponse:
    user = console_user(request)
    review_scope = knowledge_selectors.review_scope_default(user)
    return render(
        request,
        "tickets/console_home.html",
        {
            "kb_review_scope": review_scope,
            "kb_review_count": knowledge_selectors.review_count(user, review_scope),
        },
    )
