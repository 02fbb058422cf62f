"""``deskside coachterms``: the coach's dictionary from the shell.

``--sync`` adds terms shipped in a newer Deskside that this desk does not have yet. Terms
already here (edited, switched off, or the organisation's own) are left as they are.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from deskside.cli import CommandFailed
from deskside.coach.models import Term, TermSource
from deskside.coach.services import shipped_terms_sync


class Command(BaseCommand):
    help = "Show the coach's dictionary, or add newly shipped terms with --sync."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--sync",
            action="store_true",
            help="Add shipped terms this desk does not have yet; never change existing ones.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["sync"]:
            try:
                added = shipped_terms_sync()
            except ValueError as exc:
                raise CommandFailed(str(exc)) from None
            if added:
                self.stdout.write(f"Added {len(added)} new shipped terms: {', '.join(added)}.")
            else:
                self.stdout.write("Every shipped term is already here. Nothing was changed.")
        terms = Term.objects.all()
        self.stdout.write(
            f"{terms.filter(enabled=True).count()} of {terms.count()} terms are switched on "
            f"({terms.filter(source=TermSource.LOCAL).count()} added here)."
        )
