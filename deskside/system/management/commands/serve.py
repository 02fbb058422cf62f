"""``deskside serve``: one command that is a complete, production-ready desk.

It applies database updates, collects static files, prints the first-run setup link when
there is no administrator yet, then runs gunicorn in this process (never runserver) and a
background worker as a supervised child process.

The worker is a separate process, not a thread, so a crash or leak in a job cannot take
the web pages down, and so it is the very same 'deskside worker' that operators run on
their own when they scale out.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connections
from django.urls import reverse

from deskside.cli import CommandFailed
from deskside.system.management.commands.worker import SHUTDOWN_SECONDS
from deskside.system.services import database_update

logger = logging.getLogger("deskside.serve")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_WEB_WORKERS = 2
DEFAULT_THREADS = 4
# A restarted worker that dies again waits longer each time, up to this, so a worker that
# cannot start (say, Redis is down) does not spin; the wait resets after a healthy run.
MAX_RESTART_DELAY = 60.0
HEALTHY_RUN_SECONDS = 60.0
WSGI_APP = "deskside.wsgi:application"
# Addresses meaning "every network interface": fine to listen on, but not to open in a
# browser. Compared against, never bound by this module itself.
ALL_INTERFACES = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}  # noqa: S104


def _port(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError("a port number is between 1 and 65535")
    return number


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def check_port_free(host: str, port: int) -> None:
    """Fail with one plain line if nothing can listen on host:port.

    gunicorn would otherwise retry for several seconds and then print its own messages.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # The same option gunicorn uses, so a port left in TIME_WAIT is not a false alarm.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise CommandFailed(
                    f"Port {port} on {host} is already in use. Stop the other program or "
                    "choose another port with --port."
                ) from None
            if exc.errno == errno.EACCES:
                raise CommandFailed(
                    f"Deskside is not allowed to use port {port} on {host} (ports below 1024 "
                    "need administrator rights). Choose another port with --port."
                ) from None
            reason = exc.strerror or str(exc)
            raise CommandFailed(
                f"Cannot listen on {host} port {port} ({reason}). Check --host."
            ) from None


def _base_url_given() -> bool:
    """Whether the operator set DESKSIDE_BASE_URL (in the environment or the .env file)."""
    if os.environ.get("DESKSIDE_BASE_URL", "").strip():
        return True
    # Overridden settings (as in tests) do not know their module; the environment does.
    module = settings.SETTINGS_MODULE or os.environ.get("DJANGO_SETTINGS_MODULE")
    if not module:
        return False
    env = getattr(import_module(module), "env", None)
    raw = getattr(env, "optional", None)
    return bool(raw and raw("BASE_URL"))


def public_url(host: str, port: int) -> str:
    """The address to print for people to open: DESKSIDE_BASE_URL when set, else host:port."""
    if _base_url_given():
        return str(settings.BASE_URL)
    shown = ALL_INTERFACES.get(host, host)
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def _bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# gunicorn forks its web workers from the main thread while the supervisor thread may be
# starting the background worker. Popen waits for its child's exec by reading a pipe; a
# web worker forked at that moment inherits the pipe's write end (it never execs, so
# close-on-exec never closes it) and Popen then waits forever, so a worker that dies is
# never restarted. Holding one lock around Popen and around every fork (register_at_fork)
# keeps the two apart.
_SPAWN_LOCK = threading.Lock()
os.register_at_fork(
    before=_SPAWN_LOCK.acquire,
    after_in_parent=_SPAWN_LOCK.release,
    after_in_child=_SPAWN_LOCK.release,
)


class WorkerSupervisor:
    """Keeps one 'deskside worker' child process running, restarting it if it dies."""

    def __init__(self, command: list[str]) -> None:
        self.command = command
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._thread = threading.Thread(target=self._run, name="worker-supervisor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _spawn(self) -> subprocess.Popen[bytes] | None:
        with self._lock:
            if self._stopping.is_set():
                return None
            with _SPAWN_LOCK:
                self._process = subprocess.Popen(  # noqa: S603  (our own interpreter and command)
                    self.command,
                    stdin=subprocess.DEVNULL,
                    # Its own process group: Ctrl-C in the terminal reaches serve only, and
                    # serve then stops the worker gracefully, instead of both racing to stop.
                    process_group=0,
                )
            return self._process

    def _run(self) -> None:
        delay = 1.0
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                process = self._spawn()
            except OSError as exc:
                # Out of memory or processes, say; the web pages keep running meanwhile.
                outcome = f"could not be started ({exc.strerror or exc})"
            else:
                if process is None:
                    return
                code = process.wait()
                if self._stopping.is_set():
                    return
                outcome = f"stopped unexpectedly (exit code {code})"
            if time.monotonic() - started >= HEALTHY_RUN_SECONDS:
                delay = 1.0
            logger.warning(
                "The background worker %s; starting it again in %s.",
                outcome,
                "1 second" if delay == 1 else f"{delay:.0f} seconds",
            )
            self._stopping.wait(delay)
            delay = min(delay * 2, MAX_RESTART_DELAY)

    def stop(self) -> None:
        """Ask the worker to finish its jobs and stop; kill it if it takes too long."""
        with self._lock:
            self._stopping.set()
            process = self._process
        if process is not None and process.poll() is None:
            logger.info("Stopping the background worker.")
            # It may have exited a moment ago of its own accord.
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            self._thread.join(SHUTDOWN_SECONDS + 5)
            if process.poll() is None:
                logger.warning("The background worker did not stop in time; killing it.")
                process.kill()
                process.wait()
        if self._thread.is_alive():
            self._thread.join(5)


def _web_server(options: dict[str, Any]) -> Any:
    """A gunicorn application serving Deskside, configured from ``options``."""
    from gunicorn.app.base import BaseApplication
    from gunicorn.util import import_app

    class WebServer(BaseApplication):  # type: ignore[misc]  # gunicorn has no type hints
        def load_config(self) -> None:
            for key, value in options.items():
                # Newer gunicorn settings are skipped on older versions, which lack them.
                if key in self.cfg.settings:
                    self.cfg.set(key, value)

        def load(self) -> Any:
            return import_app(WSGI_APP)

    return WebServer()


class Command(BaseCommand):
    help = (
        "Start the desk: apply database updates, collect static files, then serve the web "
        "pages with gunicorn and run a background worker beside it. The first start prints "
        "a one-time link at which you create the administrator. Stop it with Ctrl-C or "
        "SIGTERM."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host",
            default=DEFAULT_HOST,
            help=(
                "The network address to listen on (default: %(default)s, this machine only). "
                "Use 0.0.0.0 to accept connections from other machines."
            ),
        )
        parser.add_argument(
            "--port",
            type=_port,
            default=DEFAULT_PORT,
            help="The port to listen on (default: %(default)s).",
        )
        parser.add_argument(
            "--workers",
            type=_positive,
            default=DEFAULT_WEB_WORKERS,
            metavar="N",
            help="How many web server processes to run (default: %(default)s).",
        )
        parser.add_argument(
            "--threads",
            type=_positive,
            default=DEFAULT_THREADS,
            metavar="N",
            help="Requests each web server process handles at once (default: %(default)s).",
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help=(
                "Do not run background jobs in this process; run 'deskside worker' "
                "separately instead."
            ),
        )

    def _say(self, text: str = "") -> None:
        self.stdout.write(text)
        # The output may be a pipe or a log file; the setup link must appear at once.
        self.stdout.flush()

    def handle(self, *args: Any, **options: Any) -> None:
        from huey.contrib.djhuey import HUEY

        from deskside.accounts.services import admin_exists, setup_token_create

        host: str = options["host"].strip()
        port: int = options["port"]
        check_port_free(host, port)

        applied = database_update()
        if applied:
            self._say(f"Database: applied {applied} updates.")
        call_command("collectstatic", interactive=False, verbosity=0)

        url = public_url(host, port)
        if not admin_exists():
            token = setup_token_create()
            link = url + reverse("setup", kwargs={"token": token})
            self._say()
            self._say(f"First run: open this link to create the administrator account: {link}")
            self._say("(The link works once and expires in 24 hours.)")
            self._say()

        # The web processes are forked from this one; they must not share its connections.
        connections.close_all()

        supervisor: WorkerSupervisor | None = None
        if options["no_worker"]:
            jobs = "background jobs are left to 'deskside worker' (--no-worker)"
        elif HUEY.immediate:
            jobs = "background jobs run inside web requests (DESKSIDE_JOBS_IMMEDIATE)"
        else:
            supervisor = WorkerSupervisor(
                [sys.executable, "-m", "deskside", "worker", "--parent-pid", str(os.getpid())]
            )
            jobs = "with a background worker"
        self._say(f"Deskside is starting at {url} ({jobs}). Press Ctrl-C to stop.")
        if host in ALL_INTERFACES and not _base_url_given():
            self._say(
                "Tip: set DESKSIDE_BASE_URL to the address people use to reach this machine, "
                "so links in emails work and the desk accepts that address."
            )

        server = _web_server(
            {
                "bind": [_bind_address(host, port)],
                "workers": options["workers"],
                "worker_class": "gthread",
                "threads": options["threads"],
                "accesslog": "-",
                "errorlog": "-",
                "loglevel": settings.LOG_LEVEL.lower(),
                "proc_name": "deskside",
                # Long enough for a slow report, short enough that a stuck request is freed.
                "timeout": 120,
                "graceful_timeout": 10,
                # gunicorn's control socket lives at one path per user, so two desks on one
                # machine would fight over it; Deskside does not use it.
                "control_socket_disable": True,
            }
        )
        if supervisor is not None:
            supervisor.start()
        serve_pid = os.getpid()
        try:
            # Returns only by raising SystemExit, after a signal has stopped the web processes.
            server.run()
        finally:
            # gunicorn forks its web processes inside run(), and they leave it by SystemExit
            # too; only the process that started the worker may stop it.
            if supervisor is not None and os.getpid() == serve_pid:
                supervisor.stop()
