"""Any edit to a coach term makes every process reload the dictionary."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from deskside.coach.models import Term
from deskside.coach.services import coach_terms_changed


def _changed(**kwargs: Any) -> None:
    # The version moves in the edit's own transaction: other processes see both together.
    coach_terms_changed()


def connect() -> None:
    post_save.connect(_changed, sender=Term, dispatch_uid="coach-term-save")
    post_delete.connect(_changed, sender=Term, dispatch_uid="coach-term-delete")
