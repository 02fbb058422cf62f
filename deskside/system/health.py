"""The checks behind /healthz: database, job queue heartbeat, free disk space."""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from deskside.system.models import Heartbeat
from deskside.system.services import WORKER


@dataclass
class Check:
    ok: bool
    detail: str
    data: dict[str, Any] = field(default_factory=dict)


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return Check(False, f"cannot query the database: {exc.__class__.__name__}")
    return Check(True, f"{connection.vendor} answers")


def check_jobs() -> Check:
    try:
        beat = Heartbeat.objects.filter(source=WORKER).first()
    except DatabaseError:
        return Check(False, "cannot read the worker heartbeat (database unavailable)")
    if beat is None:
        return Check(False, "no worker has reported yet; start 'deskside worker' or 'serve'")
    age = (timezone.now() - beat.beat_at).total_seconds()
    limit = settings.HEARTBEAT_MAX_AGE_SECONDS
    data = {"heartbeat_age_seconds": round(age, 1), "max_age_seconds": limit}
    if age > limit:
        return Check(False, f"last worker heartbeat was {int(age)} s ago", data)
    return Check(True, "worker heartbeat is recent", data)


def check_disk() -> Check:
    usage = shutil.disk_usage(settings.DATA_DIR)
    free_mb = usage.free // (1024 * 1024)
    minimum = settings.HEALTH_MIN_FREE_DISK_MB
    data = {"free_mb": free_mb, "min_free_mb": minimum}
    if free_mb < minimum:
        return Check(False, f"only {free_mb} MB free in the data directory", data)
    return Check(True, f"{free_mb} MB free", data)


def run_checks() -> dict[str, dict[str, Any]]:
    checks = {"database": check_database(), "jobs": check_jobs(), "disk": check_disk()}
    return {name: asdict(result) for name, result in checks.items()}
