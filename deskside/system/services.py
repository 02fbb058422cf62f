"""Writes about the desk's own health."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from deskside.system.models import Heartbeat

WORKER = "worker"


@transaction.atomic
def heartbeat_record(*, source: str = WORKER, at: datetime | None = None) -> Heartbeat:
    beat, _created = Heartbeat.objects.update_or_create(
        source=source, defaults={"beat_at": at or timezone.now()}
    )
    return beat
