"""Any edit to a status makes every process re-read the default statuses."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from deskside.tickets.models import Status
from deskside.tickets.statuses import statuses_changed


def _changed(**kwargs: Any) -> None:
    # The version moves in the edit's own transaction: other processes see both together.
    statuses_changed()


def connect() -> None:
    post_save.connect(_changed, sender=Status, dispatch_uid="tickets-status-save")
    post_delete.connect(_changed, sender=Status, dispatch_uid="tickets-status-delete")
