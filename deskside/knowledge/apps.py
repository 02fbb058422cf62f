from __future__ import annotations

from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    """Help articles: categories, revisions, feedback, search and suggestions."""

    name = "deskside.knowledge"
    label = "knowledge"
    verbose_name = "Knowledge base"

    def ready(self) -> None:
        from deskside.knowledge import policies  # noqa: F401  (registers with the gate)
