"""``deskside reindex``: rebuild the search index from the tickets in the database."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from deskside.search.interface import REINDEX_BATCH, index_ticket, reindex_all


class Command(BaseCommand):
    help = (
        "Rebuild the search index for every ticket (or one, with --ticket). Safe to run "
        "while the desk is in use; run it after restoring a backup or upgrading."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--ticket", type=int, help="Re-index only this ticket number.")
        parser.add_argument(
            "--batch",
            type=int,
            default=REINDEX_BATCH,
            help="Tickets per transaction (default: %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["ticket"] is not None:
            index_ticket(options["ticket"])
            self.stdout.write(f"Re-indexed ticket #{options['ticket']}.")
            return

        def report(done: int) -> None:
            self.stdout.write(f"  {done} tickets indexed…")

        total = reindex_all(batch=max(1, options["batch"]), progress=report)
        self.stdout.write(self.style.SUCCESS(f"Search index rebuilt: {total} tickets."))
