"""Fixed-window rate limits kept in the shared cache (database or Redis).

The cache is shared by every web process, so a limit holds across gunicorn workers and,
with Redis, across machines.
"""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache


def _key(scope: str, identity: str, window: int) -> str:
    bucket = int(time.time() // window)
    digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
    return f"ratelimit:{scope}:{digest}:{bucket}"


def hit(scope: str, identity: str, *, limit: int, window: int) -> bool:
    """Count one attempt. Returns False when ``identity`` has gone over ``limit``."""
    key = _key(scope, identity, window)
    # Counting an existing window (the usual case: every request after a window's first)
    # is tried first, so it costs one increment rather than a failed add and then one.
    try:
        count = cache.incr(key)
    except ValueError:  # the window's first attempt, or it expired meanwhile
        if cache.add(key, 1, timeout=window):
            count = 1
        else:
            try:  # another process started the window just now
                count = cache.incr(key)
            except ValueError:
                cache.add(key, 1, timeout=window)
                count = 1
    return count <= limit


def is_limited(scope: str, identity: str, *, limit: int, window: int) -> bool:
    """Whether ``identity`` is already over ``limit`` in this window, without counting."""
    count = cache.get(_key(scope, identity, window), 0)
    return int(count) >= limit


def reset(scope: str, identity: str, *, window: int) -> None:
    cache.delete(_key(scope, identity, window))
