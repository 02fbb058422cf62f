"""Email intake throughput: messages per second through the whole pipeline.

    python bench/intake.py [--messages 1000] [--runs 3] [--modes pipeline,lmtp,imap]
                           [--write-docs]

Each run starts from an empty desk on SQLite (the embedded default) in a fresh data
directory, and counts a message as done when it is on the desk: stored, parsed and
turned into a ticket or a reply (state ``processed``).

Modes:
- ``pipeline``: the pipeline alone, in one process: store, then process, one message
  after another, as a worker does for mail from the listener. No network, no job queue.
- ``batches``: the same, but stored 100 at a time and processed with
  ``inbound_process_many`` (one write transaction per 25), as the IMAP poller does.
- ``lmtp``: the real ``deskside smtpd --lmtp`` and a real ``deskside worker`` as child
  processes; 4 LMTP clients deliver the corpus on loopback. Reported: how fast the
  listener accepted the mail (every message answered 250, so durably stored) and how
  fast it was all on the desk.
- ``imap``: a private Dovecot on loopback holds the corpus in its inbox; ``deskside
  pollmail`` collects it (storing, then moving each message) while a ``deskside worker``
  processes it. Reported the same way.
- ``pollmail``: the same inbox, collected and processed at once by ``deskside pollmail``
  alone, without a worker (follow-up jobs are queued, not run), so no run waits for the
  worker's minute (not in the default modes; bench/compare.py uses it).

The corpus is generated from a fixed seed: about 200 people writing new requests (plain
text, multipart/alternative with HTML, some with a small attachment) and, for a fifth
of the messages, replies to their own earlier mail (threaded through In-Reply-To).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import smtplib
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    free_port,
    machine,
    median_spread,
    save_report,
    write_docs_section,
)

DESK_ADDRESS = "help@bench.deskside.test"
WORDS = (
    "printer",
    "laptop",
    "password",
    "outlook",
    "vpn",
    "invoice",
    "scanner",
    "teams",
    "screen",
    "keyboard",
    "wifi",
    "badge",
    "meeting",
    "room",
    "projector",
    "phone",
    "update",
    "restart",
    "slow",
    "error",
    "login",
    "account",
    "folder",
    "share",
    "calendar",
    "mailbox",
    "backup",
    "disk",
    "monitor",
    "docking",
    "station",
    "headset",
    "camera",
)


def make_corpus(count: int, *, seed: int = 5) -> list[bytes]:
    """``count`` realistic messages to the desk, the same every time for the same seed."""
    rng = random.Random(seed)  # noqa: S311  (benchmark data, not security)
    people = [(f"Person {n}", f"person{n}@staff.bench.test") for n in range(200)]
    sent: dict[str, list[str]] = {}
    corpus = []
    for index in range(count):
        name, address = rng.choice(people)
        message = EmailMessage()
        message["From"] = f"{name} <{address}>"
        message["To"] = DESK_ADDRESS
        message["Date"] = format_datetime(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
        message_id = make_msgid(idstring=f"bench{index}", domain="staff.bench.test")
        message["Message-ID"] = message_id
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(30, 120)))
        earlier = sent.get(address)
        if earlier and rng.random() < 0.25:
            message["Subject"] = "Re: " + rng.choice(WORDS).capitalize() + " problem"
            message["In-Reply-To"] = earlier[-1]
            message["References"] = " ".join(earlier[-3:])
            body = f"Thanks, it happened again this morning: {words}.\n\n> earlier text\n"
        else:
            message["Subject"] = f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} issue"
            body = f"Hello IT,\n\nMy {words}.\n\nThanks,\n{name}\n"
        message.set_content(body)
        kind = rng.random()
        if kind < 0.35:
            message.add_alternative(f"<html><body><p>{body}</p></body></html>", subtype="html")
        elif kind < 0.45:
            message.add_attachment(
                rng.randbytes(4096), maintype="image", subtype="png", filename="screenshot.png"
            )
        sent.setdefault(address, []).append(message_id)
        corpus.append(message.as_bytes())
    return corpus


# --- Environment for one run --------------------------------------------------------------


def child_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DESKSIDE_")}
    env.update(
        DESKSIDE_DATA_DIR=str(data_dir),
        DESKSIDE_HEALTH_MIN_FREE_DISK_MB="0",
        # Acknowledgements are written to the log; sending them is not what is measured.
        DESKSIDE_LOG_LEVEL="warning",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def deskside(data_dir: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  (our own interpreter and command)
        [sys.executable, "-m", "deskside", *args],
        env=child_env(data_dir, **extra),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )


@contextmanager
def background(data_dir: Path, *args: str, **extra: str) -> Iterator[subprocess.Popen[bytes]]:
    log = (data_dir / f"{args[0]}.log").open("wb")
    process = subprocess.Popen(  # noqa: S603  (our own interpreter and command)
        [sys.executable, "-m", "deskside", *args],
        env=child_env(data_dir, **extra),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def new_desk(
    data_dir: Path, *, imap: dict[str, str] | None = None, mailbox_address: str = DESK_ADDRESS
) -> None:
    """A migrated, empty desk with one mailbox."""
    deskside(data_dir, "migrate", "--verbosity", "0")
    fields = {"address": mailbox_address, "name": "Bench desk", **(imap or {})}
    deskside(
        data_dir,
        "shell",
        "-c",
        "from deskside.mail.models import Mailbox; Mailbox.objects.create(**"
        + json.dumps(fields)
        + ")",
    )


def _read(data_dir: Path, sql: str) -> list[tuple[Any, ...]]:
    path = data_dir / "deskside.sqlite3"
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def counts(data_dir: Path) -> dict[str, int]:
    """Stored messages by state, read straight from the child's SQLite file."""
    rows = _read(data_dir, "SELECT state, COUNT(*) FROM mail_inboundmessage GROUP BY state")
    return dict(rows)


def timings(data_dir: Path) -> tuple[float, float, float]:
    """When the first message was stored, the last was stored, the last was processed.

    Read from the rows themselves (UTC timestamps), so a rate does not include the time a
    poller waited for its minute to come round, nor the time this script took to notice.
    """
    first, last, done = _read(
        data_dir,
        "SELECT MIN(received_at), MAX(received_at), MAX(processed_at) FROM mail_inboundmessage",
    )[0]
    return tuple(  # type: ignore[return-value]  # always three values
        datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp()
        for value in (first, last, done)
    )


def wait_until_done(data_dir: Path, total: int, *, timeout: float = 600) -> float:
    """Seconds (monotonic clock) when every message left 'received'; raises on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = counts(data_dir)
        stored = sum(found.values())
        if stored >= total and found.get("received", 0) == 0:
            return time.monotonic()
        time.sleep(0.05)
    raise SystemExit(f"Timed out; the desk holds {counts(data_dir)} of {total} messages")


def wait_until_acknowledged(data_dir: Path, *, timeout: float = 600) -> float:
    """Wall-clock time (UTC seconds) when every new ticket's acknowledgement had gone.

    Each ticket opened by mail gets one acknowledgement (sent, or suppressed by the
    per-recipient cap); a reply gets none. Done when every ticket has its row and none is
    still waiting to be sent.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tickets, mails, waiting = _read(
            data_dir,
            "SELECT (SELECT COUNT(*) FROM tickets_ticket),"
            " (SELECT COUNT(*) FROM mail_outboundmail WHERE kind = 'acknowledgement'),"
            " (SELECT COUNT(*) FROM mail_outboundmail WHERE state = 'queued')",
        )[0]
        if mails >= tickets and waiting == 0:
            last = _read(
                data_dir, "SELECT MAX(COALESCE(sent_at, created_at)) FROM mail_outboundmail"
            )[0][0]
            return datetime.fromisoformat(last).replace(tzinfo=UTC).timestamp()
        time.sleep(0.1)
    raise SystemExit("Timed out waiting for the acknowledgements")


def outcome(data_dir: Path, total: int) -> dict[str, int]:
    found = counts(data_dir)
    if sum(found.values()) != total:
        raise SystemExit(f"Expected {total} stored messages, found {found}")
    return found


# --- Modes --------------------------------------------------------------------------------


def run_pipeline(corpus: list[bytes], data_dir: Path) -> dict[str, Any]:
    """Store and process every message in one process, one after another."""
    new_desk(data_dir)
    script = (
        "import sys, time, pickle\n"
        "from deskside.mail.intake import inbound_process, inbound_store\n"
        "from deskside.mail.models import Mailbox\n"
        "corpus = pickle.load(sys.stdin.buffer)\n"
        "box = Mailbox.objects.get()\n"
        "started = time.perf_counter()\n"
        "for raw in corpus:\n"
        "    stored = inbound_store(raw=raw, source='lmtp', mailbox=box)\n"
        "    inbound_process(stored.inbound.pk)\n"
        "print(time.perf_counter() - started)\n"
    )
    import pickle

    finished = subprocess.run(  # noqa: S603  (our own interpreter)
        [sys.executable, "-m", "deskside", "shell", "-c", script],
        input=pickle.dumps(corpus),
        env=child_env(data_dir),
        capture_output=True,
        check=True,
        timeout=600,
    )
    seconds = float(finished.stdout.decode().strip().splitlines()[-1])
    return {
        "done_per_second": len(corpus) / seconds,
        "seconds": seconds,
        "outcome": outcome(data_dir, len(corpus)),
    }


def _wait_for_port(port: int, process: subprocess.Popen[bytes], data_dir: Path) -> None:
    import socket

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (data_dir / "smtpd.log").read_text(errors="replace")
            raise SystemExit(f"deskside smtpd stopped:\n{log}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"deskside smtpd did not listen on port {port}")


LMTP_CLIENTS = 4


def run_lmtp(corpus: list[bytes], data_dir: Path) -> dict[str, Any]:
    """Deliver the corpus over LMTP to the real listener while a real worker processes it."""
    new_desk(data_dir)
    port = free_port()
    refused: list[str] = []
    with (
        background(data_dir, "smtpd", "--lmtp", "--port", str(port)) as listener,
        background(data_dir, "worker"),
    ):
        _wait_for_port(port, listener, data_dir)
        slices = [corpus[n::LMTP_CLIENTS] for n in range(LMTP_CLIENTS)]

        def deliver(messages: list[bytes]) -> None:
            with smtplib.LMTP("127.0.0.1", port, timeout=60) as client:
                for raw in messages:
                    answer = client.sendmail("sender@staff.bench.test", [DESK_ADDRESS], raw)
                    if answer:
                        refused.append(repr(answer))

        started = time.monotonic()
        started_wall = time.time()
        threads = [threading.Thread(target=deliver, args=(part,)) for part in slices]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        accepted_at = time.monotonic()
        wait_until_done(data_dir, len(corpus))
        acknowledged = wait_until_acknowledged(data_dir)
    if refused:
        raise SystemExit(f"{len(refused)} messages were refused, e.g. {refused[0]}")
    _first, _last_stored, last_done = timings(data_dir)
    return {
        "accepted_per_second": len(corpus) / (accepted_at - started),
        "done_per_second": len(corpus) / (last_done - started_wall),
        # Everything the messages caused, acknowledgements sent included.
        "acknowledged_per_second": len(corpus) / (acknowledged - started_wall),
        "seconds": last_done - started_wall,
        "outcome": outcome(data_dir, len(corpus)),
    }


def run_imap(corpus: list[bytes], data_dir: Path, *, collect: str = "worker") -> dict[str, Any]:
    """A local Dovecot inbox holds the corpus; a real worker collects and processes it.

    The worker checks IMAP mailboxes once a minute, as on a real desk, so the rate is
    measured from the first message stored to the last one on the desk. With
    ``collect="pollmail"`` the same poller is run at once by ``deskside pollmail``, which
    also processes what it collects, and no worker runs: the follow-up jobs
    (acknowledgements, search index) are queued, not run, as in the ``batches`` mode.
    """
    from deskside.mail.tests import dovecot as dovecot_module

    base = Path(tempfile.mkdtemp(prefix="deskside-bench-dovecot-"))
    base.chmod(0o755)
    server = dovecot_module._start(base)
    try:
        user = server.user()
        server.append(user, *corpus)
        password_file = server.password_file()
        new_desk(
            data_dir,
            imap={
                "imap_host": "127.0.0.1",
                "imap_port": str(server.port),
                "imap_security": "none",
                "imap_username": user,
                "imap_password_file": str(password_file),
                "after_import": "move",
                "move_to_folder": "Deskside",
            },
        )
        if collect == "pollmail":
            deskside(data_dir, "pollmail")
            wait_until_done(data_dir, len(corpus), timeout=60)
        else:
            with background(data_dir, "worker"):
                wait_until_done(data_dir, len(corpus), timeout=660)
        left = server.count(user)
        if left:
            raise SystemExit(f"{left} messages were left in the inbox")
        first, last_stored, last_done = timings(data_dir)
        return {
            "accepted_per_second": len(corpus) / max(last_stored - first, 1e-6),
            "done_per_second": len(corpus) / max(last_done - first, 1e-6),
            "seconds": last_done - first,
            "outcome": outcome(data_dir, len(corpus)),
        }
    finally:
        dovecot_module._stop(server)
        import shutil

        shutil.rmtree(base, ignore_errors=True)


def run_pollmail(corpus: list[bytes], data_dir: Path) -> dict[str, Any]:
    """IMAP, collected and processed at once by ``deskside pollmail`` alone (no worker)."""
    return run_imap(corpus, data_dir, collect="pollmail")


def run_batches(corpus: list[bytes], data_dir: Path) -> dict[str, Any]:
    """Store a batch of 100, then process it with inbound_process_many, as the IMAP poller
    does; one process, no job queue."""
    new_desk(data_dir)
    script = (
        "import sys, time, pickle\n"
        "from deskside.mail.intake import inbound_process_many, inbound_store\n"
        "from deskside.mail.models import Mailbox\n"
        "corpus = pickle.load(sys.stdin.buffer)\n"
        "box = Mailbox.objects.get()\n"
        "started = time.perf_counter()\n"
        "for start in range(0, len(corpus), 100):\n"
        "    ids = [inbound_store(raw=raw, source='imap', mailbox=box).inbound.pk\n"
        "           for raw in corpus[start:start + 100]]\n"
        "    inbound_process_many(ids)\n"
        "print(time.perf_counter() - started)\n"
    )
    import pickle

    finished = subprocess.run(  # noqa: S603  (our own interpreter)
        [sys.executable, "-m", "deskside", "shell", "-c", script],
        input=pickle.dumps(corpus),
        env=child_env(data_dir),
        capture_output=True,
        check=True,
        timeout=600,
    )
    seconds = float(finished.stdout.decode().strip().splitlines()[-1])
    return {
        "done_per_second": len(corpus) / seconds,
        "seconds": seconds,
        "outcome": outcome(data_dir, len(corpus)),
    }


MODES: dict[str, Callable[[list[bytes], Path], dict[str, Any]]] = {
    "pipeline": run_pipeline,
    "batches": run_batches,
    "lmtp": run_lmtp,
    "imap": run_imap,
    "pollmail": run_pollmail,
}


# --- Runner -------------------------------------------------------------------------------


# Reported by some modes only: how fast the mail was accepted (stored), and how fast
# everything it caused was done, acknowledgements sent included (LMTP, with a worker).
OPTIONAL_RATES = ("accepted_per_second", "acknowledged_per_second")


def median_and_spread(values: list[float]) -> dict[str, float]:
    spread = median_spread(values)
    return {key: spread[key] for key in ("median", "min", "max")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--modes", default="pipeline,batches,lmtp,imap")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    modes = [mode.strip() for mode in args.modes.split(",") if mode.strip()]
    unknown = [mode for mode in modes if mode not in MODES]
    if unknown:
        parser.error(f"unknown mode(s) {', '.join(unknown)}; choose from {', '.join(MODES)}")
    corpus = make_corpus(args.messages)
    size = sum(len(raw) for raw in corpus)
    print(
        f"Email intake: {len(corpus)} messages ({size / 1024 / 1024:.1f} MB), "
        f"{args.runs} runs per mode, SQLite, {os.cpu_count()} cores"
    )
    results = []
    for mode in modes:
        runs = []
        for number in range(1, args.runs + 1):
            with tempfile.TemporaryDirectory(prefix=f"deskside-bench-{mode}-") as tmp:
                data_dir = Path(tmp) / "data"
                data_dir.mkdir()
                result = MODES[mode](corpus, data_dir)
            runs.append(result)
            accepted = result.get("accepted_per_second")
            acknowledged = result.get("acknowledged_per_second")
            print(
                f"  {mode:<9} run {number}: {result['done_per_second']:7.1f} messages/s on the "
                "desk"
                + (f", {accepted:7.1f}/s accepted" if accepted else "")
                + (f", {acknowledged:7.1f}/s acknowledged" if acknowledged else "")
                + f"   {result['outcome']}"
            )
        summary: dict[str, Any] = {
            "name": mode,
            "messages": len(corpus),
            "done_per_second": median_and_spread([run["done_per_second"] for run in runs]),
            "runs": runs,
        }
        for key in OPTIONAL_RATES:
            if all(key in run for run in runs):
                summary[key] = median_and_spread([run[key] for run in runs])
        results.append(summary)
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": "sqlite",
        "machine": machine(),
        "results": results,
    }
    save_report(report, f"{report['date'][:10]}-intake-sqlite-{len(corpus)}.json")
    if args.write_docs:
        write_docs(report)
    return 0


def write_docs(report: dict[str, Any]) -> None:
    lines = [
        f"### Email intake, sqlite, {report['results'][0]['messages']:,} messages "
        f"({report['date'][:10]}, {report['machine']['cores']} cores)",
        "",
        "| Mode | on the desk, messages/s (median, min to max) | accepted, messages/s "
        "| acknowledgements sent, messages/s |",
        "|---|---:|---:|---:|",
    ]
    for row in report["results"]:
        done = row["done_per_second"]
        cells = [f"{done['median']} ({done['min']} to {done['max']})"]
        for key in OPTIONAL_RATES:
            rate = row.get(key)
            cells.append(f"{rate['median']} ({rate['min']} to {rate['max']})" if rate else "n/a")
        lines.append(f"| {row['name']} | " + " | ".join(cells) + " |")
    write_docs_section("<!-- intake results -->", lines)


if __name__ == "__main__":
    raise SystemExit(main())
