from __future__ import annotations

from django.apps import AppConfig


class PortalConfig(AppConfig):
    """Requester portal."""

    name = "deskside.portal"
    label = "portal"
    verbose_name = "Requester portal"
