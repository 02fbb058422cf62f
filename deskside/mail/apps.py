from __future__ import annotations

from django.apps import AppConfig


class MailConfig(AppConfig):
    """The email channel: mailboxes, intake, parsing, threading and outbound mail."""

    name = "deskside.mail"
    label = "mail"
    verbose_name = "Email"

    def ready(self) -> None:
        from deskside.mail import policies  # noqa: F401  (registers with the gate)
