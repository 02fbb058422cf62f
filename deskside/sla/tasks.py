"""Periodic SLA work: the minute sweep (then the escalation ladder), and recomputation
after an administrator's edit."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from deskside.sla.escalation import escalation_run
from deskside.sla.models import BusinessCalendar
from deskside.sla.services import sla_recompute, sla_sweep


@db_periodic_task(crontab(minute="*"))  # type: ignore[untyped-decorator]  # huey is untyped
def sla_sweep_task() -> None:
    """Every minute: record the warnings and breaches that came due (reads one index), then
    take the escalation steps that came due, with the same instant for both."""
    now = timezone.now()
    events = sla_sweep(now=now)
    escalation_run(events=events, now=now)


@db_task(retries=2, retry_delay=30)  # type: ignore[untyped-decorator]  # huey is untyped
def sla_recompute_task(calendar_id: int | None = None) -> None:
    calendar = (
        BusinessCalendar.objects.filter(pk=calendar_id).first() if calendar_id is not None else None
    )
    if calendar_id is not None and calendar is None:
        return  # deleted meanwhile
    sla_recompute(calendar=calendar)


def sla_queue_recompute(calendar_id: int | None = None) -> None:
    """Recompute open tickets in the background once the edit has committed."""
    transaction.on_commit(lambda: sla_recompute_task(calendar_id), robust=True)
