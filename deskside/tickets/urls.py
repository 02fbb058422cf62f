"""The agent console's addresses, all under /console/."""

from __future__ import annotations

from django.urls import path

from deskside.tickets.views import home

app_name = "tickets"

urlpatterns = [
    path("", home.console_home, name="console_home"),
    # queue routes (tickets/views/queue.py)
    # ticket page routes (tickets/views/ticket.py, tickets/views/call.py)
    # search routes (tickets/views/search.py)
]
