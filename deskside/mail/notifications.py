"""Who is told what by mail, and when.

Something happened to a ticket (an *event*); this module decides which mails follow,
renders them from fixed templates and records them as :class:`OutboundMail` rows. The
job in :mod:`deskside.mail.tasks` then sends them. Decisions are made when the job runs,
after the change committed, so they see the ticket as it really is: a ticket resolved
while the caller was still on the phone gets the resolution mail, not an acknowledgement
as well.

The rules, in plain words:

* Nobody is mailed about their own action, except the acknowledgement, which is the
  receipt for the request they just made.
* People whose account is switched off are never mailed (recorded as suppressed).
* At most ``MAIL_AUTO_LIMIT_PER_HOUR`` automatic mails go to one address in an hour;
  more are recorded as suppressed. This is the backstop against mail loops with another
  robot. Replies and resolution notes written by a person are not capped: a loop cannot
  drive them, and silently dropping a person's answer would be worse than a busy inbox.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from deskside.accounts.models import EmailAddress, User
from deskside.knowledge import selectors as knowledge_selectors
from deskside.mail.models import OutboundKind, OutboundMail, OutboundState, SuppressedReason
from deskside.mail.outbound import outbound_record
from deskside.sla.phrasing import expected_answer_phrase
from deskside.system import ratelimit
from deskside.tickets.models import Channel, Message, MessageKind, StatusKind, Ticket

logger = logging.getLogger(__name__)

# Events: what happened. Each leads to zero or more mails of the kinds in OutboundKind.
TICKET_CREATED = "ticket_created"
AGENT_REPLIED = "agent_replied"
REQUESTER_REPLIED = "requester_replied"
TICKET_ASSIGNED = "ticket_assigned"
STATUS_CHANGED = "status_changed"
TICKET_RESOLVED = "ticket_resolved"

# Tickets an agent opens for their own follow-up (channel "agent") are not acknowledged:
# the requester did not ask, and will hear when someone replies.
ACKNOWLEDGED_CHANNELS = frozenset({Channel.EMAIL, Channel.PORTAL, Channel.PHONE, Channel.API})
UNCAPPED_KINDS = frozenset({OutboundKind.AGENT_REPLY, OutboundKind.RESOLUTION})
AUTO_MAIL_SCOPE = "mail-auto"
AUTO_MAIL_WINDOW_SECONDS = 3600
# Agents' mail links to the console; everyone else's to the portal.
_AGENT_KINDS = frozenset({OutboundKind.ASSIGNMENT, OutboundKind.NEW_REPLY_FOR_AGENT})
# The acknowledgement suggests up to this many help articles, found with the subject and
# the start of the first message.
SUGGESTED_ARTICLES = 3
SUGGEST_FROM_FIRST_CHARS = 300


@dataclass(frozen=True)
class _Planned:
    kind: str
    recipient: User
    extra: dict[str, Any]


def auto_mail_limit() -> int:
    """Read when used, so an administrator's setting (and a test's override) applies."""
    return int(settings.MAIL_AUTO_LIMIT_PER_HOUR)


def _latest_answer(ticket: Ticket) -> Message | None:
    """The newest public message from IT, to remind the requester what was asked."""
    return (
        ticket.messages.filter(kind=MessageKind.PUBLIC)
        .exclude(author_id=ticket.requester_id)
        .order_by("-created_at", "-id")
        .first()
    )


def _suggested_articles(ticket: Ticket) -> list[dict[str, str]]:
    """Help articles that may answer the request while the requester waits.

    Searched as the requester, and only published articles for everyone, as the portal
    would suggest them. A failed search never stops the acknowledgement: it is logged and
    the mail goes without suggestions. A desk with no such article searches nothing (and
    reads no message for it), asked once per batch of notifications.
    """
    if not knowledge_selectors.portal_lists_articles():
        return []
    first = (
        ticket.messages.filter(kind=MessageKind.PUBLIC)
        .order_by("created_at", "id")
        .values_list("body", flat=True)
        .first()
    )
    queries = knowledge_selectors.suggestion_queries(
        ticket.subject, (first or "")[:SUGGEST_FROM_FIRST_CHARS]
    )
    try:
        # A savepoint: on PostgreSQL a failed query would otherwise spoil the transaction
        # the mail itself is recorded in.
        with transaction.atomic():
            hits = knowledge_selectors.articles_suggested(
                ticket.requester, queries, SUGGESTED_ARTICLES
            )
    except Exception:
        logger.exception(
            "Could not suggest help articles for the acknowledgement of #%s.", ticket.pk
        )
        return []
    return [
        {"title": hit.article.title, "link": knowledge_selectors.article_portal_url(hit.article)}
        for hit in hits
    ]


def _plan(
    event: str,
    ticket: Ticket,
    actor: User | None,
    message: Message | None,
    assignee_id: int | None,
) -> list[_Planned]:
    requester = ticket.requester
    assignee = ticket.assignee
    actor_id = actor.pk if actor is not None else None
    plans: list[_Planned] = []
    if event == TICKET_CREATED:
        done_already = ticket.status_kind in (StatusKind.RESOLVED, StatusKind.CLOSED)
        if ticket.channel in ACKNOWLEDGED_CHANNELS and not done_already:
            # The ticket's clocks were set when it was created, before this job was queued.
            expected = expected_answer_phrase(ticket)
            extra = {"expected_answer": expected, "articles": _suggested_articles(ticket)}
            plans.append(_Planned(OutboundKind.ACKNOWLEDGEMENT, requester, extra))
        if assignee is not None and assignee.pk != actor_id and not done_already:
            plans.append(_Planned(OutboundKind.ASSIGNMENT, assignee, {}))
    elif event == AGENT_REPLIED:
        public = message is not None and message.kind == MessageKind.PUBLIC
        if public and requester.pk != actor_id:
            waiting = ticket.status_kind == StatusKind.WAITING_REQUESTER
            plans.append(_Planned(OutboundKind.AGENT_REPLY, requester, {"waiting_on_you": waiting}))
    elif event == REQUESTER_REPLIED:
        if message is not None and assignee is not None and assignee.pk != actor_id:
            plans.append(_Planned(OutboundKind.NEW_REPLY_FOR_AGENT, assignee, {}))
    elif event == TICKET_ASSIGNED:
        # Reassigned again before the job ran: only the current assignee is told.
        if assignee is not None and assignee.pk == assignee_id and assignee.pk != actor_id:
            plans.append(_Planned(OutboundKind.ASSIGNMENT, assignee, {}))
    elif event == STATUS_CHANGED:
        # Only the change that asks something of the requester is worth a mail; resolving
        # has its own event, and "open" or "waiting on a supplier" change nothing for them.
        if ticket.status_kind == StatusKind.WAITING_REQUESTER and requester.pk != actor_id:
            plans.append(
                _Planned(OutboundKind.STATUS_CHANGE, requester, {"answer": _latest_answer(ticket)})
            )
    elif event == TICKET_RESOLVED:
        # Reopened before the job ran: the note no longer describes the ticket.
        if ticket.status_kind == StatusKind.RESOLVED and requester.pk != actor_id:
            plans.append(_Planned(OutboundKind.RESOLUTION, requester, {}))
    else:
        raise ValueError(f"Unknown mail event {event!r}.")
    return plans


def _link(kind: str, ticket: Ticket) -> str:
    name = "tickets:ticket" if kind in _AGENT_KINDS else "portal:ticket"
    return settings.BASE_URL + reverse(name, kwargs={"pk": ticket.pk})


def render_mail(kind: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """Subject, text and HTML for ``kind`` from the fixed templates under mail/<kind>/.

    People's words only ever arrive as context values. The subject is stripped of the
    template's own trailing newline but not otherwise tidied, so a line break that came
    from data still reaches the header check and is refused there.
    """
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"mail/{kind}/subject.txt", context).strip()
        text = render_to_string(f"mail/{kind}/body.txt", context).strip() + "\n"
        html = render_to_string(f"mail/{kind}/body.html", context)
    return subject, text, html


def _suppressed_reason(kind: str, recipient: User) -> str:
    if not recipient.is_active:
        return SuppressedReason.INACTIVE
    if EmailAddress.objects.filter(
        email=recipient.email.lower(), undeliverable_since__isnull=False
    ).exists():
        return SuppressedReason.UNDELIVERABLE
    if kind not in UNCAPPED_KINDS and not ratelimit.hit(
        AUTO_MAIL_SCOPE,
        recipient.email.lower(),
        limit=auto_mail_limit(),
        window=AUTO_MAIL_WINDOW_SECONDS,
    ):
        return SuppressedReason.RATE_LIMITED
    return ""


# What the acknowledgement, the replies and the rest read about a ticket.
_TICKET_RELATED = ("requester", "assignee", "status", "sla")


@dataclass(frozen=True)
class Loaded:
    """The rows a batch of events is about, read with one query per kind for them all.

    A ticket missing from ``tickets`` is gone (deleted since), as is a missing message.
    """

    tickets: dict[int, Ticket]
    people: dict[int, User]
    messages: dict[int, Message]


def notifications_load(events: Iterable[Sequence[Any]]) -> Loaded:
    """Read the tickets, actors and messages of ``events`` (notify_task's arguments) at once.

    For :func:`notifications_prepare` of each: a batch of 25 acknowledgements then reads
    its tickets with one query instead of 25 (each query costs more to build than to run).
    Read as the batch's job starts, after the changes committed, as each would have been.
    """
    ticket_ids: set[int] = set()
    actor_ids: set[int] = set()
    message_ids: set[int] = set()
    for _event, ticket_id, actor_id, message_id, *_rest in events:
        ticket_ids.add(ticket_id)
        if actor_id is not None:
            actor_ids.add(actor_id)
        if message_id is not None:
            message_ids.add(message_id)
    tickets = Ticket.objects.select_related(*_TICKET_RELATED).in_bulk(ticket_ids)
    known = {
        person.pk: person
        for ticket in tickets.values()
        for person in (ticket.requester, ticket.assignee)
        if person is not None
    }
    people = {pk: known[pk] for pk in actor_ids if pk in known}
    if actor_ids - people.keys():
        people.update(User.objects.in_bulk(actor_ids - people.keys()))
    messages = Message.objects.select_related("author").in_bulk(message_ids) if message_ids else {}
    return Loaded(tickets=tickets, people=people, messages=messages)


def notifications_prepare(
    event: str,
    *,
    ticket_id: int,
    actor_id: int | None,
    message_id: int | None = None,
    assignee_id: int | None = None,
    loaded: Loaded | None = None,
) -> list[int]:
    """Record the mails ``event`` calls for. Returns the ids of those to send.

    One transaction. For several events, run it inside one
    :func:`~deskside.system.memo.memo_scope`, so what they all ask is read once, and pass
    what :func:`notifications_load` read for them all as ``loaded``.
    """
    with transaction.atomic():
        if loaded is None:
            loaded = notifications_load([(event, ticket_id, actor_id, message_id)])
        ticket = loaded.tickets.get(ticket_id)
        if ticket is None:
            return []
        actor = loaded.people.get(actor_id) if actor_id is not None else None
        message = loaded.messages.get(message_id) if message_id is not None else None
        recorded: list[OutboundMail] = []
        for planned in _plan(event, ticket, actor, message, assignee_id):
            context = {
                "ticket": ticket,
                "recipient": planned.recipient,
                "requester": ticket.requester,
                "actor": actor,
                "agent": ticket.assignee,
                "message": message,
                "link": _link(planned.kind, ticket),
                "desk_name": settings.DESK_NAME,
                "from_email_channel": ticket.channel == Channel.EMAIL,
                **planned.extra,
            }
            subject, text, html = render_mail(planned.kind, context)
            recorded.append(
                outbound_record(
                    kind=planned.kind,
                    ticket=ticket,
                    message=message,
                    to_address=planned.recipient.email,
                    to_name=planned.recipient.full_name,
                    subject=subject,
                    body_text=text,
                    body_html=html,
                    suppressed_reason=_suppressed_reason(planned.kind, planned.recipient),
                )
            )
    for row in recorded:
        if row.state == OutboundState.SUPPRESSED:
            logger.info(
                "Did not mail %s about #%s: %s.", row.kind, ticket_id, row.suppressed_reason
            )
    return [row.pk for row in recorded if row.state == OutboundState.QUEUED]


def too_large_prepare(inbound_id: int) -> list[int]:
    """Record a note to the sender of a message refused for its size; ids of those to send.

    The SMTP/LMTP listener refuses such mail during the conversation (552), and the
    sending server tells its user. Mail collected by IMAP has no such conversation, so
    Deskside writes to the sender itself, with the same loop rules as any automatic mail:
    never to automatic or bulk mail, a null sender, our own mail, a sender the mailbox
    does not accept, or beyond the per-address hourly cap.
    """
    from deskside.mail.apply import is_automatic, is_our_own
    from deskside.mail.headers import header_block
    from deskside.mail.intake import max_message_bytes
    from deskside.mail.models import InboundMessage, InboundState
    from deskside.mail.parsing import UnparseableMessage, parse_message

    inbound = InboundMessage.objects.select_related("mailbox").filter(pk=inbound_id).first()
    if inbound is None or inbound.state != InboundState.REJECTED:
        return []
    if OutboundMail.objects.filter(
        kind=OutboundKind.TOO_LARGE, references=f"<{inbound.message_id}>"
    ).exists():
        return []  # already answered: the job ran twice
    try:
        # The headers alone: the body is what was too large to read.
        parsed = parse_message(header_block(bytes(inbound.raw[:65536])))
    except UnparseableMessage:
        return []
    address = parsed.from_address
    if not address or "@" not in address or is_automatic(parsed) or is_our_own(parsed):
        return []
    mailbox = inbound.mailbox
    if mailbox is not None and mailbox.accepts_from != "anyone":
        known = EmailAddress.objects.filter(email=address).exists()
        domain_ok = address.rsplit("@", 1)[1] in mailbox.known_domain_list()
        if not (known or (mailbox.accepts_from == "known_domains" and domain_ok)):
            return []
    context = {
        "recipient_name": parsed.from_name or address.split("@", 1)[0],
        "original_subject": parsed.subject or "(no subject)",
        "size_mb": f"{inbound.size / 1024 / 1024:.1f}",
        "limit_mb": max_message_bytes() // 1024 // 1024,
        "desk_name": settings.DESK_NAME,
        "ticket": None,
    }
    subject, text, html = render_mail(OutboundKind.TOO_LARGE, context)
    suppressed = ""
    if not ratelimit.hit(
        AUTO_MAIL_SCOPE, address, limit=auto_mail_limit(), window=AUTO_MAIL_WINDOW_SECONDS
    ):
        suppressed = SuppressedReason.RATE_LIMITED
    elif EmailAddress.objects.filter(email=address, undeliverable_since__isnull=False).exists():
        suppressed = SuppressedReason.UNDELIVERABLE
    with transaction.atomic():
        row = outbound_record(
            kind=OutboundKind.TOO_LARGE,
            ticket=None,
            to_address=address,
            to_name=parsed.from_name,
            subject=subject,
            body_text=text,
            body_html=html,
            suppressed_reason=suppressed,
        )
        if inbound.message_id:
            # Threads the note under the refused message in the sender's mail client, and
            # marks it answered for the check above.
            row.references = f"<{inbound.message_id}>"
            row.save(update_fields=["references"])
    return [row.pk] if row.state == OutboundState.QUEUED else []
