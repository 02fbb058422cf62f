"""Who else has a ticket open right now, kept in the shared cache (database or Redis).

Each open ticket page reports in every ~20 seconds. An entry lives for
:data:`PRESENCE_SECONDS`, so a closed tab disappears within a minute without anyone having
to say goodbye. The cache is shared by every web process, so two agents on different
workers still see each other.

Two agents reporting at the same instant may overwrite each other's entry; the next
report, seconds later, puts it back. That is fine for a courtesy notice and avoids locks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from deskside.accounts.models import User

PRESENCE_SECONDS = 60
VIEWING = "viewing"
REPLYING = "replying"
STATES = frozenset({VIEWING, REPLYING})


@dataclass(frozen=True)
class Presence:
    """Another person on the same ticket page."""

    user_id: int
    name: str
    state: str

    @property
    def is_replying(self) -> bool:
        return self.state == REPLYING


def _key(ticket_id: int) -> str:
    return f"tickets:presence:{ticket_id}"


def _fresh(entries: Any, now: float) -> dict[str, dict[str, Any]]:
    if not isinstance(entries, dict):
        return {}
    return {
        user_id: entry
        for user_id, entry in entries.items()
        if isinstance(entry, dict) and float(entry.get("until", 0)) > now
    }


def presence_touch(*, ticket_id: int, user: User, state: str = VIEWING) -> None:
    """Record that ``user`` has the ticket open (and whether they are writing a reply)."""
    now = time.time()
    entries = _fresh(cache.get(_key(ticket_id)), now)
    entries[str(user.pk)] = {
        "name": user.full_name,
        "state": state if state in STATES else VIEWING,
        "until": now + PRESENCE_SECONDS,
    }
    cache.set(_key(ticket_id), entries, timeout=PRESENCE_SECONDS)


def presence_leave(*, ticket_id: int, user: User) -> None:
    now = time.time()
    entries = _fresh(cache.get(_key(ticket_id)), now)
    if entries.pop(str(user.pk), None) is not None:
        cache.set(_key(ticket_id), entries, timeout=PRESENCE_SECONDS)


def presence_others(*, ticket_id: int, user: User) -> list[Presence]:
    """Everyone else on the ticket now, people replying first."""
    entries = _fresh(cache.get(_key(ticket_id)), time.time())
    others = [
        Presence(user_id=int(user_id), name=str(entry["name"]), state=str(entry["state"]))
        for user_id, entry in entries.items()
        if user_id != str(user.pk)
    ]
    return sorted(others, key=lambda p: (not p.is_replying, p.name))
