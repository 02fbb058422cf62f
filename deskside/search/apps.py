from __future__ import annotations

from django.apps import AppConfig


class SearchConfig(AppConfig):
    """Full-text search over tickets and their conversations."""

    name = "deskside.search"
    label = "search"
    verbose_name = "Search"
