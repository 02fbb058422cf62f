"""The heartbeat job, /healthz, and the cache table that migrate creates."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings

from deskside.system.apps import create_cache_table
from deskside.system.models import Heartbeat
from deskside.system.services import WORKER, heartbeat_record
from deskside.system.tasks import heartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _plenty_of_disk(settings: Settings) -> None:
    # The disk check is not what these tests are about; a full test machine must not matter.
    settings.HEALTH_MIN_FREE_DISK_MB = 0


def _health(client: Client) -> tuple[int, dict[str, Any]]:
    response = client.get(reverse("healthz"))
    body: dict[str, Any] = response.json()
    return response.status_code, body


def test_the_heartbeat_job_makes_the_desk_healthy(client: Client) -> None:
    status, body = _health(client)
    assert status == 503
    assert body["status"] == "failing"
    assert body["checks"]["jobs"]["ok"] is False
    assert "no worker has reported" in body["checks"]["jobs"]["detail"]
    assert body["checks"]["database"]["ok"] is True

    heartbeat()  # Jobs run inline in tests, as the worker would run it.

    assert Heartbeat.objects.filter(source=WORKER).exists()
    status, body = _health(client)
    assert status == 200
    assert body["status"] == "ok"
    assert all(check["ok"] for check in body["checks"].values())


def test_an_old_heartbeat_is_named_as_the_failure(client: Client, settings: Settings) -> None:
    settings.HEARTBEAT_MAX_AGE_SECONDS = 180
    heartbeat_record(at=timezone.now() - timedelta(minutes=10))
    status, body = _health(client)
    assert status == 503
    jobs = body["checks"]["jobs"]
    assert jobs["ok"] is False
    assert jobs["detail"].startswith("last worker heartbeat was")
    assert jobs["data"]["max_age_seconds"] == 180


def test_heartbeats_update_one_row() -> None:
    heartbeat()
    heartbeat()
    assert Heartbeat.objects.count() == 1


def test_migrate_creates_the_cache_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE deskside_cache")
    assert "deskside_cache" not in connection.introspection.table_names()
    create_cache_table(sender=apps.get_app_config("system"), using="default")
    assert "deskside_cache" in connection.introspection.table_names()
