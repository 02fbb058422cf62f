from __future__ import annotations

from django.apps import AppConfig


class TicketsConfig(AppConfig):
    """Tickets and the agent console."""

    name = "deskside.tickets"
    label = "tickets"
    verbose_name = "Tickets and the agent console"

    def ready(self) -> None:
        from deskside.tickets import (
            policies,  # noqa: F401  (registers with the gate)
            signals,
        )

        signals.connect()
