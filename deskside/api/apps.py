from __future__ import annotations

from django.apps import AppConfig


class ApiConfig(AppConfig):
    """REST API."""

    name = "deskside.api"
    label = "api"
    verbose_name = "REST API"
