"""Periodic ticket housekeeping."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from deskside.tickets.services import tickets_autoclose


@db_periodic_task(crontab(minute="7"))  # type: ignore[untyped-decorator]  # huey is untyped
def autoclose_resolved_tickets() -> None:
    """Close tickets resolved longer ago than the desk's auto-close period, once an hour."""
    tickets_autoclose()
