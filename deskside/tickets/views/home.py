"""The agent console. Ticket queues and pages arrive with the ticket issue."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from deskside.accounts.decorators import console_required


@console_required
def console_home(request: HttpRequest) -> HttpResponse:
    return render(request, "tickets/console_home.html")
