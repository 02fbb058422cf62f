"""'deskside worker' run for real: it takes jobs, beats, and stops when asked."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from deskside.system.tests.processes import run_deskside, running, wait_for


def _heartbeat(database: Path) -> str | None:
    with sqlite3.connect(database) as db:
        row = db.execute("SELECT beat_at FROM system_heartbeat WHERE source = 'worker'").fetchone()
    return str(row[0]) if row else None


def test_worker_beats_and_stops_gracefully(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run_deskside(data, "migrate").returncode == 0
    with running(data, "worker", "--threads", "1") as worker:
        wait_for(
            lambda: _heartbeat(data / "deskside.sqlite3"),
            timeout=30,
            what="the worker's heartbeat",
            child=worker,
        )
        assert "Background worker started" in worker.stderr
        assert "1 threads" in worker.stderr
        # SIGTERM, as systemd or 'deskside serve' sends, means "finish up and stop".
        assert worker.stop(signal.SIGTERM) == 0, worker.describe()
        assert "Background worker stopped." in worker.stderr
        assert "Traceback" not in worker.stderr


def test_worker_stops_when_the_serve_that_started_it_is_gone(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run_deskside(data, "migrate").returncode == 0
    # A process that has already ended: the worker's parent is certainly not it.
    ended = subprocess.Popen(["true"])  # noqa: S607  (a standard tool)
    ended.wait()
    with running(data, "worker", "--parent-pid", str(ended.pid)) as worker:
        assert worker.process.wait(timeout=30) == 0, worker.describe()
        assert "has gone; stopping" in worker.stderr


def test_worker_refuses_when_jobs_run_immediately(tmp_path: Path) -> None:
    result = run_deskside(tmp_path / "data", "worker", DESKSIDE_JOBS_IMMEDIATE="true")
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("deskside: DESKSIDE_JOBS_IMMEDIATE is on")


def test_worker_refuses_a_database_without_its_tables(tmp_path: Path) -> None:
    result = run_deskside(tmp_path / "data", "worker")
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("deskside: The database is missing ")
    assert "Run 'deskside migrate'" in line


QUEUE_AN_EXPIRY_JOB = """
from datetime import timedelta
from django.utils import timezone
from deskside.system.models import RateCounter
from deskside.system.tasks import rate_counters_expire_task
RateCounter.objects.create(name="ended", count=1, expires_at=timezone.now() - timedelta(minutes=1))
rate_counters_expire_task()
"""


def _counters(database: Path) -> int:
    with sqlite3.connect(database) as db:
        return int(db.execute("SELECT COUNT(*) FROM system_ratecounter").fetchone()[0])


def _pending_names(queue: Any) -> list[str]:
    # The raw messages, read without this process's task registry (the jobs are the
    # worker's, not registered here).
    messages = [queue.serializer.deserialize(raw) for raw in queue.storage.enqueued_items()]
    return [message.name.rsplit(".", 1)[-1] for message in messages]


def test_with_redis_a_job_queued_by_one_process_is_run_by_the_worker(
    tmp_path: Path, redis_url: str
) -> None:
    from huey import PriorityRedisHuey

    data = tmp_path / "data"
    assert run_deskside(data, "migrate", DESKSIDE_REDIS_URL=redis_url).returncode == 0
    # Queued by another process (as a web process would) while no worker runs: the job
    # waits in Redis, not in the SQLite queue of the data folder.
    queued = run_deskside(data, "shell", "-c", QUEUE_AN_EXPIRY_JOB, DESKSIDE_REDIS_URL=redis_url)
    assert queued.returncode == 0, queued.stderr
    queue = PriorityRedisHuey("deskside", url=redis_url)
    assert _pending_names(queue) == ["rate_counters_expire_task"]
    assert not (data / "jobs.sqlite3").exists()
    assert _counters(data / "deskside.sqlite3") == 1
    with running(data, "worker", "--threads", "1", DESKSIDE_REDIS_URL=redis_url) as worker:
        wait_for(
            lambda: _counters(data / "deskside.sqlite3") == 0 or None,
            timeout=30,
            what="the worker to run the job queued in Redis",
            child=worker,
        )
        # Only the queued job is checked: a minute boundary passing meanwhile queues the
        # worker's own periodic jobs (mail polling, SLA sweep, heartbeat) beside it.
        assert "rate_counters_expire_task" not in _pending_names(queue)
        assert worker.stop(signal.SIGTERM) == 0, worker.describe()
        assert "Traceback" not in worker.stderr
    assert not (data / "jobs.sqlite3").exists()
