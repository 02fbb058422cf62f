"""The one intake pipeline every channel (IMAP, LMTP, SMTP, upload) hands raw mail to.

Two steps, deliberately separate:

1. :func:`inbound_store` commits the exact bytes before anything is parsed. Only after it
   returns may a listener answer 250 or an IMAP poller move/delete the message. A message
   seen before (same Message-ID, or the same bytes when it has no Message-ID) is not
   stored again.
2. :func:`inbound_process` parses and applies the stored message in a transaction. Any
   failure quarantines that one message, with its raw bytes intact, so the mail behind
   it keeps flowing; an administrator can fix the cause and call
   :func:`inbound_reprocess`.

Messages over ``MAIL_MAX_MESSAGE_MB`` are still stored, whole, as ``rejected``: nothing
is lost, the IMAP poller can move them out of the inbox like any other, and an
administrator can see and download them. The SMTP/LMTP listener is expected to refuse
oversized mail during the protocol (552) so unbounded data never reaches this point.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from deskside.accounts import permissions
from deskside.accounts.models import User
from deskside.mail.apply import Release, apply_to_desk, prefetch
from deskside.mail.headers import clean_text, extract_message_id
from deskside.mail.models import InboundMessage, InboundSource, InboundState, Mailbox
from deskside.mail.parsing import ParsedMail, parse_message
from deskside.system.memo import memo_clear, memo_scope

logger = logging.getLogger(__name__)

# A message that has been started this many times without finishing is assumed to crash
# the worker (or hang it until it is killed) and is quarantined instead of tried again.
MAX_ATTEMPTS = 3
# What processing a message writes on its row.
OUTCOME_FIELDS = ["state", "error", "processed_at", "ticket", "ticket_message"]


@dataclass(frozen=True)
class StoreResult:
    """What :func:`inbound_store` did: the stored row, and whether it was new."""

    inbound: InboundMessage
    created: bool

    @property
    def duplicate(self) -> bool:
        return not self.created


def max_message_bytes() -> int:
    megabytes: int = settings.MAIL_MAX_MESSAGE_MB
    return megabytes * 1024 * 1024


def _existing(message_id: str | None, digest: str) -> InboundMessage | None:
    if message_id is not None:
        return InboundMessage.objects.filter(message_id=message_id).first()
    return InboundMessage.objects.filter(message_id__isnull=True, sha256=digest).first()


def inbound_store(
    *,
    raw: bytes,
    source: str,
    mailbox: Mailbox | None,
    envelope_sender: str = "",
    envelope_recipients: Sequence[str] = (),
) -> StoreResult:
    """Durably store one raw message, or find the copy already stored.

    Runs in its own transaction and has committed when it returns (it refuses to run
    inside another transaction, where "committed" could not be promised). Nothing beyond
    the Message-ID header is read, so no parsing problem can stop the bytes being kept.
    """
    if source not in InboundSource.values:
        raise ValueError(f"Unknown intake source {source!r}.")
    raw = bytes(raw)
    digest = hashlib.sha256(raw).hexdigest()
    message_id = extract_message_id(raw)

    # No look-up first: the unique constraints decide, in the same statement as the
    # insert, so a new message (the usual case) costs one statement and one commit.
    row = InboundMessage(
        mailbox=mailbox,
        source=source,
        raw=raw,
        size=len(raw),
        sha256=digest,
        message_id=message_id,
        envelope_sender=clean_text(envelope_sender).strip()[:320],
        envelope_recipients="\n".join(clean_text(r).strip() for r in envelope_recipients),
    )
    limit = max_message_bytes()
    if len(raw) > limit:
        row.state = InboundState.REJECTED
        row.error = _(
            "This message is %(size).1f MB, more than the %(limit)d MB limit. It was kept "
            "but not added to the desk."
        ) % {"size": len(raw) / 1024 / 1024, "limit": limit // 1024 // 1024}
        row.processed_at = timezone.now()
    try:
        with transaction.atomic(durable=True):
            row.save(force_insert=True)
    except IntegrityError:
        # Seen before: stored by an earlier delivery, or by another intake just now.
        found = _existing(message_id, digest)
        if found is None:
            raise
        return StoreResult(inbound=found, created=False)
    return StoreResult(inbound=row, created=True)


def _error_text(exc: BaseException) -> str:
    # Shown to administrators in the quarantine; keep it storable and of sane length.
    text = clean_text(f"{type(exc).__name__}: {exc}")
    return text[:2000]


def _set_aside_if_exhausted(message_id: int) -> InboundMessage | None:
    """Quarantine a message that keeps failing to finish; None if it may be tried."""
    with transaction.atomic():
        inbound = InboundMessage.objects.select_for_update().defer("raw").get(pk=message_id)
        if inbound.state != InboundState.RECEIVED:
            return inbound
        if inbound.attempts < MAX_ATTEMPTS:
            return None
        inbound.state = InboundState.QUARANTINED
        inbound.error = _(
            "Processing this message was started %(count)d times and never finished, "
            "so it was set aside."
        ) % {"count": inbound.attempts}
        inbound.processed_at = timezone.now()
        inbound.save(update_fields=["state", "error", "processed_at"])
        return inbound


def inbound_process(message_id: int, /) -> InboundMessage:
    """Parse and apply one stored message (``message_id`` is the row's primary key).

    Safe to call more than once, or from two workers at once: only a message still in
    ``received`` is worked on, under a row lock. Any exception quarantines the message
    with the error text, except a lost or busy database connection, which is re-raised
    and leaves the message ``received`` for the job's retry, since it says nothing about
    the message itself.

    The attempt is counted (and committed) first, in one statement, so a message that
    kills the worker is recognised next time. The message is parsed before the write
    transaction starts: parsing is the slow, CPU-bound part, and on SQLite a write
    transaction holds the whole database, so other workers keep writing meanwhile.
    """
    counted = InboundMessage.objects.filter(
        pk=message_id, state=InboundState.RECEIVED, attempts__lt=MAX_ATTEMPTS
    ).update(attempts=F("attempts") + 1)
    if not counted:
        finished = _set_aside_if_exhausted(message_id)
        if finished is not None:
            return finished
        return inbound_process(message_id)  # it was reset for reprocessing meanwhile

    try:
        raw = InboundMessage.objects.filter(pk=message_id).values_list("raw", flat=True).get()
        parsed = parse_message(bytes(raw))
        with transaction.atomic():
            inbound = (
                # Only the message row is locked; the mailbox is read alongside it.
                InboundMessage.objects.select_for_update(of=("self",))
                .select_related("mailbox")
                .defer("raw")
                .get(pk=message_id)
            )
            if inbound.state != InboundState.RECEIVED:
                return inbound  # another worker finished it meanwhile
            apply_to_desk(parsed, inbound)
            if inbound.state == InboundState.RECEIVED:
                inbound.state = InboundState.PROCESSED
                inbound.error = ""
            inbound.processed_at = timezone.now()
            inbound.save(update_fields=OUTCOME_FIELDS)
            return inbound
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:
        logger.warning("Incoming message %s was quarantined", message_id, exc_info=True)
        with transaction.atomic():
            InboundMessage.objects.filter(pk=message_id, state=InboundState.RECEIVED).update(
                state=InboundState.QUARANTINED,
                error=_error_text(exc),
                processed_at=timezone.now(),
            )
        return InboundMessage.objects.get(pk=message_id)


# Messages applied in one write transaction by inbound_process_many: large enough to
# save most of the per-message overhead, small enough that the transaction (which on
# SQLite holds the whole database) stays short.
BATCH_SIZE = 25


def inbound_process_many(message_ids: Sequence[int], /) -> None:
    """Parse and apply several stored messages, one write transaction per batch.

    The same outcome as :func:`inbound_process` for each message, with the overhead paid
    once per batch: one statement counts the attempts, one reads the bytes, one locks the
    rows, and one commit ends it. Each message is applied in its own savepoint, so a
    failure quarantines that message alone. Messages tried before (their attempt count is
    not zero, so an earlier run may have died on one of them) are processed one by one,
    so a message that kills the worker cannot take its batch-mates down with it.
    """
    for start in range(0, len(message_ids), BATCH_SIZE):
        _process_batch(list(message_ids[start : start + BATCH_SIZE]))


def inbound_process_with_batch(message_id: int, /) -> None:
    """Process ``message_id`` and, in the same batch, other mail waiting for its turn.

    What each listener job runs (``inbound_process_task``). A listener queues one job per
    message, so with mail arriving faster than one write transaction per message, the
    oldest waiting job takes up to :data:`BATCH_SIZE` - 1 other fresh messages (stored,
    never tried) along, oldest first, as the IMAP poller does with what it collects. Their
    own jobs still run and find them done in one read, so every message keeps a durable
    job of its own and nothing depends on the batch finishing.
    """
    state = InboundMessage.objects.filter(pk=message_id).values_list("state", flat=True).first()
    if state != InboundState.RECEIVED:
        return  # done by an earlier batch, set aside, or gone
    others = list(
        InboundMessage.objects.filter(state=InboundState.RECEIVED, attempts=0)
        .exclude(pk=message_id)
        .order_by("received_at", "id")
        .values_list("pk", flat=True)[: BATCH_SIZE - 1]
    )
    _process_batch([message_id, *others], extras=frozenset(others))


def _process_batch(message_ids: list[int], *, extras: frozenset[int] = frozenset()) -> None:
    """Apply ``message_ids`` in one write transaction (see :func:`inbound_process_many`).

    ``extras`` are messages taken along only because they were waiting: one that is no
    longer fresh when the batch starts was taken meanwhile by another worker's batch, and
    is left to it (and to its own job) rather than processed here one by one.
    """
    fresh = set(
        InboundMessage.objects.filter(
            pk__in=message_ids, state=InboundState.RECEIVED, attempts=0
        ).values_list("pk", flat=True)
    )
    for message_id in message_ids:
        if message_id not in fresh and message_id not in extras:
            inbound_process(message_id)  # tried before, done already, or set aside
    if not fresh:
        return
    InboundMessage.objects.filter(pk__in=fresh, attempts=0).update(attempts=F("attempts") + 1)
    parsed: dict[int, ParsedMail] = {}
    failed: dict[int, Exception] = {}
    for message_id, raw in InboundMessage.objects.filter(pk__in=fresh).values_list("pk", "raw"):
        try:
            parsed[message_id] = parse_message(bytes(raw))
        except (OperationalError, InterfaceError):
            raise  # says nothing about the message: left "received" for a retry
        except Exception as exc:  # quarantined below, like any failure to process
            failed[message_id] = exc
    # One scope for the transaction: what every message asks (the default status, the SLA
    # configuration's version, the senders) is read once for the batch.
    with memo_scope(), transaction.atomic():
        rows = (
            InboundMessage.objects.select_for_update(of=("self",))
            .select_related("mailbox")
            .defer("raw")
            .filter(pk__in=fresh)
            .order_by("received_at", "id")
        )
        prefetch(parsed.values())
        for inbound in rows:
            if inbound.state != InboundState.RECEIVED:
                continue  # another worker finished it meanwhile
            failure = failed.get(inbound.pk)
            if failure is None:
                try:
                    with transaction.atomic():
                        apply_to_desk(parsed[inbound.pk], inbound)
                except (OperationalError, InterfaceError):
                    raise
                except Exception as exc:
                    failure = exc
                    # The savepoint undid whatever the batch had remembered from it (an
                    # account just made, say): read everything afresh from here on.
                    memo_clear()
            if failure is not None:
                logger.warning("Incoming message %s was quarantined", inbound.pk, exc_info=failure)
                # The savepoint undid the message's writes; its row must not point at them.
                inbound.state = InboundState.QUARANTINED
                inbound.error = _error_text(failure)
                inbound.ticket = None
                inbound.ticket_message = None
            elif inbound.state == InboundState.RECEIVED:
                inbound.state = InboundState.PROCESSED
                inbound.error = ""
            inbound.processed_at = timezone.now()
            # One UPDATE each: a bulk_update of the batch (CASE per field) measured ~20
            # times slower on SQLite.
            inbound.save(update_fields=OUTCOME_FIELDS)


def inbound_receive(
    *,
    raw: bytes,
    source: str,
    mailbox: Mailbox | None,
    envelope_sender: str = "",
    envelope_recipients: Sequence[str] = (),
    queue_processing: bool = True,
) -> StoreResult:
    """The entry point for every intake: store the message, then queue its processing.

    ``queue_processing=False`` is for an intake that processes the message itself right
    after (the IMAP poller does, batch by batch): on SQLite, handing each message to
    another process costs more than processing it.

    When this returns the bytes are committed (see :func:`inbound_store`), so a listener
    may answer 250 and an IMAP poller may move the message away. Processing runs as a
    background job; if queueing it fails (the job queue is down, the process dies right
    here), the message stays ``received`` and :func:`inbound_process_pending`, run every
    minute, picks it up. Nothing is lost either way.
    """
    from deskside.mail.tasks import inbound_process_task, too_large_task

    result = inbound_store(
        raw=raw,
        source=source,
        mailbox=mailbox,
        envelope_sender=envelope_sender,
        envelope_recipients=envelope_recipients,
    )
    if result.created and result.inbound.state == InboundState.REJECTED:
        # After commit, robust: a job queue that is down must not fail the intake.
        inbound_id = result.inbound.pk
        transaction.on_commit(lambda: too_large_task(inbound_id), robust=True)
    if result.created and result.inbound.state == InboundState.RECEIVED and queue_processing:
        try:
            inbound_process_task(result.inbound.pk)
        except Exception:
            logger.warning(
                "Could not queue incoming message %s; the next sweep will process it",
                result.inbound.pk,
                exc_info=True,
            )
    return result


# Left alone this long before the sweep takes a message over from its queued job, so the
# sweep and a job that is merely a little late do not both start it (they would be safe,
# under the row lock, but would count two attempts).
PENDING_GRACE_SECONDS = 120
PENDING_BATCH = 500


def inbound_process_pending(*, older_than_seconds: int = PENDING_GRACE_SECONDS) -> int:
    """Process messages stored but never processed (their job was lost); returns how many.

    Reads the ``(state, received_at)`` index, so its cost depends on the number of stuck
    messages, not on how much mail the desk has ever received.
    """
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    pending = list(
        InboundMessage.objects.filter(state=InboundState.RECEIVED, received_at__lte=cutoff)
        .order_by("received_at", "id")
        .values_list("pk", flat=True)[:PENDING_BATCH]
    )
    for pk in pending:
        inbound_process(pk)
    return len(pending)


REPROCESSABLE_STATES = (InboundState.QUARANTINED, InboundState.HELD)


def inbound_reprocess(message_id: int, /, *, reviewer: User | None = None) -> InboundMessage:
    """Run a quarantined or held message through the pipeline again (an admin action).

    Processed messages are refused, since running them again would add their content to
    the desk twice; so are rejected (oversized) ones, which would only be rejected again.
    """
    if reviewer is not None:
        permissions.get_visible_or_404(reviewer, InboundMessage, pk=message_id)
    with transaction.atomic():
        updated = InboundMessage.objects.filter(
            pk=message_id, state__in=REPROCESSABLE_STATES
        ).update(
            state=InboundState.RECEIVED,
            error="",
            attempts=0,
            reviewed_by=reviewer,
            reviewed_at=timezone.now() if reviewer is not None else None,
        )
    if not updated:
        raise ValidationError(
            _("Only quarantined or held messages can be processed again."),
            code="not_reprocessable",
        )
    return inbound_process(message_id)


def inbound_release(
    message_id: int, /, *, reviewer: User, ticket_id: int | None = None
) -> InboundMessage:
    """Apply a held message as the reviewer decided: to ``ticket_id``, or as a new ticket.

    The reviewer vouches for the message (see :class:`deskside.mail.apply.Release`), so
    the mailbox's sender rule and the unproven ticket number no longer hold it. Whatever
    else would hold it (an account that is switched off, our own mail) still does, and the
    message then stays held with the new reason. Raises ``ValidationError`` in plain words
    when the message is not held or the ticket cannot be found.
    """
    permissions.get_visible_or_404(reviewer, InboundMessage, pk=message_id)
    with transaction.atomic():
        inbound = InboundMessage.objects.select_for_update().get(pk=message_id)
        if inbound.state != InboundState.HELD:
            raise ValidationError(
                _("Only messages held for review can be added to the desk this way."),
                code="not_held",
            )
        from deskside.tickets.models import Ticket

        ticket = None
        if ticket_id is not None:
            ticket = permissions.visible(reviewer, Ticket).filter(pk=ticket_id).first()
            if ticket is None:
                raise ValidationError(
                    _("There is no ticket #%(number)d that you can see. Check the number.")
                    % {"number": ticket_id},
                    code="no_ticket",
                )
        parsed = parse_message(bytes(inbound.raw))
        apply_to_desk(parsed, inbound, Release(reviewer=reviewer, ticket=ticket))
        inbound.processed_at = timezone.now()
        inbound.reviewed_by = reviewer
        inbound.reviewed_at = inbound.processed_at
        inbound.save(
            update_fields=[
                "state",
                "error",
                "processed_at",
                "ticket",
                "ticket_message",
                "reviewed_by",
                "reviewed_at",
            ]
        )
        return inbound


DISMISSABLE_STATES = (InboundState.QUARANTINED, InboundState.HELD)


def inbound_dismiss(message_id: int, /, *, reviewer: User) -> InboundMessage:
    """Set a held or quarantined message aside for good (spam, a test, a duplicate).

    The raw message is kept, like every message Deskside received; it only leaves the
    list of mail that needs attention.
    """
    permissions.get_visible_or_404(reviewer, InboundMessage, pk=message_id)
    with transaction.atomic():
        inbound = InboundMessage.objects.select_for_update().get(pk=message_id)
        if inbound.state not in DISMISSABLE_STATES:
            raise ValidationError(
                _("Only held or quarantined messages can be dismissed."), code="not_dismissable"
            )
        now = timezone.now()
        inbound.state = InboundState.REJECTED
        inbound.error = _("Dismissed by %(name)s.") % {"name": reviewer.full_name}
        inbound.reviewed_by = reviewer
        inbound.reviewed_at = now
        inbound.processed_at = now
        inbound.save(update_fields=["state", "error", "reviewed_by", "reviewed_at", "processed_at"])
        return inbound
