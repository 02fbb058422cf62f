"""The embedded job queue: Huey's SQLite queue, tuned the way the desk's own database is.

Huey's own SQLite storage waits at most 5 seconds for a busy database and fsyncs every
commit (SQLite's default ``synchronous=FULL``). Every reply, ticket and incoming email
queues several jobs, and the web processes, the worker and ``deskside smtpd`` all share
the one queue file, so under load those defaults made enqueueing slow and, past 5
seconds of waiting, fail. Here the queue waits as long as the database does
(``DESKSIDE`` uses 20 seconds) and uses ``synchronous=NORMAL`` in WAL mode, the same
trade as the desk's database: a crashed process loses nothing; a power cut may lose the
last moments of queued jobs, which the periodic sweeps redo (stored mail is processed by
``inbound_process_pending``; search is repaired by ``deskside reindex``).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from huey import SqliteHuey
from huey.storage import SqliteStorage

# The same patience as the desk's database connection (settings.DATABASES' timeout).
BUSY_TIMEOUT_SECONDS = 20


class DesksideSqliteStorage(SqliteStorage):  # type: ignore[misc]  # huey is untyped
    """SQLite job storage with a longer busy timeout and WAL-appropriate syncing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("timeout", BUSY_TIMEOUT_SECONDS)
        super().__init__(*args, **kwargs)

    def _create_connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection = super()._create_connection()
        conn.execute("pragma synchronous=NORMAL")
        return conn


class DesksideSqliteHuey(SqliteHuey):  # type: ignore[misc]  # huey is untyped
    storage_class = DesksideSqliteStorage
