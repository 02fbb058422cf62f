"""The listener under SIGKILL: no acknowledged message is lost, none is stored twice.

The real ``deskside smtpd --lmtp`` runs as a child process with its own data directory
and database (a scratch PostgreSQL database when the tests run on PostgreSQL). Clients
stream messages at it over LMTP and it is killed outright mid-stream; then, as a real
mail server would, they re-send every message that did not get its 250 to the restarted
listener. The child's database is read directly, not through Django, so what is counted
is what a restarted desk would find on disk.
"""

from __future__ import annotations

import os
import signal
import smtplib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from deskside.system.tests.processes import Running, free_port, run_deskside, running, wait_for

HOST = "127.0.0.1"
HELP = "help@deskside.test"
MESSAGES = 200
CLIENTS = 4
# Killed once this many messages are acknowledged: well into the stream, far from its end.
KILL_AFTER = 60


@dataclass
class Desk:
    """A desk for the child: its data directory, its settings and a way to read its mail."""

    data: Path
    settings: dict[str, str]
    stored: Callable[[], dict[str, int]]  # Message-ID -> how many rows have it


def _sqlite_reader(path: Path) -> Callable[[], dict[str, int]]:
    def stored() -> dict[str, int]:
        with closing(sqlite3.connect(path, timeout=30)) as db:
            rows = db.execute(
                "SELECT message_id, COUNT(*) FROM mail_inboundmessage GROUP BY message_id"
            ).fetchall()
        return {str(message_id): int(n) for message_id, n in rows}

    return stored


@contextmanager
def _scratch_postgres(url: str) -> Iterator[tuple[str, Callable[[], dict[str, int]]]]:
    """A database of its own for the child on the tests' PostgreSQL server, dropped after."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/')}_lmtpfault_{os.getpid()}"
    server = urlunsplit(parts._replace(path="/postgres"))
    child = urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def stored() -> dict[str, int]:
        with psycopg.connect(child) as db:
            rows = db.execute(
                "SELECT message_id, COUNT(*) FROM mail_inboundmessage GROUP BY message_id"
            ).fetchall()
        return {str(message_id): int(n) for message_id, n in rows}

    try:
        yield child, stored
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextmanager
def _child_database(data: Path) -> Iterator[tuple[dict[str, str], Callable[[], dict[str, int]]]]:
    """The child's database settings and reader: SQLite in its data directory, or, when
    the tests run on PostgreSQL, a scratch database on the same server."""
    url = os.environ.get("DESKSIDE_DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://", "pgsql://")):
        yield {}, _sqlite_reader(data / "deskside.sqlite3")
        return
    with _scratch_postgres(url) as (child_url, stored):
        yield {"DESKSIDE_DATABASE_URL": child_url}, stored


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    data = tmp_path_factory.mktemp("lmtpfault") / "data"
    with _child_database(data) as (settings, stored):
        # Processing is left queued (no worker runs): what is tested is storage.
        settings["DESKSIDE_JOBS_IMMEDIATE"] = "false"
        create_mailbox = (
            "from deskside.mail.models import Mailbox; "
            f"Mailbox.objects.create(address={HELP!r}, name='Help')"
        )
        for command in (["migrate"], ["shell", "-c", create_mailbox]):
            result = run_deskside(data, *command, cwd=data.parent, timeout=180, **settings)
            assert result.returncode == 0, result.stderr
        yield Desk(data=data, settings=settings, stored=stored)


@contextmanager
def listener(desk: Desk, port: int) -> Iterator[Running]:
    with running(desk.data, "smtpd", "--lmtp", "--port", str(port), **desk.settings) as child:
        wait_for(
            lambda: f"Listening for mail (LMTP) on {HOST}:{port}" in child.stderr,
            timeout=60,
            what="the listener to start",
            child=child,
        )
        yield child


def message(n: int) -> tuple[str, bytes]:
    message_id = f"fault-{n}@mail.example.com"
    raw = (
        f"From: Ada <ada@example.com>\r\nTo: {HELP}\r\nMessage-ID: <{message_id}>\r\n"
        f"Subject: Fault test {n}\r\n\r\nMessage number {n}.\r\n"
    ).encode()
    return message_id, raw


@dataclass
class Outcome:
    """Which messages got their 250, shared by the client threads."""

    acknowledged: set[str] = field(default_factory=set)
    broken: list[BaseException] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    enough: threading.Event = field(default_factory=threading.Event)
    kill_after: int | None = None

    def record(self, message_id: str) -> None:
        with self.lock:
            self.acknowledged.add(message_id)
            if self.kill_after is not None and len(self.acknowledged) >= self.kill_after:
                self.enough.set()


def deliver(port: int, batch: list[tuple[str, bytes]], outcome: Outcome) -> None:
    """Send a batch over one LMTP connection, as an MTA would; stop at the first break."""
    try:
        with closing(smtplib.LMTP(HOST, port, timeout=30)) as client:
            client.ehlo_or_helo_if_needed()
            for message_id, raw in batch:
                client.mail("ada@example.com")
                if client.rcpt(HELP)[0] != 250:
                    client.rset()
                    continue
                code, _text = client.data(raw)
                if code == 250:
                    outcome.record(message_id)
            client.quit()
    except (smtplib.SMTPException, OSError) as exc:
        # The listener died under us; everything not acknowledged is sent again later.
        with outcome.lock:
            outcome.broken.append(exc)


def deliver_in_parallel(port: int, messages: list[tuple[str, bytes]], outcome: Outcome) -> None:
    batches = [messages[i::CLIENTS] for i in range(CLIENTS)]
    threads = [threading.Thread(target=deliver, args=(port, b, outcome)) for b in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    # Wakes a test waiting for enough acknowledgements, should the stream end first.
    outcome.enough.set()
    assert not any(thread.is_alive() for thread in threads), "a client hung"


def test_killed_mid_stream_then_retried_every_message_is_stored_exactly_once(
    desk: Desk,
) -> None:
    messages = [message(n) for n in range(MESSAGES)]
    all_ids = {message_id for message_id, _raw in messages}
    port = free_port()
    outcome = Outcome(kill_after=KILL_AFTER)

    with listener(desk, port) as child:
        clients = threading.Thread(target=deliver_in_parallel, args=(port, messages, outcome))
        clients.start()
        assert outcome.enough.wait(150)
        with outcome.lock:
            broken_before_the_kill = list(outcome.broken)
        os.killpg(child.process.pid, signal.SIGKILL)
        assert not broken_before_the_kill, f"{broken_before_the_kill}\n{child.describe()}"
        clients.join(150)
        assert not clients.is_alive()
    first_round = set(outcome.acknowledged)
    assert KILL_AFTER <= len(first_round) < MESSAGES, "the kill did not land mid-stream"

    # Everything acknowledged before the kill survived it.
    stored = desk.stored()
    assert first_round <= set(stored)

    # The mail server retries what it has no 250 for, some of which was in fact stored.
    retry = [(mid, raw) for mid, raw in messages if mid not in first_round]
    retried = Outcome()
    with listener(desk, port):
        deliver_in_parallel(port, retry, retried)
    assert not retried.broken
    assert retried.acknowledged == {mid for mid, _raw in retry}

    stored = desk.stored()
    fault_ids = {mid: n for mid, n in stored.items() if mid.startswith("fault-")}
    assert set(fault_ids) == all_ids
    assert set(fault_ids.values()) == {1}


def test_a_message_acknowledged_just_before_a_kill_is_on_disk(desk: Desk) -> None:
    port = free_port()
    message_id, raw = message(MESSAGES + 1)
    with listener(desk, port) as child:
        client = smtplib.LMTP(HOST, port, timeout=30)
        client.ehlo_or_helo_if_needed()
        client.mail("ada@example.com")
        assert client.rcpt(HELP)[0] == 250
        code, _text = client.data(raw)
        # No time for anything to be flushed later: the listener dies at once.
        os.killpg(child.process.pid, signal.SIGKILL)
        client.close()
        child.process.wait(30)
    assert code == 250
    assert desk.stored().get(message_id) == 1
