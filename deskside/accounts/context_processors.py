from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def deskside(request: HttpRequest) -> dict[str, Any]:
    """Values every page layout needs."""
    return {"DESK_NAME": settings.DESK_NAME}
