"""Rate limits: one upsert a hit in the database, or in a real Redis when it is set."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import redis
from django.utils import timezone

from deskside.system import ratelimit
from deskside.system.models import RateCounter
from deskside.system.services import rate_counters_expire

pytestmark = pytest.mark.django_db


def test_rate_limit_counts_per_identity() -> None:
    assert ratelimit.hit("t", "a", limit=2, window=60)
    assert ratelimit.hit("t", "a", limit=2, window=60)
    assert not ratelimit.hit("t", "a", limit=2, window=60)
    assert ratelimit.is_limited("t", "a", limit=2, window=60)
    assert ratelimit.hit("t", "b", limit=2, window=60)
    ratelimit.reset("t", "a", window=60)
    assert ratelimit.hit("t", "a", limit=2, window=60)


def test_rate_limit_counts_in_one_statement_and_ended_windows_are_dropped(
    django_assert_num_queries: Any,
) -> None:
    with django_assert_num_queries(1):
        assert ratelimit.hit("t", "c", limit=5, window=60)
    with django_assert_num_queries(1):
        assert ratelimit.hit("t", "c", limit=5, window=60)
    counter = RateCounter.objects.get()
    assert counter.count == 2
    assert timezone.now() < counter.expires_at <= timezone.now() + timedelta(seconds=60)
    assert rate_counters_expire() == 0
    assert rate_counters_expire(now=counter.expires_at) == 1
    assert not ratelimit.is_limited("t", "c", limit=1, window=60)


def test_with_redis_the_counts_live_in_redis_and_expire_with_their_window(
    redis_cache: str, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):  # nothing in the database
        assert ratelimit.hit("t", "d", limit=2, window=60)
        assert ratelimit.hit("t", "d", limit=2, window=60)
        assert not ratelimit.hit("t", "d", limit=2, window=60)
        assert ratelimit.is_limited("t", "d", limit=2, window=60)
        assert ratelimit.hit("t", "e", limit=2, window=60)  # another identity
        ratelimit.reset("t", "d", window=60)
        assert not ratelimit.is_limited("t", "d", limit=1, window=60)
        assert ratelimit.hit("t", "d", limit=2, window=60)
    assert not RateCounter.objects.exists()
    # The window's key is in Redis itself, with a time to live no longer than the window.
    client = redis.Redis.from_url(redis_cache)
    try:
        keys = client.keys("deskside:*ratelimit:t:*")
        assert len(keys) == 2
        assert all(0 < client.ttl(key) <= 60 for key in keys)
    finally:
        client.close()


def test_with_redis_a_count_is_shared_by_every_process(redis_cache: str) -> None:
    # Another web process counting against the same window: a raw INCR on the same key.
    assert ratelimit.hit("t", "f", limit=3, window=60)
    client = redis.Redis.from_url(redis_cache)
    try:
        [key] = client.keys("deskside:*ratelimit:t:*")
        client.incr(key, 2)
    finally:
        client.close()
    assert ratelimit.is_limited("t", "f", limit=3, window=60)
    assert not ratelimit.hit("t", "f", limit=3, window=60)
