"""``deskside smtpd``: receive the desk's mail from the company mail server (SMTP or LMTP).

The mail server (Postfix, Exim, Exchange...) forwards the desk's addresses here, and
every message it gets a 250 for is already stored; see :mod:`deskside.mail.listener`.
Turning stored mail into tickets is background work, done by 'deskside serve' or
'deskside worker'.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from deskside.cli import CommandFailed
from deskside.mail.listener import Listener, default_port
from deskside.system.management.commands.serve import _port, check_port_free
from deskside.system.services import database_updates_pending

logger = logging.getLogger("deskside.smtpd")


def _is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may well resolve to a public address


class Command(BaseCommand):
    help = (
        "Receive the desk's mail: an SMTP (or, with --lmtp, LMTP) server that your mail "
        "server forwards the desk's addresses to. Only mail for active mailboxes is "
        "accepted, and a message is acknowledged only once it is safely stored. Stop it "
        "with Ctrl-C or SIGTERM."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host",
            default=None,
            help=(
                "The network address to listen on (default: DESKSIDE_MAIL_LISTEN_HOST, "
                "normally 127.0.0.1, this machine only). Use 0.0.0.0 only when the mail "
                "server is another machine, and let only that machine reach the port."
            ),
        )
        parser.add_argument(
            "--port",
            type=_port,
            default=None,
            help=(
                "The port to listen on (default: DESKSIDE_MAIL_LISTEN_PORT, normally 2525 "
                "for SMTP and 2424 for LMTP)."
            ),
        )
        protocol = parser.add_mutually_exclusive_group()
        protocol.add_argument(
            "--lmtp",
            dest="protocol",
            action="store_const",
            const="lmtp",
            help="Speak LMTP, as mail servers delivering to a local mailbox store do.",
        )
        protocol.add_argument(
            "--smtp",
            dest="protocol",
            action="store_const",
            const="smtp",
            help="Speak SMTP (the default unless DESKSIDE_MAIL_LISTEN_PROTOCOL is lmtp).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        lmtp = (options["protocol"] or settings.MAIL_LISTEN_PROTOCOL) == "lmtp"
        host: str = (options["host"] or settings.MAIL_LISTEN_HOST).strip()
        port: int = options["port"] or settings.MAIL_LISTEN_PORT or default_port(lmtp=lmtp)
        check_port_free(host, port)

        # Fails now, in one plain line, rather than on every message: an unreachable
        # database raises OperationalError, which the deskside command explains.
        pending = database_updates_pending()
        if pending:
            raise CommandFailed(
                f"The database is missing {pending} updates that this version of Deskside "
                "needs. Run 'deskside migrate' (or start 'deskside serve') first."
            )

        listener = Listener(host=host, port=port, lmtp=lmtp)
        try:
            asyncio.run(self._serve(listener, local=_is_local(host)))
        except OSError as exc:
            # The port was taken between the check above and binding it.
            raise CommandFailed(
                f"Cannot listen on {host} port {port} ({exc.strerror or exc}). "
                "Choose another port with --port."
            ) from None

    async def _serve(self, listener: Listener, *, local: bool) -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        # SIGTERM is how service managers stop a process; Ctrl-C likewise stops gracefully.
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stopping.set)
        await listener.start()
        shown = f"[{listener.host}]" if ":" in listener.host else listener.host
        logger.info(
            "Listening for mail (%s) on %s:%s. Press Ctrl-C to stop.",
            listener.protocol_name,
            shown,
            listener.port,
        )
        if not local:
            logger.warning(
                "Listening on %s, which other machines can reach. This listener has no "
                "login: let only your mail server reach port %s (use a firewall).",
                listener.host or "every network address",
                listener.port,
            )
        await stopping.wait()
        logger.info("Stopping the mail listener.")
        await listener.stop()
        logger.info("Mail listener stopped.")
