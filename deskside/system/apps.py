from __future__ import annotations

from django.apps import AppConfig


class SystemConfig(AppConfig):
    """Running the desk."""

    name = "deskside.system"
    label = "system"
    verbose_name = "Running the desk"
