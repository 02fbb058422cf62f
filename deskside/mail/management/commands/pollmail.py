"""``deskside pollmail``: collect the mail waiting in IMAP mailboxes now.

The workers already do this every minute; this is for an operator checking a mailbox's
settings, or emptying a backlog at once. Unlike the minute's poll, it keeps going batch
after batch until the folder is empty (or a problem stops it).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from deskside.cli import CommandFailed
from deskside.mail.imap import PollResult, mailbox_poll_locked, mailboxes_to_poll
from deskside.mail.models import Mailbox


class Command(BaseCommand):
    help = (
        "Collect the mail waiting in every active IMAP mailbox now (or one, with "
        "--mailbox). Messages are saved first, then moved or deleted on the server."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--mailbox", metavar="ADDRESS", help="Check only this mailbox.")
        parser.add_argument(
            "--batch",
            type=int,
            default=settings.MAIL_IMAP_BATCH,
            help="Messages per batch (default: %(default)s).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help=(
                "Check even if another process seems to be checking the mailbox (use only "
                "when you know it was stopped, for example after a crash)."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch"] < 1:
            raise CommandFailed(_("--batch must be at least 1."))
        if options["mailbox"]:
            address = options["mailbox"].strip().lower()
            mailbox = Mailbox.objects.filter(address=address).first()
            if mailbox is None:
                raise CommandFailed(_("There is no mailbox %(address)s.") % {"address": address})
            if not mailbox.imap_host:
                raise CommandFailed(
                    _("The mailbox %(address)s has no IMAP server set.") % {"address": address}
                )
            mailboxes = [mailbox]
        else:
            mailboxes = mailboxes_to_poll()
            if not mailboxes:
                self.stdout.write(_("No active mailbox collects mail over IMAP."))
                return

        failed = []
        for mailbox in mailboxes:
            total = self._drain(mailbox, batch=options["batch"], force=options["force"])
            if total.error:
                failed.append(mailbox.address)
        if failed:
            raise CommandFailed(
                _("Could not check every mailbox: %(addresses)s (see above).")
                % {"addresses": ", ".join(failed)}
            )

    def _drain(self, mailbox: Mailbox, *, batch: int, force: bool) -> PollResult:
        total = PollResult(address=mailbox.address)
        while True:
            result = mailbox_poll_locked(mailbox, batch=batch, force=force)
            if result.skipped:
                self.stdout.write(
                    _(
                        "%(address)s: another process is checking this mailbox; skipped. If "
                        "none is running, run again with --force."
                    )
                    % {"address": mailbox.address}
                )
                return result
            for field in ("fetched", "stored", "duplicates", "moved", "deleted", "errors"):
                setattr(total, field, getattr(total, field) + getattr(result, field))
            total.error, total.remaining = result.error, result.remaining
            # A batch that collected nothing would not empty the folder on a second try.
            if result.error or not result.remaining or not result.fetched:
                break
        summary = _(
            "%(address)s: %(fetched)d collected (%(stored)d new, %(duplicates)d already "
            "saved), %(cleared)d cleared from the server, %(remaining)d left."
        ) % {
            "address": mailbox.address,
            "fetched": total.fetched,
            "stored": total.stored,
            "duplicates": total.duplicates,
            "cleared": total.moved + total.deleted,
            "remaining": total.remaining,
        }
        self.stdout.write(summary)
        if total.error:
            self.stderr.write(f"{mailbox.address}: {total.error}")
        return total
