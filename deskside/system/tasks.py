"""Periodic jobs about the desk itself.

The heartbeat is the pattern for every periodic job: a small function that calls a
service, registered with ``db_periodic_task`` so the worker closes database connections
properly around it.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task

from deskside.system.services import heartbeat_record, rate_counters_expire


@db_periodic_task(crontab(minute="*"))  # type: ignore[untyped-decorator]  # huey is untyped
def heartbeat() -> None:
    """Prove once a minute that a worker is taking jobs; /healthz reads its age."""
    heartbeat_record()


@HUEY.on_startup()  # type: ignore[untyped-decorator]  # huey is untyped
def heartbeat_on_start() -> None:
    # So /healthz is green as soon as a worker starts, not up to a minute later.
    from django.db import close_old_connections

    heartbeat_record()
    close_old_connections()


@db_periodic_task(crontab(minute="*/10"))  # type: ignore[untyped-decorator]  # huey is untyped
def rate_counters_expire_task() -> None:
    """Every ten minutes, drop the counters of rate-limit windows that have ended."""
    rate_counters_expire()
