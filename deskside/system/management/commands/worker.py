"""``deskside worker``: run background jobs (the Huey consumer) in this process."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils.module_loading import autodiscover_modules

from deskside.cli import CommandFailed
from deskside.system.services import database_updates_pending

logger = logging.getLogger("deskside.worker")

# On SIGTERM (systemd, docker, or 'deskside serve' stopping) running jobs get this long to
# finish before they are interrupted; 'serve' waits a little longer than this.
SHUTDOWN_SECONDS = 20


def _stop_when_orphaned(parent_pid: int) -> None:
    """Stop this worker once the 'deskside serve' that started it has gone.

    If serve is killed outright it cannot stop its worker; without this check the worker
    would keep running unsupervised and a restarted serve would start a second one.
    """
    while os.getppid() == parent_pid:
        time.sleep(1)
    logger.warning("The 'deskside serve' process that started this worker has gone; stopping.")
    # Until the consumer has set its handler, SIGTERM would kill at once instead of letting
    # jobs finish; it is set within moments of starting.
    deadline = time.monotonic() + 10
    while signal.getsignal(signal.SIGTERM) == signal.SIG_DFL and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(os.getpid(), signal.SIGTERM)


def _queue_description() -> str:
    if settings.REDIS_URL:
        return "Redis"
    return f"SQLite at {settings.HUEY['filename']}"


class Command(BaseCommand):
    help = (
        "Run background jobs (sending mail, checking deadlines, the health heartbeat) in "
        "this process. 'deskside serve' already runs one; start more to share the work "
        "(with DESKSIDE_REDIS_URL set, on as many machines as you like). Stop it with "
        "Ctrl-C or SIGTERM: running jobs are given time to finish."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--threads",
            type=int,
            default=None,
            metavar="N",
            help="How many jobs to run at once (default: DESKSIDE_WORKER_THREADS, normally 2).",
        )
        # Set by 'deskside serve' for the worker it supervises; not for people to use.
        parser.add_argument("--parent-pid", type=int, default=None, help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        from huey.consumer_options import ConsumerConfig
        from huey.contrib.djhuey import HUEY

        if HUEY.immediate:
            raise CommandFailed(
                "DESKSIDE_JOBS_IMMEDIATE is on, so jobs run inside the process that creates "
                "them and there is nothing for a worker to do. Unset it to use a worker."
            )
        threads: int | None = options["threads"]
        if threads is not None and threads < 1:
            raise CommandFailed("--threads must be at least 1.")

        # Fails now, in one plain line, rather than in every job: an unreachable database
        # raises OperationalError, which the deskside command explains.
        pending = database_updates_pending()
        if pending:
            raise CommandFailed(
                f"The database is missing {pending} updates that this version of Deskside "
                "needs. Run 'deskside migrate' (or start 'deskside serve') first."
            )

        # Registers every app's periodic jobs and startup hooks (such as the heartbeat).
        autodiscover_modules("tasks")

        consumer_options = dict(settings.HUEY.get("consumer", {}))
        # SIGTERM is what service managers send to stop a process; treat it as "finish up".
        consumer_options.update(graceful_signal="TERM", shutdown_timeout=SHUTDOWN_SECONDS)
        if threads is not None:
            consumer_options["workers"] = threads
        config = ConsumerConfig(**consumer_options)
        config.validate()
        consumer = HUEY.create_consumer(**config.values)

        parent_pid: int | None = options["parent_pid"]
        if parent_pid is not None:
            threading.Thread(
                target=_stop_when_orphaned, args=(parent_pid,), name="parent-watch", daemon=True
            ).start()
        logger.info(
            "Background worker started (process %s, %s threads, jobs queued in %s).",
            os.getpid(),
            config.workers,
            _queue_description(),
        )
        consumer.run()
        logger.info("Background worker stopped.")
