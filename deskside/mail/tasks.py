"""Background jobs that send Deskside's mail, and the hooks services use to queue them.

Each hook registers its job to run after the current transaction commits: the job then
reads what was actually saved, and nothing is mailed about a change that rolled back.
``robust``: a job queue that is down must not turn a saved reply into an error page.

Everything one transaction asks for goes into one job (:func:`notify_many_task`), and the
mails that job records are sent by one job over one connection to the mail server
(:func:`deliver_many_task`): a batch of 25 incoming emails queues one acknowledgement job
and one delivery job, not 25 of each. :func:`notify_task` and :func:`deliver_task` stay
for single events and mails, for retries, and for jobs queued before the batches existed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from deskside.accounts.models import User
from deskside.lib.oncommit import on_commit_outside_savepoints, registered_hook
from deskside.mail import notifications
from deskside.mail.outbound import outbound_deliver, outbound_deliver_many
from deskside.system.memo import memo_clear, memo_scope
from deskside.tickets.models import Message, Ticket

logger = logging.getLogger(__name__)

# About half an hour of trying (1, 2, 4, 8 and 16 minutes apart) rides out a mail server
# restart or a short network outage; the row keeps the error for the admin after that.
DELIVERY_RETRIES = 5
DELIVERY_FIRST_DELAY = 60
DELIVERY_BACKOFF = 2


@db_task(  # type: ignore[untyped-decorator]  # huey is untyped
    retries=DELIVERY_RETRIES, retry_delay=DELIVERY_FIRST_DELAY, retry_backoff=DELIVERY_BACKOFF
)
def deliver_task(outbound_id: int) -> None:
    """Send one recorded mail; a temporary failure is retried (see DELIVERY_RETRIES)."""
    outbound_deliver(outbound_id)


def deliver_retry_later(outbound_id: int) -> None:
    """Queue ``outbound_id`` alone, as the first retry of a failed :func:`deliver_task`.

    Scheduled at the first retry's delay with the retries and back-off still to come, so
    a mail that failed in a batch is tried exactly as often and as far apart as a mail
    sent on its own.
    """
    deliver_task.schedule(
        args=(outbound_id,),
        delay=DELIVERY_FIRST_DELAY,
        retries=DELIVERY_RETRIES - 1,
        retry_delay=DELIVERY_FIRST_DELAY * DELIVERY_BACKOFF,
    )


@db_task()  # type: ignore[untyped-decorator]  # huey is untyped
def deliver_many_task(outbound_ids: Sequence[int]) -> None:
    """Send recorded mails over one connection to the mail server (see outbound_deliver_many).

    Each mail that failed for a reason that may pass (its error recorded on its row) is
    handed to :func:`deliver_retry_later`, alone; the others are not held up by it. No
    retries of the job itself: every mail already has its own. Should the batch not even
    start (no mail connection to be had), each mail is queued as its own job instead.
    """
    try:
        retry = outbound_deliver_many(outbound_ids)
    except Exception:
        logger.exception("Could not send %s mails together; sending each alone.", len(outbound_ids))
        for outbound_id in outbound_ids:
            deliver_task(outbound_id)
        return
    for outbound_id in retry:
        deliver_retry_later(outbound_id)


def deliver_queue(outbound_ids: Sequence[int]) -> None:
    """Queue the sending of recorded mails: one job for them all (one alone goes as itself)."""
    if len(outbound_ids) == 1:
        deliver_task(outbound_ids[0])
    elif outbound_ids:
        deliver_many_task(list(outbound_ids))


# Incoming mail goes onto the desk before the queue's other work (acknowledgements, the
# search index): under a burst, agents see the tickets first and the follow-ups trail by
# seconds, rather than each message waiting behind the previous ones' follow-ups.
INTAKE_PRIORITY = 10


@db_task(  # type: ignore[untyped-decorator]  # huey is untyped
    retries=3, retry_delay=30, priority=INTAKE_PRIORITY
)
def inbound_process_task(inbound_id: int) -> None:
    """Parse and apply one stored incoming message (queued by ``inbound_receive``), with
    other mail waiting behind it in the same batch (see ``inbound_process_with_batch``)."""
    # Imported here: the intake pipeline imports this module for its hooks.
    from deskside.mail.intake import inbound_process_with_batch

    inbound_process_with_batch(inbound_id)


@db_periodic_task(crontab(minute="*"))  # type: ignore[untyped-decorator]  # huey is untyped
def inbound_process_pending_task() -> None:
    """Every minute, process stored messages whose own job was lost (nothing is left behind)."""
    from deskside.mail.intake import inbound_process_pending

    inbound_process_pending()


@db_periodic_task(crontab(minute="*"))  # type: ignore[untyped-decorator]  # huey is untyped
def mailboxes_poll_task() -> None:
    """Every minute, queue a check of each active IMAP mailbox, one job per mailbox.

    One job each, so a slow or unreachable server delays no other mailbox, and several
    workers share the mailboxes between them.
    """
    from deskside.mail.imap import mailboxes_to_poll

    for mailbox in mailboxes_to_poll():
        mailbox_poll_task(mailbox.pk)


@db_task()  # type: ignore[untyped-decorator]  # huey is untyped
def mailbox_poll_task(mailbox_id: int) -> None:
    """Collect one mailbox's waiting mail (skipped while another worker polls it)."""
    from deskside.mail.imap import mailbox_poll_locked
    from deskside.mail.models import Mailbox

    mailbox = Mailbox.objects.filter(pk=mailbox_id, is_active=True).first()
    # Switched off or deleted since the job was queued.
    if mailbox is None or not mailbox.imap_host:
        return
    result = mailbox_poll_locked(mailbox)
    if result.fetched and result.remaining and not result.error:
        # A backlog is worked off batch after batch at once, not one batch a minute; as a
        # new job, so other mailboxes' jobs get their turn in between.
        mailbox_poll_task(mailbox_id)


@db_task(retries=2, retry_delay=30)  # type: ignore[untyped-decorator]  # huey is untyped
def too_large_task(inbound_id: int) -> None:
    """Tell the sender of a message refused for its size (collected by IMAP) what to do."""
    deliver_queue(notifications.too_large_prepare(inbound_id))


# One notification to work out: (event, ticket id, actor id, message id, assignee id), the
# arguments of notify_task. Plain tuples (lists once through the queue): huey pickles them.
Event = tuple[str, int, int | None, int | None, int | None]


@db_task(retries=2, retry_delay=30)  # type: ignore[untyped-decorator]  # huey is untyped
def notify_task(
    event: str,
    ticket_id: int,
    actor_id: int | None,
    message_id: int | None = None,
    assignee_id: int | None = None,
) -> None:
    """Record and send the mails for one event (an event of a batch that failed, retried).

    Recording and sending are separate jobs, so a slow or failing mail server is retried
    per mail and never records the same notification twice.
    """
    with memo_scope():
        outbound_ids = notifications.notifications_prepare(
            event,
            ticket_id=ticket_id,
            actor_id=actor_id,
            message_id=message_id,
            assignee_id=assignee_id,
        )
    deliver_queue(outbound_ids)


@db_task()  # type: ignore[untyped-decorator]  # huey is untyped
def notify_many_task(events: Sequence[Event]) -> None:
    """Record the mails for every event one transaction asked for, then send them as one batch.

    One memo scope for them all, so what every event asks (configuration versions, the
    ticket settings, whether there are help articles to suggest) is read once, and their
    tickets, actors and messages are read together (``notifications_load``). Each event
    is still recorded in its own transaction: one that fails is logged and queued alone as
    :func:`notify_task`, which retries it, and the others go on. No retries of the job
    itself, which would record the others' mails twice.
    """
    outbound_ids: list[int] = []
    failed: list[Event] = []
    with memo_scope():
        loaded: notifications.Loaded | None = None
        try:
            loaded = notifications.notifications_load(events)
        except Exception:
            logger.warning("Could not read the notifications' tickets at once", exc_info=True)
        for event in events:
            name, ticket_id, actor_id, message_id, assignee_id = event
            try:
                outbound_ids.extend(
                    notifications.notifications_prepare(
                        name,
                        ticket_id=ticket_id,
                        actor_id=actor_id,
                        message_id=message_id,
                        assignee_id=assignee_id,
                        loaded=loaded,
                    )
                )
            except Exception:
                logger.exception(
                    "Could not prepare the %s mail for #%s; it is retried on its own.",
                    name,
                    ticket_id,
                )
                failed.append(event)
                # Whatever the failed transaction had remembered is read afresh.
                memo_clear()
    deliver_queue(outbound_ids)
    for event in failed:
        notify_task(*event)


_muted: ContextVar[bool] = ContextVar("deskside_mail_muted", default=False)


@contextmanager
def mail_muted() -> Iterator[None]:
    """Queue no notifications for changes made inside: demo data, imports, bulk repairs."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


class _Waiting:
    """The events one transaction committed, queued as one :func:`notify_many_task`."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.last: _Send | None = None


class _Event:
    """One event's own after-commit hook: it runs only if the change it is about committed.

    Registered like any hook, so a savepoint that rolls back drops it; run, it adds its
    event to the transaction's :class:`_Waiting`.
    """

    __slots__ = ("event", "waiting")

    def __init__(self, waiting: _Waiting, event: Event) -> None:
        self.waiting = waiting
        self.event = event

    def __call__(self) -> None:
        self.waiting.events.append(self.event)


class _Send:
    """Queues the waiting events, if it is the last registered: every event's hook ran."""

    __slots__ = ("waiting",)

    def __init__(self, waiting: _Waiting) -> None:
        self.waiting = waiting

    def __call__(self) -> None:
        waiting = self.waiting
        if waiting.last is not self:
            return  # an earlier one: more events follow it
        events, waiting.events = waiting.events, []
        if events:
            notify_many_task(events)


def _queue(
    event: str,
    ticket_id: int,
    actor: User | None,
    message_id: int | None = None,
    assignee_id: int | None = None,
) -> None:
    """Queue ``event`` once the current transaction commits, with the transaction's others.

    As for the search index (``search.tasks.search_queue_reindex``), the events wait in
    an object found among the transaction's after-commit hooks, so it lives and dies with
    the transaction. Unlike re-indexing, a notification is not harmless when the change
    behind it rolled back (a status change undone in a savepoint would still mail "we are
    waiting on you"), so each event joins through its own hook (:class:`_Event`), which a
    rolled-back savepoint drops. Each call then registers a :class:`_Send` at the
    transaction's outermost level, where no savepoint rollback removes it, after that
    event's hook; only the last one registered queues the job, when every surviving
    event has joined.
    """
    if _muted.get():
        return
    actor_id = actor.pk if actor is not None else None
    queued: Event = (event, ticket_id, actor_id, message_id, assignee_id)
    if not transaction.get_connection().in_atomic_block:
        # Autocommit: the change is saved already, and on_commit runs the job right away.
        transaction.on_commit(lambda: notify_many_task([queued]), robust=True)
        return
    sending = registered_hook(_Send)
    waiting = sending.waiting if sending is not None else _Waiting()
    transaction.on_commit(_Event(waiting, queued), robust=True)
    send = waiting.last = _Send(waiting)
    on_commit_outside_savepoints(send)


def mail_queue_ticket_created(ticket: Ticket, actor: User) -> None:
    """Acknowledge a new ticket to its requester (and tell an agent it was given to)."""
    _queue(notifications.TICKET_CREATED, ticket.pk, actor)


def mail_queue_agent_reply(message: Message, actor: User) -> None:
    """Send an agent's public reply to the requester."""
    _queue(notifications.AGENT_REPLIED, message.ticket_id, actor, message.pk)


def mail_queue_requester_reply(message: Message, actor: User) -> None:
    """Tell the assigned agent that the requester wrote back."""
    _queue(notifications.REQUESTER_REPLIED, message.ticket_id, actor, message.pk)


def mail_queue_assigned(ticket: Ticket, actor: User) -> None:
    """Tell the newly assigned agent, unless they took the ticket themselves."""
    _queue(notifications.TICKET_ASSIGNED, ticket.pk, actor, assignee_id=ticket.assignee_id)


def mail_queue_status_changed(ticket: Ticket, actor: User) -> None:
    """Tell the requester when the ticket now waits on them."""
    _queue(notifications.STATUS_CHANGED, ticket.pk, actor)


def mail_queue_resolved(ticket: Ticket, actor: User) -> None:
    """Send the resolution note: what happened, and how to avoid it next time."""
    _queue(notifications.TICKET_RESOLVED, ticket.pk, actor)
