"""Writes about the desk's own health."""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from deskside.system.memo import memo_forget, memoized
from deskside.system.models import ConfigVersion, Heartbeat, RateCounter

WORKER = "worker"


@transaction.atomic
def heartbeat_record(*, source: str = WORKER, at: datetime | None = None) -> Heartbeat:
    beat, _created = Heartbeat.objects.update_or_create(
        source=source, defaults={"beat_at": at or timezone.now()}
    )
    return beat


def database_updates_pending() -> int:
    """How many database migrations have not been applied yet."""
    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def database_update() -> int:
    """Apply pending database migrations quietly; return how many there were.

    Migrate runs even when nothing is pending, because its post_migrate step creates the
    cache table on databases set up before that step existed.
    """
    from django.core.management import call_command

    pending = database_updates_pending()
    call_command("migrate", interactive=False, verbosity=0)
    return pending


CONFIG_VERSIONS = "config_versions"


def config_versions() -> dict[str, int]:
    """Every kind of cached configuration's current version, in one query.

    Read once per :func:`~deskside.system.memo.memo_scope`, so one unit of work that asks
    after several kinds (a new ticket: its default status and the SLA policies) reads the
    few rows of this table once; :func:`config_version_bump` forgets the remembered value.
    """
    return memoized(CONFIG_VERSIONS, _read_config_versions)


def _read_config_versions() -> dict[str, int]:
    # Plain SQL: asked by every new ticket, and the ORM's query building would cost more
    # than the query (a few rows of names and integers, which need no conversion).
    table = connection.ops.quote_name(ConfigVersion._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT name, version FROM {table}")  # noqa: S608  (a model's table)
        return {str(name): int(version) for name, version in cursor.fetchall()}


def config_version(name: str) -> int:
    """The current version of one kind of cached configuration (0 before any edit)."""
    return int(config_versions().get(name, 0))


def config_version_bump(name: str) -> None:
    """Mark one kind of configuration as changed, inside the caller's transaction."""
    memo_forget(CONFIG_VERSIONS)
    with transaction.atomic():
        updated = ConfigVersion.objects.filter(name=name).update(version=F("version") + 1)
        if not updated:
            ConfigVersion.objects.get_or_create(name=name, defaults={"version": 1})


def rate_counters_expire(*, now: datetime | None = None) -> int:
    """Delete the counters of rate-limit windows that have ended; returns how many."""
    deleted, _by_model = RateCounter.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted
