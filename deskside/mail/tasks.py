"""Background jobs that send Deskside's mail, and the hooks services use to queue them.

Each hook registers its job to run after the current transaction commits: the job then
reads what was actually saved, and nothing is mailed about a change that rolled back.
``robust``: a job queue that is down must not turn a saved reply into an error page.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from deskside.accounts.models import User
from deskside.mail import notifications
from deskside.mail.outbound import outbound_deliver
from deskside.tickets.models import Message, Ticket

# About half an hour of trying (1, 2, 4, 8 and 16 minutes apart) rides out a mail server
# restart or a short network outage; the row keeps the error for the admin after that.
DELIVERY_RETRIES = 5
DELIVERY_FIRST_DELAY = 60
DELIVERY_BACKOFF = 2


@db_task(  # type: ignore[untyped-decorator]  # huey is untyped
    retries=DELIVERY_RETRIES, retry_delay=DELIVERY_FIRST_DELAY, retry_backoff=DELIVERY_BACKOFF
)
def deliver_task(outbound_id: int) -> None:
    outbound_deliver(outbound_id)


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
    for outbound_id in notifications.too_large_prepare(inbound_id):
        deliver_task(outbound_id)


@db_task(retries=2, retry_delay=30)  # type: ignore[untyped-decorator]  # huey is untyped
def notify_task(
    event: str,
    ticket_id: int,
    actor_id: int | None,
    message_id: int | None = None,
    assignee_id: int | None = None,
) -> None:
    # Recording and sending are separate jobs, so a slow or failing mail server is retried
    # per mail and never records the same notification twice.
    for outbound_id in notifications.notifications_prepare(
        event,
        ticket_id=ticket_id,
        actor_id=actor_id,
        message_id=message_id,
        assignee_id=assignee_id,
    ):
        deliver_task(outbound_id)


_muted: ContextVar[bool] = ContextVar("deskside_mail_muted", default=False)


@contextmanager
def mail_muted() -> Iterator[None]:
    """Queue no notifications for changes made inside: demo data, imports, bulk repairs."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


def _queue(
    event: str,
    ticket_id: int,
    actor: User | None,
    message_id: int | None = None,
    assignee_id: int | None = None,
) -> None:
    if _muted.get():
        return
    actor_id = actor.pk if actor is not None else None
    transaction.on_commit(
        lambda: notify_task(event, ticket_id, actor_id, message_id, assignee_id), robust=True
    )


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
