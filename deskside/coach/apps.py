from __future__ import annotations

from django.apps import AppConfig


class CoachConfig(AppConfig):
    """The plain-language coach: reply analysis and the jargon dictionary admins can edit."""

    name = "deskside.coach"
    label = "coach"
    verbose_name = "Plain-language coach"

    def ready(self) -> None:
        from deskside.coach import (
            policies,  # noqa: F401  (registers with the gate)
            signals,
        )

        signals.connect()
