"""'deskside serve' run for real: gunicorn, the supervised worker and the setup link."""

from __future__ import annotations

import os
import re
import signal
import socket
from pathlib import Path

import pytest
from pytest_django.fixtures import Settings

from deskside.cli import CommandFailed
from deskside.system.management.commands.serve import check_port_free, public_url
from deskside.system.tests.processes import (
    free_port,
    get,
    health,
    is_gone,
    run_deskside,
    running,
    wait_for,
)

SETUP_LINK = re.compile(
    r"First run: open this link to create the administrator account: "
    r"(http://127\.0\.0\.1:\d+/setup/[\w-]+/)"
)


def _jobs_ok(port: int) -> bool:
    body = health(port)
    return body is not None and body["checks"]["jobs"]["ok"]


def test_serve_runs_the_desk_and_its_worker_then_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    with running(tmp_path / "data", "serve", "--port", str(port), "--workers", "1") as serve:
        wait_for(lambda: health(port), timeout=30, what="/healthz to answer", child=serve)

        link = wait_for(
            lambda: SETUP_LINK.search(serve.stdout), timeout=5, what="the setup link", child=serve
        )
        answer = get(link.group(1))
        assert answer is not None
        assert answer[0] == 200, serve.describe()

        # The worker child records a heartbeat as it starts, so the queue turns green.
        wait_for(lambda: _jobs_ok(port), timeout=90, what="the worker heartbeat", child=serve)
        body = health(port)
        assert body is not None
        assert body["status"] == "ok", body
        # Static files were collected into the data directory and are served.
        assert (tmp_path / "data" / "static" / "admin" / "css" / "base.css").is_file()
        static = get(f"http://127.0.0.1:{port}/static/admin/css/base.css")
        assert static is not None
        assert static[0] == 200

        [worker] = serve.worker_pids()
        assert serve.stop(signal.SIGTERM) == 0, serve.describe()
        wait_for(lambda: is_gone(worker), timeout=10, what="the worker to stop")
        assert "Background worker stopped." in serve.stderr
        assert "Traceback" not in serve.stderr, serve.describe()


def test_serve_restarts_a_worker_that_dies(tmp_path: Path) -> None:
    port = free_port()
    with running(tmp_path / "data", "serve", "--port", str(port), "--workers", "1") as serve:
        first = wait_for(serve.worker_pids, timeout=90, what="a worker", child=serve)[0]
        os.kill(first, signal.SIGKILL)
        pids = wait_for(
            lambda: serve.worker_pids() if len(serve.worker_pids()) > 1 else None,
            # Generous: a loaded 2-core CI machine starts Python slowly; it returns as soon
            # as the worker is up.
            timeout=90,
            what="a new worker",
            child=serve,
        )
        assert pids[1] != first
        assert "background worker stopped unexpectedly" in serve.stderr
        # Ctrl-C in a terminal stops it just as cleanly as SIGTERM.
        assert serve.stop(signal.SIGINT) == 0, serve.describe()
        wait_for(lambda: is_gone(pids[1]), timeout=10, what="the new worker to stop")


def test_no_worker_runs_the_web_pages_only(tmp_path: Path) -> None:
    port = free_port()
    with running(tmp_path / "data", "serve", "--port", str(port), "--no-worker") as serve:
        body = wait_for(lambda: health(port), timeout=30, what="/healthz", child=serve)
        # Nobody runs jobs, and the health check says so by name.
        assert body["status"] == "failing"
        assert body["checks"]["jobs"]["ok"] is False
        assert serve.worker_pids() == []
        assert "--no-worker" in serve.stdout
        assert serve.stop() == 0


def test_a_port_in_use_is_one_plain_line(tmp_path: Path) -> None:
    with socket.socket() as other_program:
        other_program.bind(("127.0.0.1", 0))
        other_program.listen()
        port = other_program.getsockname()[1]
        result = run_deskside(tmp_path / "data", "serve", "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"deskside: Port {port} on 127.0.0.1 is already in use. Stop the other program or "
        "choose another port with --port."
    ]


def test_port_check_in_process() -> None:
    with socket.socket() as other_program:
        other_program.bind(("127.0.0.1", 0))
        other_program.listen()
        port = other_program.getsockname()[1]
        with pytest.raises(CommandFailed, match="already in use"):
            check_port_free("127.0.0.1", port)
    check_port_free("127.0.0.1", free_port())


def test_printed_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DESKSIDE_BASE_URL", raising=False)
    assert public_url("0.0.0.0", 8000) == "http://127.0.0.1:8000"  # noqa: S104
    assert public_url("::", 9000) == "http://[::1]:9000"
    assert public_url("10.1.2.3", 80) == "http://10.1.2.3:80"


def test_printed_address_prefers_the_configured_one(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    monkeypatch.setenv("DESKSIDE_BASE_URL", "https://help.example.com")
    settings.BASE_URL = "https://help.example.com"
    assert public_url("0.0.0.0", 8000) == "https://help.example.com"  # noqa: S104
