"""The poller killed with SIGKILL mid-intake loses nothing and imports nothing twice.

A real ``deskside pollmail`` runs in a child process, with its own data folder and
database (SQLite, or a scratch PostgreSQL database when the suite runs on PostgreSQL),
against the test Dovecot holding 200 messages. The child reaches Dovecot through a small
proxy in this process, which stops passing traffic the moment the child asks to move
the chunk holding message 100 away: at that instant the chunk is committed but still in
the inbox, the one window where a careless poller would lose or duplicate mail. The
child is killed there, then run again; afterwards the inbox is empty and each message is
stored once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import threading
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import psycopg
import pytest

from deskside.lib.env import parse_database_url
from deskside.mail.imap import FETCH_CHUNK
from deskside.mail.tests.dovecot import HOST, Dovecot, dovecot_fixture  # noqa: F401  (fixture)
from deskside.system.tests.processes import free_port, run_deskside, running, wait_for

TOTAL = 200
BATCH = 30  # so the kill also lands in the middle of a later batch
KILL_IN = 100  # the UID (and Message-ID number) whose chunk's move the proxy holds back


def _chunk_of(uid: int) -> tuple[int, int]:
    """The first and last UID fetched and moved with ``uid`` (batches, then chunks)."""
    batch_start = (uid - 1) // BATCH * BATCH + 1
    first = batch_start + (uid - batch_start) // FETCH_CHUNK * FETCH_CHUNK
    return first, min(first + FETCH_CHUNK - 1, batch_start + BATCH - 1, TOTAL)


HELD_FIRST, HELD_LAST = _chunk_of(KILL_IN)
ADDRESS = "fault@deskside.test"


class HoldingProxy:
    """A loopback TCP proxy that stops forwarding once the client sends ``trigger``.

    From then on nothing more reaches the server and nothing comes back, so the client
    waits for an answer that never arrives, frozen at exactly that point.
    """

    def __init__(self, upstream_port: int, trigger: bytes | None) -> None:
        self.upstream_port = upstream_port
        self.trigger = trigger
        self.held = threading.Event()
        self.port = free_port()
        self._listener = socket.create_server((HOST, self.port))
        self._sockets: list[socket.socket] = [self._listener]
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            server = socket.create_connection((HOST, self.upstream_port))
            with self._lock:
                self._sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, watch: bool) -> None:
        seen = b""
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if watch and self.trigger is not None:
                    # Kept short but long enough to find a trigger split across reads.
                    seen = (seen + data)[-4096:]
                    if self.trigger in seen:
                        self.held.set()
                if self.held.is_set():
                    continue
                target.sendall(data)

    def close(self) -> None:
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.close()


def message(number: int) -> bytes:
    mail = EmailMessage()
    mail["From"] = f"Person {number} <person{number}@example.com>"
    mail["To"] = ADDRESS
    mail["Subject"] = f"Request {number}"
    mail["Message-ID"] = f"<fault-{number}@mail.example.com>"
    mail.set_content(f"Request number {number}.")
    return mail.as_bytes().replace(b"\n", b"\r\n")


# --- The child's own database --------------------------------------------------------------

StoredIds = Callable[[], list[str]]


def _sqlite_ids(path: Path) -> StoredIds:
    def read() -> list[str]:
        with contextlib.closing(sqlite3.connect(path, timeout=20)) as db:
            rows = db.execute("SELECT message_id FROM mail_inboundmessage").fetchall()
        return [row[0] for row in rows]

    return read


@pytest.fixture
def child_database(tmp_path: Path) -> Iterator[tuple[dict[str, str], StoredIds]]:
    """Settings giving the child its own database, and a reader of its stored Message-IDs."""
    url = os.environ.get("DESKSIDE_DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://", "pgsql://")):
        # The child's data folder holds its SQLite database (see settings.DATABASES).
        yield {}, _sqlite_ids(tmp_path / "data" / "deskside.sqlite3")
        return

    parsed = parse_database_url(url)
    scratch = f"{parsed.name}_imapfault_{os.getpid()}"
    admin = {
        "host": parsed.host or None,
        "port": parsed.port or None,
        "user": parsed.user or None,
        "password": parsed.password or None,
        "connect_timeout": 10,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **admin) as conn:  # type: ignore[arg-type]
        conn.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
        conn.execute(f'CREATE DATABASE "{scratch}"')

    def read() -> list[str]:
        with psycopg.connect(dbname=scratch, **admin) as conn:  # type: ignore[arg-type]
            rows = conn.execute("SELECT message_id FROM mail_inboundmessage").fetchall()
        return [row[0] for row in rows]

    try:
        child_url = urlsplit(url)._replace(path=f"/{scratch}").geturl()
        yield {"DESKSIDE_DATABASE_URL": child_url}, read
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **admin) as conn:  # type: ignore[arg-type]
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


# --- The test ------------------------------------------------------------------------------


def test_a_poller_killed_mid_intake_loses_nothing_and_imports_nothing_twice(
    dovecot: Dovecot,
    tmp_path: Path,
    child_database: tuple[dict[str, str], StoredIds],
) -> None:
    db_settings, stored_ids = child_database
    # Typed loosely: run_deskside takes its settings as keyword arguments.
    child_settings = cast(dict[str, Any], db_settings)
    data_dir = tmp_path / "data"
    user = dovecot.user()
    dovecot.append(user, *(message(number) for number in range(1, TOTAL + 1)))

    migrated = run_deskside(data_dir, "migrate", timeout=300, **child_settings)
    assert migrated.returncode == 0, migrated.stderr

    proxy = HoldingProxy(dovecot.port, trigger=f" UID MOVE {HELD_FIRST},".encode())
    try:
        created = run_deskside(
            data_dir,
            "shell",
            "-c",
            "from deskside.mail.models import Mailbox\n"
            f"Mailbox.objects.create(address={ADDRESS!r}, name='Fault', imap_host={HOST!r}, "
            f"imap_port={proxy.port}, imap_security='none', imap_username={user!r}, "
            f"imap_password_file={str(dovecot.password_file())!r})",
            **child_settings,
        )
        assert created.returncode == 0, created.stderr

        with running(
            data_dir, "pollmail", "--mailbox", ADDRESS, "--batch", str(BATCH), **child_settings
        ) as child:
            wait_for(
                proxy.held.is_set, timeout=120, what=f"the move of message {KILL_IN}", child=child
            )
            # Its chunk was committed before its move was asked for.
            wait_for(
                lambda: len(stored_ids()) == HELD_LAST,
                timeout=30,
                what=f"{HELD_LAST} stored messages",
                child=child,
            )
            os.killpg(child.process.pid, signal.SIGKILL)
            assert child.process.wait(timeout=30) == -signal.SIGKILL
        proxy.trigger = None
    finally:
        proxy.close()

    assert len(stored_ids()) == HELD_LAST  # some, not all
    assert dovecot.count(user) == TOTAL - HELD_FIRST + 1  # the held chunk is still there

    # Run again, straight to Dovecot. The killed poller's lock outlives it in the job
    # queue, so a plain run is refused (nothing is fetched twice at once) ...
    moved = run_deskside(
        data_dir,
        "shell",
        "-c",
        "from deskside.mail.models import Mailbox\n"
        f"Mailbox.objects.filter(address={ADDRESS!r}).update(imap_port={dovecot.port})",
        **child_settings,
    )
    assert moved.returncode == 0, moved.stderr
    refused = run_deskside(data_dir, "pollmail", "--mailbox", ADDRESS, **child_settings)
    assert "another process is checking this mailbox" in refused.stdout, refused.stderr
    assert len(stored_ids()) == HELD_LAST

    # ... and an operator who knows it is gone forces it.
    resumed = run_deskside(
        data_dir, "pollmail", "--mailbox", ADDRESS, "--force", timeout=120, **child_settings
    )
    assert resumed.returncode == 0, resumed.stderr
    assert (
        f"{ADDRESS}: {TOTAL - HELD_FIRST + 1} collected ({TOTAL - HELD_LAST} new, "
        f"{HELD_LAST - HELD_FIRST + 1} already saved)" in resumed.stdout
    )

    ids = stored_ids()
    assert len(ids) == TOTAL
    assert sorted(ids) == sorted(f"fault-{number}@mail.example.com" for number in range(1, 201))
    assert dovecot.count(user) == 0
    assert dovecot.count(user, "Deskside") == TOTAL  # and no copy moved twice
