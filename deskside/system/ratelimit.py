"""Fixed-window rate limits shared by every process: in Redis when it is configured,
otherwise in the database.

In the database each attempt is one statement: an upsert that adds one to the window's
row and returns the new count (``INSERT … ON CONFLICT DO UPDATE … RETURNING``, on SQLite
and PostgreSQL alike). Django's database cache, used before, needed four or five
statements for the same count (a read, a count of the whole cache table to decide on
culling, and a write in a transaction of its own). Rows of ended windows are deleted by
a periodic job (:func:`deskside.system.services.rate_counters_expire`).
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from deskside.system.models import RateCounter


def _bucket(window: int) -> int:
    return int(time.time() // window)


def _key(scope: str, identity: str, window: int) -> str:
    digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
    return f"ratelimit:{scope}:{digest}:{_bucket(window)}"


def _in_redis() -> bool:
    return settings.REDIS_URL is not None


def _count_in_cache(key: str, window: int) -> int:
    # Counting an existing window (the usual case: every request after a window's first)
    # is tried first, so it costs one increment rather than a failed add and then one.
    try:
        count: int = cache.incr(key)
    except ValueError:  # the window's first attempt, or it expired meanwhile
        if cache.add(key, 1, timeout=window):
            count = 1
        else:
            try:  # another process started the window just now
                count = cache.incr(key)
            except ValueError:
                cache.add(key, 1, timeout=window)
                count = 1
    return count


def _count_in_database(key: str, window: int) -> int:
    table = connection.ops.quote_name(RateCounter._meta.db_table)
    ends = datetime.fromtimestamp((_bucket(window) + 1) * window, tz=UTC)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (name, count, expires_at) VALUES (%s, 1, %s) "  # noqa: S608  (the table name is ours)
            f"ON CONFLICT (name) DO UPDATE SET count = {table}.count + 1 RETURNING count",
            [key, connection.ops.adapt_datetimefield_value(ends)],
        )
        row = cursor.fetchone()
    return int(row[0])


def hit(scope: str, identity: str, *, limit: int, window: int) -> bool:
    """Count one attempt. Returns False when ``identity`` has gone over ``limit``."""
    key = _key(scope, identity, window)
    count = _count_in_cache(key, window) if _in_redis() else _count_in_database(key, window)
    return count <= limit


def is_limited(scope: str, identity: str, *, limit: int, window: int) -> bool:
    """Whether ``identity`` is already over ``limit`` in this window, without counting."""
    key = _key(scope, identity, window)
    if _in_redis():
        count = cache.get(key, 0)
    else:
        count = (
            RateCounter.objects.filter(name=key, expires_at__gt=timezone.now())
            .values_list("count", flat=True)
            .first()
            or 0
        )
    return int(count) >= limit


def reset(scope: str, identity: str, *, window: int) -> None:
    key = _key(scope, identity, window)
    if _in_redis():
        cache.delete(key)
    else:
        RateCounter.objects.filter(name=key).delete()
