"""IMAP polling: collect the mail waiting in a mailbox's IMAP folder into the desk.

The order of steps is what makes this safe:

1. Messages are fetched with ``BODY.PEEK[]`` (their flags stay untouched), up to
   :data:`FETCH_CHUNK` in one command.
2. Each one's exact bytes go to :func:`~deskside.mail.intake.inbound_receive`, which has
   committed them to the database when it returns.
3. Only then are the stored messages of the chunk moved to the mailbox's "done" folder,
   or deleted, in one command.

A crash, a lost connection or a killed process anywhere in between leaves the message
on the server. The next poll fetches it again, the intake recognises it (same
Message-ID, or the same bytes) as already stored, and it is cleared from the folder
then. So nothing is lost and nothing is imported twice. A message the pipeline later
quarantines is still stored, so it is cleared from the server like any other.

Each poll handles at most a batch of messages (oldest first) and leaves the rest for
the next one, so a backlog never turns into one endless job. Problems an administrator
can fix (a wrong password, an unreachable server, a missing folder) are recorded on the
mailbox in plain words, and cleared by the next successful poll. One broken mailbox
never stops the others from being polled.
"""

from __future__ import annotations

import base64
import imaplib
import logging
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from django.utils.translation import gettext as _

from deskside.mail.intake import BATCH_SIZE, inbound_process_many, inbound_receive
from deskside.mail.models import AfterImport, ImapSecurity, InboundSource, InboundState, Mailbox

logger = logging.getLogger(__name__)

__all__ = [
    "PollError",
    "PollResult",
    "mailbox_poll",
    "mailbox_poll_locked",
    "mailboxes_poll",
    "mailboxes_to_poll",
]


@dataclass
class PollResult:
    """What one poll of one mailbox did. ``error`` is empty when the poll succeeded."""

    address: str
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    moved: int = 0
    deleted: int = 0
    errors: int = 0
    # Messages left in the folder for the next poll because the batch was full.
    remaining: int = 0
    error: str = ""
    # Another process was polling this mailbox, so this poll did nothing.
    skipped: bool = False
    # Stored by this poll and still to be turned into tickets (done right after the poll).
    to_process: list[int] = field(default_factory=list, compare=False)

    @property
    def ok(self) -> bool:
        return not self.error


class PollError(Exception):
    """A poll failed; the message says why in words an administrator can act on."""


def _reason(value: object) -> str:
    """The server's or the system's own words, readable and without IMAP codes."""
    if isinstance(value, BaseException):
        single = len(value.args) == 1
        value = value.args[0] if single else (getattr(value, "strerror", None) or value)
    if isinstance(value, list):
        value = next((item for item in value if item), b"")
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = " ".join(str(value).split())
    # "[AUTHENTICATIONFAILED] Authentication failed." reads better without the code.
    if text.startswith("[") and "]" in text:
        text = text.split("]", 1)[1].strip() or text
    return text or _("no reason given")


def _imap_utf7(name: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501 5.1.3), as servers expect."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            encoded = base64.b64encode("".join(pending).encode("utf-16-be")).decode("ascii")
            out.append("&" + encoded.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def _quoted(name: str) -> str:
    # imaplib sends arguments as given; a folder name with a space must be quoted.
    encoded = _imap_utf7(name).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{encoded}"'


def _password(mailbox: Mailbox) -> str:
    try:
        password = mailbox.read_imap_password()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise PollError(
            _(
                "Could not read the IMAP password file %(path)s: %(reason)s. Check that the "
                "file exists and that the Deskside service may read it."
            )
            % {"path": mailbox.imap_password_file or _("(none given)"), "reason": reason}
        ) from exc
    if not password:
        raise PollError(
            _("The IMAP password file %(path)s is empty. Put the mailbox's password in it.")
            % {"path": mailbox.imap_password_file}
        )
    return password


def _connect(mailbox: Mailbox, timeout: int) -> imaplib.IMAP4:
    host, port = mailbox.imap_host, mailbox.effective_imap_port
    where = f"{host}:{port}"
    context = ssl.create_default_context()
    conn: imaplib.IMAP4 | None = None
    try:
        if mailbox.imap_security == ImapSecurity.TLS:
            conn = imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=timeout)
        else:
            conn = imaplib.IMAP4(host, port, timeout=timeout)
            if mailbox.imap_security == ImapSecurity.STARTTLS:
                if "STARTTLS" not in conn.capabilities:
                    raise PollError(
                        _(
                            "%(where)s does not offer STARTTLS. Choose TLS (usually port 993) "
                            "in the mailbox's IMAP security setting, or None only if the "
                            "server is on this machine."
                        )
                        % {"where": where}
                    )
                conn.starttls(ssl_context=context)
        return conn
    except PollError:
        _close(conn)
        raise
    except ssl.SSLCertVerificationError as exc:
        _close(conn)
        raise PollError(
            _(
                "The certificate of %(host)s could not be trusted (%(reason)s). Check the "
                "server name, or ask the mail server's administrator to fix its certificate."
            )
            % {"host": host, "reason": exc.verify_message or _reason(exc)}
        ) from exc
    except ssl.SSLError as exc:
        _close(conn)
        raise PollError(
            _(
                "Could not set up a secure (TLS) connection to %(where)s: %(reason)s. Check "
                "the IMAP security setting and the port."
            )
            % {"where": where, "reason": exc.reason or _reason(exc)}
        ) from exc
    except ConnectionRefusedError as exc:
        _close(conn)
        raise PollError(
            _(
                "%(where)s refused the connection. Check the server name and the port, and "
                "that the mail server is running."
            )
            % {"where": where}
        ) from exc
    except socket.gaierror as exc:
        _close(conn)
        raise PollError(
            _("The server name %(host)s could not be found (%(reason)s). Check its spelling.")
            % {"host": host, "reason": _reason(exc)}
        ) from exc
    except TimeoutError as exc:
        _close(conn)
        raise PollError(
            _("%(where)s did not answer within %(seconds)d seconds. Check the server and port.")
            % {"where": where, "seconds": timeout}
        ) from exc
    except OSError as exc:
        _close(conn)
        raise PollError(
            _("Could not connect to %(where)s: %(reason)s.")
            % {"where": where, "reason": _reason(exc)}
        ) from exc
    except imaplib.IMAP4.error as exc:
        _close(conn)
        raise PollError(
            _("%(where)s did not answer like an IMAP server: %(reason)s.")
            % {"where": where, "reason": _reason(exc)}
        ) from exc


def _close(conn: imaplib.IMAP4 | None) -> None:
    """Say goodbye if the connection still works; never raise while cleaning up."""
    if conn is None:
        return
    try:
        # LOGOUT, not CLOSE: CLOSE would also expunge messages someone else flagged.
        conn.logout()
    except (imaplib.IMAP4.error, OSError):
        with suppress(OSError):
            conn.shutdown()


def _login(conn: imaplib.IMAP4, mailbox: Mailbox, password: str) -> None:
    try:
        conn.login(mailbox.imap_username, password)
    except imaplib.IMAP4.abort:
        raise
    except UnicodeEncodeError as exc:
        raise PollError(
            _(
                "Could not sign in to %(host)s as %(user)s: the username or password contains "
                "letters outside plain ASCII, which IMAP sign-in cannot carry here."
            )
            % {"host": mailbox.imap_host, "user": mailbox.imap_username}
        ) from exc
    except imaplib.IMAP4.error as exc:
        raise PollError(
            _(
                "Could not sign in to %(host)s as %(user)s: the server said “%(reason)s”. "
                "Check the username and the password file."
            )
            % {"host": mailbox.imap_host, "user": mailbox.imap_username, "reason": _reason(exc)}
        ) from exc


def _capabilities(conn: imaplib.IMAP4) -> frozenset[str]:
    # Servers announce more (MOVE, UIDPLUS) once signed in than in their greeting, and
    # imaplib only remembers the greeting's list: ask again.
    typ, data = conn.capability()
    if typ != "OK":
        return frozenset(conn.capabilities)
    words = b" ".join(item for item in data if isinstance(item, bytes)).decode("ascii", "replace")
    return frozenset(word.upper() for word in words.split())


def _select(conn: imaplib.IMAP4, mailbox: Mailbox) -> None:
    typ, data = conn.select(_quoted(mailbox.imap_folder))
    if typ != "OK":
        raise PollError(
            _(
                "The folder “%(folder)s” could not be opened on %(host)s: the server said "
                "“%(reason)s”. Check the folder name (most servers call the inbox INBOX)."
            )
            % {"folder": mailbox.imap_folder, "host": mailbox.imap_host, "reason": _reason(data)}
        )


def _expect(typ: str, data: object, doing: str) -> None:
    if typ != "OK":
        raise PollError(
            _("The IMAP server refused %(doing)s: “%(reason)s”.")
            % {"doing": doing, "reason": _reason(data)}
        )


def _waiting_uids(conn: imaplib.IMAP4) -> list[str]:
    # UNDELETED: a message flagged for deletion is on its way out (ours, already stored,
    # or someone else's decision) and is not collected.
    typ, data = conn.uid("SEARCH", "UNDELETED")
    _expect(typ, data, _("to list the messages"))
    return sorted((data[0] or b"").decode("ascii").split(), key=int)


# Messages fetched, and then moved or deleted, with one command each: one round trip to
# the server per chunk instead of two per message.
FETCH_CHUNK = 25
_FETCHED_UID = re.compile(rb"\bUID (\d+)")


def _fetch(conn: imaplib.IMAP4, uids: list[str]) -> dict[str, bytes]:
    """The raw bytes of each of ``uids`` still on the server, by UID."""
    typ, data = conn.uid("FETCH", ",".join(uids), "(BODY.PEEK[])")
    _expect(typ, data, _("to send a message"))
    found: dict[str, bytes] = {}
    for part in data:
        # Each message arrives as (b"7 (UID 42 BODY[] {1234}", b"<bytes>"); a message
        # removed by someone else since the search is simply missing.
        if isinstance(part, tuple) and len(part) == 2:
            uid = _FETCHED_UID.search(part[0])
            if uid is not None:
                found[uid.group(1).decode("ascii")] = bytes(part[1])
    return found


def _ensure_folder(conn: imaplib.IMAP4, folder: str) -> None:
    quoted = _quoted(folder)
    typ, data = conn.list('""', quoted)
    if typ == "OK" and any(data):
        return
    typ, data = conn.create(quoted)
    if typ != "OK" and "ALREADYEXISTS" not in _reason_raw(data):
        raise PollError(
            _(
                "The folder “%(folder)s” for imported mail does not exist and could not be "
                "created: the server said “%(reason)s”. Create it, or choose another folder. "
                "The messages are saved; they stay in the inbox until then."
            )
            % {"folder": folder, "reason": _reason(data)}
        )
    # Subscribed, so people looking at the mailbox in a mail program see the folder.
    conn.subscribe(quoted)


def _reason_raw(data: object) -> str:
    if isinstance(data, list):
        return " ".join(
            item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)
            for item in data
        )
    return str(data)


def _expunge(conn: imaplib.IMAP4, uid: str, capabilities: frozenset[str]) -> None:
    if "UIDPLUS" in capabilities:
        typ, data = conn.uid("EXPUNGE", uid)
    else:
        # Without UIDPLUS the only way out is a plain EXPUNGE, which also removes any other
        # message someone flagged \Deleted in this folder: that was their intent anyway.
        typ, data = conn.expunge()
    _expect(typ, data, _("to remove a message"))


def _delete(conn: imaplib.IMAP4, uid: str, capabilities: frozenset[str]) -> None:
    typ, data = conn.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)")
    _expect(typ, data, _("to delete a message"))
    _expunge(conn, uid, capabilities)


def _move(conn: imaplib.IMAP4, uid: str, folder: str, capabilities: frozenset[str]) -> None:
    quoted = _quoted(folder)
    if "MOVE" in capabilities:
        typ, data = conn.uid("MOVE", uid, quoted)
        _expect(typ, data, _("to move a message to “%(folder)s”") % {"folder": folder})
        return
    typ, data = conn.uid("COPY", uid, quoted)
    _expect(typ, data, _("to copy a message to “%(folder)s”") % {"folder": folder})
    _delete(conn, uid, capabilities)


def _collect(
    conn: imaplib.IMAP4,
    mailbox: Mailbox,
    limit: int,
    result: PollResult,
    heartbeat: Callable[[], None],
) -> None:
    capabilities = _capabilities(conn)
    _select(conn, mailbox)
    uids = _waiting_uids(conn)
    result.remaining = max(0, len(uids) - limit)
    folder_ready = False
    waiting = uids[:limit]
    for start in range(0, len(waiting), FETCH_CHUNK):
        chunk = waiting[start : start + FETCH_CHUNK]
        fetched = _fetch(conn, chunk)
        stored_uids: list[str] = []
        try:
            for uid in chunk:
                raw = fetched.get(uid)
                if raw is None:
                    continue
                result.fetched += 1
                _store(raw, mailbox, result)
                stored_uids.append(uid)
        finally:
            # The bytes of these are committed: only now may the server's copies go, and
            # they go even when a later message of the chunk could not be saved.
            if stored_uids:
                try:
                    if mailbox.after_import == AfterImport.DELETE:
                        _delete(conn, ",".join(stored_uids), capabilities)
                        result.deleted += len(stored_uids)
                    else:
                        if not folder_ready:
                            _ensure_folder(conn, mailbox.move_to_folder)
                            folder_ready = True
                        _move(conn, ",".join(stored_uids), mailbox.move_to_folder, capabilities)
                        result.moved += len(stored_uids)
                except PollError:
                    result.errors += 1
                    raise
        heartbeat()


def _store(raw: bytes, mailbox: Mailbox, result: PollResult) -> None:
    try:
        stored = inbound_receive(
            raw=raw, source=InboundSource.IMAP, mailbox=mailbox, queue_processing=False
        )
    except DatabaseError as exc:
        # Left on the server: the next poll tries again. Later messages would fail the
        # same way, so stop here.
        result.errors += 1
        raise PollError(
            _(
                "A message could not be saved (the database said “%(reason)s”). It was "
                "left on the mail server and will be collected at the next check."
            )
            % {"reason": _reason(exc)}
        ) from exc
    if stored.created:
        result.stored += 1
    else:
        result.duplicates += 1
    # A copy stored before a crash may never have been processed; it is done now
    # (processing twice is harmless: only a message still "received" is worked on).
    if stored.inbound.state == InboundState.RECEIVED:
        result.to_process.append(stored.inbound.pk)


def _check_settings(mailbox: Mailbox) -> None:
    if not mailbox.imap_host:
        raise PollError(_("No IMAP server is set for this mailbox."))
    if not mailbox.imap_username or not mailbox.imap_password_file:
        raise PollError(
            _("Enter the IMAP username and the full path of the file that holds the password.")
        )
    if (
        mailbox.after_import == AfterImport.MOVE
        and mailbox.move_to_folder.strip().lower() == mailbox.imap_folder.strip().lower()
    ):
        # Every poll would find the same messages again, forever.
        raise PollError(
            _(
                "Imported mail is moved to “%(folder)s”, the folder being read. Choose "
                "another folder to move it to."
            )
            % {"folder": mailbox.move_to_folder}
        )
    if mailbox.after_import == AfterImport.MOVE and not mailbox.move_to_folder.strip():
        raise PollError(_("Enter the folder to move imported mail to."))


def _record_health(mailbox: Mailbox, result: PollResult) -> None:
    now = timezone.now()
    # update(), not save(): an administrator may be editing the mailbox at this moment,
    # and a poll must not write back their old settings.
    fields: dict[str, object]
    if result.ok:
        fields = {"last_polled_at": now, "last_error": ""}
    else:
        fields = {"last_error": result.error, "last_error_at": now}
    try:
        Mailbox.objects.filter(pk=mailbox.pk).update(**fields)
    except DatabaseError:
        logger.warning("Could not record the health of mailbox %s", mailbox.address, exc_info=True)
        return
    for name, value in fields.items():
        setattr(mailbox, name, value)


def _process_collected(result: PollResult, heartbeat: Callable[[], None]) -> None:
    """Turn what the poll stored into tickets, here rather than as one job per message.

    On SQLite every job is a round trip through the queue file that the web and the
    listener share too; processing in the poller's own process keeps the writes in one
    place and works off a backlog several times faster. A message left unprocessed (the
    database went away, the worker was stopped) stays ``received`` and is picked up by
    the periodic sweep, so nothing depends on this finishing.
    """
    for start in range(0, len(result.to_process), BATCH_SIZE):
        batch = result.to_process[start : start + BATCH_SIZE]
        try:
            inbound_process_many(batch)
        except DatabaseError:
            logger.warning(
                "Stored messages %s could not be processed now; the sweep will retry them",
                batch,
                exc_info=True,
            )
            return
        heartbeat()


def mailbox_poll(
    mailbox: Mailbox,
    *,
    batch: int | None = None,
    heartbeat: Callable[[], None] | None = None,
) -> PollResult:
    """Collect up to ``batch`` waiting messages from ``mailbox``'s IMAP folder.

    Never raises for a problem with the mailbox or its server: the result (and the
    mailbox's ``last_error``) says what went wrong. ``heartbeat`` is called after each
    chunk of messages is cleared from the server, so a lock holder can show it is alive.
    """
    limit = max(1, batch if batch is not None else settings.MAIL_IMAP_BATCH)
    timeout: int = settings.MAIL_IMAP_TIMEOUT
    result = PollResult(address=mailbox.address)
    conn: imaplib.IMAP4 | None = None
    try:
        _check_settings(mailbox)
        password = _password(mailbox)
        conn = _connect(mailbox, timeout)
        _login(conn, mailbox, password)
        _collect(conn, mailbox, limit, result, heartbeat or (lambda: None))
    except PollError as exc:
        result.error = str(exc)
    except (imaplib.IMAP4.error, OSError) as exc:
        # Includes imaplib's "abort" (the server hung up) and socket timeouts mid-way.
        result.errors += 1
        result.error = _(
            "The connection to %(where)s failed during the check: %(reason)s. Messages "
            "already saved are safe; the rest are collected at the next check."
        ) % {
            "where": f"{mailbox.imap_host}:{mailbox.effective_imap_port}",
            "reason": _reason(exc),
        }
    except Exception as exc:
        # A bug, or the database gone: recorded like any other failure, so one mailbox
        # never breaks the polling of the others.
        logger.exception("Polling mailbox %s failed unexpectedly", mailbox.address)
        result.errors += 1
        result.error = _("Checking this mailbox failed unexpectedly: %(reason)s.") % {
            "reason": _reason(exc)
        }
    finally:
        _close(conn)
    _process_collected(result, heartbeat or (lambda: None))
    if result.error:
        logger.warning("Mailbox %s: %s", mailbox.address, result.error)
    elif result.fetched:
        logger.info(
            "Mailbox %s: %d collected (%d new, %d already stored), %d left for later",
            mailbox.address,
            result.fetched,
            result.stored,
            result.duplicates,
            result.remaining,
        )
    _record_health(mailbox, result)
    return result


# A lock whose holder has shown no sign of life for this long is taken over: the process
# holding it was killed (a lock in the SQLite job queue outlives its process). A live poll
# refreshes its heartbeat after every message, and each IMAP step is bounded by the
# timeout, so a live poll is never this quiet.
def _stale_after_seconds() -> int:
    timeout: int = settings.MAIL_IMAP_TIMEOUT
    return max(600, 10 * timeout)


def _lock_name(mailbox: Mailbox) -> str:
    return f"deskside-mail-poll-{mailbox.pk}"


@contextmanager
def _mailbox_lock(mailbox: Mailbox, *, force: bool) -> Iterator[Callable[[], None] | None]:
    """Hold the mailbox's poll lock; yields a heartbeat, or None if someone else holds it."""
    from huey.contrib.djhuey import HUEY
    from huey.exceptions import TaskLockedException

    lock = HUEY.lock_task(_lock_name(mailbox))
    stamp_key = f"{_lock_name(mailbox)}.heartbeat"

    def heartbeat() -> None:
        HUEY.put(stamp_key, time.time())

    try:
        lock.acquire()
    except TaskLockedException:
        # Measured from the first time anyone found it locked, when the holder has not
        # written a heartbeat yet.
        HUEY.put_if_empty(stamp_key, time.time())
        last_seen = HUEY.get(stamp_key, peek=True)
        quiet = time.time() - float(last_seen or 0)
        if not force and quiet < _stale_after_seconds():
            yield None
            return
        logger.warning(
            "Mailbox %s: taking over a poll lock whose holder has been silent for %d seconds",
            mailbox.address,
            quiet,
        )
    heartbeat()
    try:
        yield heartbeat
    finally:
        HUEY.delete(stamp_key)
        lock.release()


def mailbox_poll_locked(
    mailbox: Mailbox, *, batch: int | None = None, force: bool = False
) -> PollResult:
    """:func:`mailbox_poll`, unless another process is polling the same mailbox right now.

    Two pollers on one mailbox would be safe (duplicates are recognised) but would fetch
    every message twice; the lock lives in the job queue, so it holds across every worker
    on every machine. ``force`` polls even when the lock is held (an operator who knows
    the holder is gone).
    """
    with _mailbox_lock(mailbox, force=force) as heartbeat:
        if heartbeat is None:
            logger.info("Mailbox %s is being checked by another process; skipped", mailbox.address)
            return PollResult(address=mailbox.address, skipped=True)
        return mailbox_poll(mailbox, batch=batch, heartbeat=heartbeat)


def mailboxes_to_poll() -> list[Mailbox]:
    """Every active mailbox that collects its mail over IMAP."""
    return list(Mailbox.objects.filter(is_active=True).exclude(imap_host=""))


def mailboxes_poll(*, batch: int | None = None) -> list[PollResult]:
    """Poll every active IMAP mailbox in turn; one failing never stops the others."""
    results = []
    for mailbox in mailboxes_to_poll():
        try:
            results.append(mailbox_poll_locked(mailbox, batch=batch))
        except Exception as exc:
            # A bug, or the database gone: logged, and the next mailbox still gets its turn.
            logger.exception("Polling mailbox %s failed unexpectedly", mailbox.address)
            results.append(PollResult(address=mailbox.address, error=_reason(exc)))
    return results
