from __future__ import annotations

from django.apps import AppConfig


class TicketsConfig(AppConfig):
    """Tickets and the agent console."""

    name = "deskside.tickets"
    label = "tickets"
    verbose_name = "Tickets and the agent console"
