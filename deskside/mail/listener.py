"""The SMTP/LMTP listener: a company mail server forwards the desk's mail here.

It is a small aiosmtpd server that feeds :func:`deskside.mail.intake.inbound_receive`,
built around one promise: **250 is answered only once the message is committed**. Any
failure before that is a 451, a temporary failure, so the sending server keeps the
message and tries again; the intake stores a message it has already got only once, so
a retry after a lost reply is harmless and is answered 250 too.

Input is treated as hostile. Only addresses of an active :class:`Mailbox` are accepted as
recipients, so the listener can never be used to relay mail; messages over
``MAIL_MAX_MESSAGE_MB`` are refused (552) while they arrive, so memory stays bounded;
and no reply echoes more of the client's input than a cleaned-up address.

The event loop never touches the database itself. Every ORM call runs on a few
:class:`DatabaseThreads`, each of which looks after its own Django connections, so one
slow database write never stalls the other connections' protocol traffic.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import socket
import threading
import time
import unicodedata
import weakref
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.db import close_old_connections, connections
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.translation import gettext

from deskside.mail.intake import inbound_receive, max_message_bytes
from deskside.mail.models import InboundSource, Mailbox

__all__ = [
    "DEFAULT_HOST",
    "DatabaseThreads",
    "IntakeHandler",
    "Listener",
    "default_port",
    "mailbox_for",
]

logger = logging.getLogger("deskside.mail.listener")

DEFAULT_HOST = "127.0.0.1"
# Unprivileged stand-ins for 25 (SMTP) and 24 (LMTP), so no root rights are needed.
DEFAULT_SMTP_PORT = 2525
DEFAULT_LMTP_PORT = 2424
# RFC 5321 asks servers to accept at least 100 recipients; more is never a real desk mail.
MAX_RECIPIENTS = 100
# Threads doing database work for the event loop. Writes are short (one insert), so a few
# keep up with any mail server while bounding the database connections held.
DATABASE_THREADS = 4
# On SIGTERM, messages being stored get this long to be answered before connections close.
SHUTDOWN_SECONDS = 20
# An idle or stalled client is dropped after this long (RFC 5321 suggests 5 minutes).
IDLE_TIMEOUT_SECONDS = 300
# RFC 5321 limits lines to 1000 characters, but real-world mail (generated HTML, long
# headers from broken software) sometimes breaks that; refusing it would bounce someone's
# mail for a technicality. Longer lines are accepted, still with a bound on memory.
LINE_LENGTH_LIMIT = 64 * 1024
# Each RCPT asks which mailbox an address belongs to, and under a burst the same few
# addresses come hundreds of times a second. A listener keeps each answer this long: a
# mailbox added, switched off or removed in another process is honoured within this many
# seconds (at once when the change is made in the listener's own process).
MAILBOX_CACHE_SECONDS = 5.0
# Bounded, so a flood of made-up recipients cannot grow it without end.
MAILBOX_CACHE_SIZE = 1000

T = TypeVar("T")


def default_port(*, lmtp: bool) -> int:
    return DEFAULT_LMTP_PORT if lmtp else DEFAULT_SMTP_PORT


def _ascii(text: str) -> str:
    """Fold a (possibly translated) reply text to the ASCII that SMTP replies must be."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(folded.split())


def _shown_address(address: str) -> str:
    # Only printable ASCII of a bounded length goes back on the wire or into the log.
    cleaned = "".join(ch for ch in address if 32 < ord(ch) < 127 and ch not in "<>")
    return cleaned[:254]


def too_large_reply() -> str:
    megabytes = max_message_bytes() // 1024 // 1024
    text = gettext(
        "Message too large: the limit is %(limit)d MB. Send large files as a link instead."
    ) % {"limit": megabytes}
    return f"552 5.3.4 {_ascii(text)}"


def mailbox_for(address: str) -> Mailbox | None:
    """The active mailbox receiving mail at ``address`` (any case), if there is one."""
    # Addresses are stored lower-case, so this is one lookup on the unique index.
    return Mailbox.objects.filter(address=address.strip().lower(), is_active=True).first()


# --- Database work off the event loop ---------------------------------------------------


class DatabaseThreads(concurrent.futures.Executor):
    """A fixed set of threads for ORM calls, for ``loop.run_in_executor``.

    Unlike ``ThreadPoolExecutor`` each thread closes its own database connections when it
    stops, so a stopped listener leaves no connection open (PostgreSQL would otherwise
    refuse to drop or rename the database while they linger). Between jobs, connections
    are recycled the way Django does between requests, honouring ``CONN_MAX_AGE`` and
    ``CONN_HEALTH_CHECKS``, so a database restart is survived.
    """

    _STOP = object()

    def __init__(self, count: int = DATABASE_THREADS, *, name: str = "mail-db") -> None:
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._closed = False
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{n}", daemon=True)
            for n in range(count)
        ]
        for thread in self._threads:
            thread.start()

    def submit(
        self, fn: Callable[..., T], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("The database threads have been stopped.")
            self._jobs.put((future, partial(fn, *args, **kwargs)))
        return future

    def _work(self) -> None:
        try:
            while (item := self._jobs.get()) is not self._STOP:
                future, job = item
                if not future.set_running_or_notify_cancel():
                    continue
                close_old_connections()
                try:
                    result = job()
                except BaseException as exc:  # handed to the waiting coroutine
                    future.set_exception(exc)
                else:
                    future.set_result(result)
                finally:
                    close_old_connections()
        finally:
            connections.close_all()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            while cancel_futures:
                try:
                    item = self._jobs.get_nowait()
                except queue.Empty:
                    break
                item[0].cancel()
            for _ in self._threads:
                # Queued after any waiting jobs, so those still run (and commit) first.
                self._jobs.put(self._STOP)
        if wait:
            for thread in self._threads:
                thread.join(SHUTDOWN_SECONDS)


# --- The protocol -----------------------------------------------------------------------


class IntakeEnvelope(Envelope):
    """An envelope that also remembers the mailbox its first accepted recipient named."""

    def __init__(self) -> None:
        super().__init__()
        self.mailbox: Mailbox | None = None


class _IntakeProtocol(SMTP):
    """aiosmtpd's SMTP with plain-words size replies and LMTP-correct error counts."""

    line_length_limit = LINE_LENGTH_LIMIT
    speaks_lmtp = False

    def __init__(self, handler: Any, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        # Recipients of the message being received, from "354" until its final reply.
        self._receiving_for: int | None = None

    def _create_envelope(self) -> IntakeEnvelope:
        return IntakeEnvelope()

    async def push(self, status: str | bytes) -> None:
        text = status.decode("ascii", "replace") if isinstance(status, bytes) else status
        if text.startswith("354"):
            assert self.envelope is not None
            self._receiving_for = len(self.envelope.rcpt_tos)
        elif text.startswith("552"):
            # aiosmtpd's own wording ("Too much mail data") means nothing to the person
            # who reads it in a bounce; 552 is only ever about size here.
            text = too_large_reply()
        if self._receiving_for is not None and not text.startswith("354"):
            count, self._receiving_for = self._receiving_for, None
            # LMTP answers the end of DATA once per accepted recipient (RFC 2033 4.2). The
            # intake handler does so itself; aiosmtpd's own refusals (size, line length)
            # come as one line and are repeated here, or the client would wait forever.
            if self.speaks_lmtp and "\r\n" not in text and count > 1:
                text = "\r\n".join([text] * count)
        await super().push(text)


class IntakeSMTP(_IntakeProtocol):
    """The listener's SMTP protocol."""


class IntakeLMTP(_IntakeProtocol, LMTP):
    """The listener's LMTP protocol (LHLO instead of EHLO, one reply per recipient)."""

    speaks_lmtp = True


# Every live handler, so an edit to a mailbox in this process is seen at once.
_handlers: weakref.WeakSet[IntakeHandler] = weakref.WeakSet()


@receiver(post_save, sender=Mailbox)
@receiver(post_delete, sender=Mailbox)
def _mailbox_changed(**kwargs: Any) -> None:
    for handler in list(_handlers):
        handler.forget_mailboxes()


class IntakeHandler:
    """aiosmtpd's handler: check recipients, hand each message to the intake."""

    def __init__(
        self, *, lmtp: bool, threads: concurrent.futures.Executor, loop: asyncio.AbstractEventLoop
    ) -> None:
        self.lmtp = lmtp
        self.source = InboundSource.LMTP if lmtp else InboundSource.SMTP
        self.threads = threads
        self.loop = loop
        self.storing = 0
        self.idle = asyncio.Event()
        self.idle.set()
        self._mailboxes: dict[str, tuple[float, Mailbox | None]] = {}
        _handlers.add(self)

    async def _in_thread(self, job: Callable[[], T]) -> T:
        return await self.loop.run_in_executor(self.threads, job)

    async def _mailbox(self, address: str) -> Mailbox | None:
        """:func:`mailbox_for`, remembered for :data:`MAILBOX_CACHE_SECONDS`."""
        key = address.strip().lower()
        now = time.monotonic()
        known = self._mailboxes.get(key)
        if known is not None and now - known[0] < MAILBOX_CACHE_SECONDS:
            return known[1]
        mailbox = await self._in_thread(partial(mailbox_for, key))
        if len(self._mailboxes) >= MAILBOX_CACHE_SIZE:
            self._mailboxes.clear()
        self._mailboxes[key] = (now, mailbox)
        return mailbox

    def forget_mailboxes(self) -> None:
        self._mailboxes.clear()

    async def handle_exception(self, error: Exception) -> str:
        # aiosmtpd would answer a permanent "500" naming the exception: the mail would
        # bounce, and the client would learn about our internals. Ask for a retry instead.
        logger.error("Unexpected error in the mail listener", exc_info=error)
        return "451 4.3.0 Temporary problem; please try again later"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        shown = _shown_address(address)
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        try:
            mailbox = await self._mailbox(address)
        except Exception:
            logger.exception("Could not check recipient <%s> from %s", shown, session.peer)
            return "451 4.3.0 Cannot check this address right now; please try again later"
        if mailbox is None:
            # Anything not ours is refused here, so nothing can ever be relayed.
            logger.info("Refused mail from %s for unknown <%s>", session.peer, shown)
            text = _ascii(gettext("no such mailbox here"))
            return f"550 5.1.1 <{shown}>: {text}"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        if isinstance(envelope, IntakeEnvelope) and envelope.mailbox is None:
            envelope.mailbox = mailbox
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content
        if raw is None:
            content = envelope.content or b""
            raw = content if isinstance(content, bytes) else content.encode("utf-8")
        # aiosmtpd spells the null sender of a bounce "<>"; the intake expects "".
        sender = envelope.mail_from or ""
        if sender == "<>":
            sender = ""
        mailbox = envelope.mailbox if isinstance(envelope, IntakeEnvelope) else None
        recipients = list(envelope.rcpt_tos)
        self.storing += 1
        self.idle.clear()
        try:
            result = await self._in_thread(
                partial(
                    inbound_receive,
                    raw=raw,
                    source=self.source,
                    mailbox=mailbox,
                    envelope_sender=sender,
                    envelope_recipients=recipients,
                )
            )
        except Exception:
            # Whatever went wrong, the sender keeps the message and retries: nothing is
            # lost, and a copy that was in fact committed is recognised on the retry.
            logger.exception(
                "Could not store a %s-byte message from %s; asked the sender to retry",
                len(raw),
                session.peer,
            )
            status = "451 4.3.0 The message could not be stored; please try again later"
        else:
            if result.duplicate:
                logger.info(
                    "Message %s from %s was already stored", result.inbound.pk, session.peer
                )
                status = f"250 2.0.0 Already received as message {result.inbound.pk}"
            else:
                logger.info("Stored message %s from %s", result.inbound.pk, session.peer)
                status = f"250 2.0.0 Stored as message {result.inbound.pk}"
        finally:
            self.storing -= 1
            if not self.storing:
                self.idle.set()
        if self.lmtp:
            # One reply per accepted recipient; the message itself was stored once.
            return "\r\n".join([status] * len(recipients))
        return status


# --- The server -------------------------------------------------------------------------


class Listener:
    """One SMTP or LMTP server on ``host:port``, run by the current event loop."""

    def __init__(
        self,
        *,
        host: str = DEFAULT_HOST,
        port: int,
        lmtp: bool,
        threads: concurrent.futures.Executor | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.lmtp = lmtp
        self._own_threads = threads is None
        self.threads: concurrent.futures.Executor = threads or DatabaseThreads()
        self._server: asyncio.Server | None = None
        self._hostname = socket.gethostname()
        self._handler: IntakeHandler | None = None
        self._protocols: weakref.WeakSet[SMTP] = weakref.WeakSet()

    @property
    def protocol_name(self) -> str:
        return "LMTP" if self.lmtp else "SMTP"

    def _protocol(self) -> SMTP:
        assert self._handler is not None
        # Read per connection, so a changed limit applies without a restart of the loop.
        options: dict[str, Any] = {
            "data_size_limit": max_message_bytes(),
            "hostname": self._hostname,
            # The default names the library and its version; nothing to advertise.
            "ident": "Deskside",
            "timeout": IDLE_TIMEOUT_SECONDS,
            "loop": self._handler.loop,
        }
        protocol_class = IntakeLMTP if self.lmtp else IntakeSMTP
        protocol = protocol_class(self._handler, **options)
        self._protocols.add(protocol)
        return protocol

    async def start(self) -> None:
        """Bind and start accepting connections; raises ``OSError`` if the port is taken."""
        loop = asyncio.get_running_loop()
        self._handler = IntakeHandler(lmtp=self.lmtp, threads=self.threads, loop=loop)
        self._server = await loop.create_server(
            self._protocol, host=self.host, port=self.port, reuse_address=True
        )
        if self.port == 0:  # let the system choose, as tests do
            self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self, *, grace: float = SHUTDOWN_SECONDS) -> None:
        """Stop accepting, let messages being stored get their reply, then close."""
        if self._server is not None:
            self._server.close()
        if self._handler is not None and not self._handler.idle.is_set():
            logger.info("Waiting for messages being stored to be answered.")
            try:
                await asyncio.wait_for(self._handler.idle.wait(), grace)
            except TimeoutError:
                logger.warning("Gave up waiting; their senders will retry them.")
        for protocol in list(self._protocols):
            if protocol.transport is not None:
                protocol.transport.close()
        if self._server is not None:
            await self._server.wait_closed()
        if self._own_threads:
            # Joining blocks, so not on the loop; it lets queued stores finish first.
            await asyncio.to_thread(self.threads.shutdown)
