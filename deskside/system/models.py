"""State about the running desk itself."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Heartbeat(models.Model):
    """The last time a background worker proved it was running, one row per source."""

    source = models.CharField(max_length=50, unique=True)
    beat_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.source} at {self.beat_at:%Y-%m-%d %H:%M:%S}"


class ConfigVersion(models.Model):
    """A counter per kind of configuration that processes cache (SLA policies, coach terms).

    An edit bumps it in the same transaction, so every process sees the new number exactly
    when it sees the edit, and a restored backup brings its own number with it. (A version
    kept in the cache instead could outlive the data it described.)
    """

    name = models.CharField(max_length=50, primary_key=True)
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class RateCounter(models.Model):
    """Attempts so far in one fixed window of one rate limit (see deskside/system/ratelimit.py).

    Counted with one upsert per attempt, shared by every process using the database. Rows
    of windows that have ended are deleted by a periodic job.
    """

    name = models.CharField(max_length=150, primary_key=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.name}: {self.count}"
