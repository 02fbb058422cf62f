"""Helpers for tests that run the real ``deskside`` command in a child process.

Each child gets its own data directory, so it uses its own SQLite database and job queue
and never sees the test database (which, on SQLite, lives only in the test process's
memory) or a real desk. Every wait is bounded, and every child is killed in the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

REPO = Path(__file__).resolve().parents[3]
T = TypeVar("T")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def deskside_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment for a child: no DESKSIDE_* from outside, its own data directory."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DESKSIDE_")}
    env.update(
        DESKSIDE_DATA_DIR=str(data_dir),
        # The machine running the tests may be short of disk; that is not what is tested.
        DESKSIDE_HEALTH_MIN_FREE_DISK_MB="0",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        PYTHONUNBUFFERED="1",
    )
    env.update(settings)
    return env


def deskside_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "deskside", *args]


def run_deskside(
    data_dir: Path,
    *args: str,
    stdin: str | None = None,
    cwd: Path | None = None,
    timeout: float = 60,
    **settings: str,
) -> subprocess.CompletedProcess[str]:
    """Run one ``deskside`` command to completion, by default next to its data directory.

    The working directory is a test's own temporary one, so no .env file is picked up.
    """
    return subprocess.run(  # noqa: S603  (our own interpreter and command)
        deskside_command(*args),
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd or data_dir.parent,
        env=deskside_env(data_dir, **settings),
        check=False,
    )


def wait_for(
    check: Callable[[], T | None], *, timeout: float, what: str, child: Running | None = None
) -> T:
    """Poll ``check`` until it returns something truthy; fail saying what never happened."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            details = f"\n{child.describe()}" if child is not None else ""
            raise AssertionError(f"gave up waiting for {what}{details}")
        time.sleep(0.1)


def get(url: str) -> tuple[int, bytes] | None:
    """(status, body) of a GET, or None when nothing answers yet."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310  (local http)
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as exc:
        # Closed at once: an open error response would hold the server's connection.
        with exc:
            return int(exc.code), bytes(exc.read())
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def health(port: int) -> dict[str, Any] | None:
    answer = get(f"http://127.0.0.1:{port}/healthz")
    if answer is None:
        return None
    body: dict[str, Any] = json.loads(answer[1])
    return body


def is_gone(pid: int) -> bool:
    """Whether a process has ended (a zombie waiting to be reaped counts as ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state == "Z"


class Running:
    """A long-running ``deskside`` child whose output goes to files that tests can read."""

    def __init__(self, data_dir: Path, *args: str, **settings: str) -> None:
        self.out_path = data_dir.parent / f"{data_dir.name}.out"
        self.err_path = data_dir.parent / f"{data_dir.name}.err"
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.process = subprocess.Popen(  # noqa: S603  (our own interpreter and command)
                deskside_command(*args),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                cwd=data_dir.parent,
                env=deskside_env(data_dir, **settings),
                # A group of its own, so cleanup can end the child and its web processes.
                start_new_session=True,
            )

    @property
    def stdout(self) -> str:
        return self.out_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.err_path.read_text(errors="replace")

    def worker_pids(self) -> list[int]:
        """Background workers this process has started so far, in order."""
        found = re.findall(r"Background worker started \(process (\d+)", self.stderr)
        return [int(pid) for pid in found]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 40) -> int:
        self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)

    def kill_everything(self) -> None:
        """End the child, its web processes and its workers, whatever state they are in."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        for pid in self.worker_pids():
            if is_gone(pid):
                continue
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)

    def describe(self) -> str:
        return f"--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"


@contextlib.contextmanager
def running(data_dir: Path, *args: str, **settings: str) -> Iterator[Running]:
    child = Running(data_dir, *args, **settings)
    try:
        yield child
    finally:
        child.kill_everything()
