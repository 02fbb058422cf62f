from __future__ import annotations

from django.apps import AppConfig


class SlaConfig(AppConfig):
    """Service levels: business calendars, SLA policies, clocks and the escalation ladder."""

    name = "deskside.sla"
    label = "sla"
    verbose_name = "Service levels"

    def ready(self) -> None:
        from deskside.sla import policies, signals

        policies.register()
        signals.connect()
