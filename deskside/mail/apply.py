"""Turning one parsed email into a new ticket, a reply or an internal note.

Called by :func:`deskside.mail.intake.inbound_process` inside its transaction: every
write here rolls back together if anything fails, and the message is then quarantined.
The function sets ``inbound.state`` (and ``error``, ``ticket``, ``ticket_message``); the
caller saves the row.

The rules, in the order they are applied:

1. **No sender, no ticket.** A message without a usable From address is held.
2. **Our own mail is never applied.** A message whose Message-ID is one Deskside made
   (recorded in ``OutboundMail``, or of our ``deskside.…@<our domain>`` form), or whose
   From is a desk mailbox or our own From address, is marked ``duplicate``: it is
   Deskside's mail coming back, and answering it would start a loop.
3. **Delivery failure reports (bounces) never become tickets.** They are marked
   processed with an explanation, linked to the ticket whose mail bounced when the
   report names one of our Message-IDs.
4. **From is the identity.** Reply-To is never used to decide who wrote. The sender is
   found through any of their email addresses (stored lower-cased). Headers such as
   ``X-Deskside-Reply-Token`` in incoming mail are ignored.
5. **Who may write.** A mailbox that accepts only known people holds mail from addresses
   Deskside does not know; one that accepts only known domains holds mail from any
   other domain. A known person whose account is switched off is held too.
6. **Threading needs proof and membership.** A message is added to an existing ticket
   only when its In-Reply-To/References carry a genuine signed token of that ticket
   (:func:`~deskside.mail.outbound.ticket_from_references`) or the Message-ID of a mail
   already on that ticket (one we sent, or one we received), **and** the sender may see
   the ticket (requester, watcher, or IT staff allowed to see it). A ``[#1042]`` in the
   subject proves nothing (numbers can be guessed): when the subject names a ticket but
   no reference proves it for this sender, the message is held for review. Otherwise
   the message opens a new ticket; an unknown sender (where the mailbox allows it) gets
   a requester account, named from the display name or the address's local part.
7. **Applying.** A new ticket takes the mailbox's default category and team. A reply
   from the requester or a watcher is a public reply (the ticket core reopens a resolved
   ticket, or opens a linked follow-up for a closed one). A reply from IT staff is a
   public reply, unless its first non-empty line is ``#note``: then it is an internal
   note, without that line. Cc'd addresses are never added as watchers.
8. **Loop safety (RFC 3834).** Mail marked ``Auto-Submitted`` (other than ``no``),
   ``Precedence: bulk/junk/list``, mail with a ``List-Id``, or from a null sender
   (``Return-Path: <>``) is applied with notifications muted, so no acknowledgement or
   other automatic mail answers it. Such mail never reopens a resolved or closed ticket
   or starts a follow-up: it is linked to the ticket and marked processed with a note.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from deskside.accounts import permissions
from deskside.accounts.models import EmailAddress, Role, User
from deskside.accounts.services import person_create
from deskside.mail.models import AcceptsFrom, InboundMessage, InboundState, Mailbox, OutboundMail
from deskside.mail.outbound import mail_domain, ticket_from_references
from deskside.mail.parsing import ParsedMail
from deskside.mail.tasks import mail_muted
from deskside.system.memo import memo_open, memo_set, memoized
from deskside.tickets import services
from deskside.tickets.models import Channel, Message, StatusKind, Ticket

SUBJECT_MAX = services.SUBJECT_MAX
NAME_MAX = 200
NO_SUBJECT = "(no subject)"
EMPTY_BODY = "(empty message)"
NOTE_MARKER = "#note"
BULK_PRECEDENCE = frozenset({"bulk", "junk", "list"})
DAEMON_NAMES = frozenset({"mailer-daemon", "postmaster"})

_SUBJECT_TICKET = re.compile(r"\[#(\d{1,18})\]")


@dataclass(frozen=True)
class Release:
    """A staff member's decision about a held message, applied instead of rules 5 and 6.

    The reviewer has looked at the message and vouches for it: the mailbox's "who may
    write" rule and the "a ticket number proves nothing" rule no longer hold it back.
    With ``ticket`` set, the message is added to that ticket; a sender who is not yet a
    participant becomes a watcher first (the reviewer decided they belong). Without it,
    the message opens a new ticket. Everything else (our own mail, bounces, automatic
    mail) is decided exactly as for any other message.
    """

    reviewer: User
    ticket: Ticket | None = None


class _Held(Exception):
    """Stop applying: mark the message with ``state`` and the plain ``reason``."""

    def __init__(self, state: str, reason: str) -> None:
        super().__init__(reason)
        self.state = state
        self.reason = reason


# --- Classifying the message -------------------------------------------------------------


def _bracketed(ids: list[str]) -> list[str]:
    return [f"<{message_id}>" for message_id in ids]


def _our_addresses() -> set[str]:
    return memoized("mail_our_addresses", _read_our_addresses)


def _read_our_addresses() -> set[str]:
    addresses = {address.lower() for address in Mailbox.objects.values_list("address", flat=True)}
    own = email.utils.parseaddr(str(settings.DEFAULT_FROM_EMAIL))[1].strip().lower()
    if own:
        addresses.add(own)
    return addresses


def _sent_by_us(message_id: str) -> bool:
    """Whether ``message_id`` (without brackets) is one of the desk's outgoing mails."""
    return memoized(
        ("mail_sent_by_us", message_id),
        lambda: OutboundMail.objects.filter(message_id=f"<{message_id}>").exists(),
    )


def is_our_own(parsed: ParsedMail) -> bool:
    """Whether this is mail Deskside itself sent, come back."""
    message_id = parsed.message_id
    if message_id is not None:
        if message_id.lower().startswith("deskside.") and message_id.lower().endswith(
            "@" + mail_domain().lower()
        ):
            return True
        if _sent_by_us(message_id):
            return True
    return parsed.from_address in _our_addresses()


def is_delivery_report(parsed: ParsedMail) -> bool:
    """A bounce (DSN), as opposed to an auto-reply that merely has a null sender."""
    local_part = parsed.from_address.split("@", 1)[0]
    return bool(
        parsed.bounce_recipients
        or parsed.bounced_message_id is not None
        or (parsed.is_bounce and local_part in DAEMON_NAMES)
    )


def is_automatic(parsed: ParsedMail) -> bool:
    """Mail that must never be answered automatically (RFC 3834 and common practice)."""
    return bool(
        parsed.auto_submitted not in ("", "no")
        or parsed.precedence in BULK_PRECEDENCE
        or parsed.list_id
        or parsed.return_path == ""
        or parsed.from_address.split("@", 1)[0] in DAEMON_NAMES
    )


# --- Who sent it ---------------------------------------------------------------------------


def find_sender(address: str) -> User | None:
    """The person one of whose addresses is ``address`` (compared case-insensitively)."""
    return _find_sender(address)[0]


def _find_sender(address: str) -> tuple[User | None, EmailAddress | None]:
    """:func:`find_sender`, with the matching address row when there is one."""
    address = address.strip().lower()
    if not address:
        return None, None
    return memoized(("mail_sender", address), lambda: _read_sender(address))


def _read_sender(address: str) -> tuple[User | None, EmailAddress | None]:
    found = EmailAddress.objects.select_related("user").filter(email=address).first()
    if found is not None:
        return found.user, found
    return User.objects.filter(email=address).first(), None


def prefetch(batch: Iterable[ParsedMail]) -> None:
    """Read what a batch of messages will ask about, in four queries instead of a few each.

    Only inside a :func:`~deskside.system.memo.memo_scope` (the intake's batch transaction),
    where the answers are remembered: who sent each message and whether any of them is
    the desk's own mail coming back. Without a scope it does nothing.
    """
    if not memo_open():
        return
    mails = list(batch)
    addresses = {p.from_address.strip().lower() for p in mails if p.from_address.strip()}
    rows = {
        row.email: row
        for row in EmailAddress.objects.select_related("user").filter(email__in=addresses)
    }
    missing = addresses - rows.keys()
    users = {user.email: user for user in User.objects.filter(email__in=missing)} if missing else {}
    for address in addresses:
        row = rows.get(address)
        memo_set(("mail_sender", address), (row.user, row) if row else (users.get(address), None))
    message_ids = {p.message_id for p in mails if p.message_id is not None}
    if message_ids:
        ours = set(
            OutboundMail.objects.filter(message_id__in=_bracketed(sorted(message_ids))).values_list(
                "message_id", flat=True
            )
        )
        for message_id in message_ids:
            memo_set(("mail_sent_by_us", message_id), f"<{message_id}>" in ours)
    _our_addresses()


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[-1].lower() if "@" in address else ""


def _check_accepted(mailbox: Mailbox | None, address: str, sender: User | None) -> None:
    if mailbox is None or mailbox.accepts_from == AcceptsFrom.ANYONE:
        return
    if mailbox.accepts_from == AcceptsFrom.KNOWN_PEOPLE:
        accepted = sender is not None
    else:
        accepted = _domain(address) in mailbox.known_domain_list()
    if not accepted:
        raise _Held(InboundState.HELD, _("Sender is not known to this mailbox."))


def _create_requester(parsed: ParsedMail) -> User:
    name = " ".join(parsed.from_name.split()) or parsed.from_address.split("@", 1)[0]
    try:
        person = person_create(
            email=parsed.from_address, full_name=name[:NAME_MAX], role=Role.REQUESTER
        )
    except ValidationError as exc:
        raise _Held(
            InboundState.HELD,
            _("No account could be made for the sender: %(reason)s")
            % {"reason": " ".join(exc.messages)},
        ) from None
    # The next message of the batch from the same address finds the new account.
    memo_set(("mail_sender", parsed.from_address.strip().lower()), (person, None))
    return person


# --- Threading -----------------------------------------------------------------------------


def _referenced_tickets(parsed: ParsedMail, inbound: InboundMessage) -> list[int]:
    """Tickets the message's references prove, most convincing first, without repeats."""
    candidates: list[int] = []
    signed = ticket_from_references(
        " ".join(_bracketed(parsed.in_reply_to)), " ".join(_bracketed(parsed.references))
    )
    if signed is not None:
        candidates.append(signed)
    # The message replied to directly first, then the thread from newest to oldest.
    ordered = [*parsed.in_reply_to, *reversed(parsed.references)]
    if ordered:
        sent = dict(
            OutboundMail.objects.filter(
                message_id__in=_bracketed(ordered), ticket__isnull=False
            ).values_list("message_id", "ticket_id")
        )
        received = dict(
            InboundMessage.objects.filter(message_id__in=ordered, ticket__isnull=False)
            .exclude(pk=inbound.pk)
            .values_list("message_id", "ticket_id")
        )
        for message_id in ordered:
            ticket_id = sent.get(f"<{message_id}>") or received.get(message_id)
            if ticket_id is not None and ticket_id not in candidates:
                candidates.append(ticket_id)
    return candidates


def find_thread(parsed: ParsedMail, inbound: InboundMessage, sender: User | None) -> Ticket | None:
    """The existing ticket this message belongs on, or None.

    Only a proven reference counts, and only to a ticket the sender may see.
    """
    if sender is None:
        return None
    for ticket_id in _referenced_tickets(parsed, inbound):
        ticket = Ticket.objects.filter(pk=ticket_id).first()
        if ticket is not None and permissions.can_view(sender, ticket):
            return ticket
    return None


def claimed_ticket(subject: str) -> int | None:
    """The ticket number a subject such as ``Re: [#1042] Printer`` claims, if any."""
    found = _SUBJECT_TICKET.search(subject)
    return int(found[1]) if found else None


# --- Applying ------------------------------------------------------------------------------


def _body(parsed: ParsedMail) -> str:
    return (parsed.trimmed_text or parsed.text).strip()


def split_note_marker(body: str) -> tuple[bool, str]:
    """Whether the first non-empty line is ``#note``, and the body without that line."""
    lines = body.split("\n")
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        if line.strip().lower() == NOTE_MARKER:
            return True, "\n".join(lines[:index] + lines[index + 1 :]).strip()
        break
    return False, body


def _reply(ticket: Ticket, sender: User, parsed: ParsedMail) -> Message:
    body = _body(parsed)
    files = parsed.attachments
    if sender.uses_console:
        is_note, body = split_note_marker(body)
        if is_note:
            return services.ticket_add_note(
                ticket=ticket,
                actor=sender,
                body=body or EMPTY_BODY,
                files=files,
                channel=Channel.EMAIL,
            )
    return services.ticket_reply(
        ticket=ticket, actor=sender, body=body or EMPTY_BODY, channel=Channel.EMAIL, files=files
    )


def _new_ticket(sender: User, parsed: ParsedMail, mailbox: Mailbox | None) -> Message:
    subject = " ".join(parsed.subject.split())[:SUBJECT_MAX].strip() or NO_SUBJECT
    _ticket, message = services.ticket_create_with_message(
        actor=sender,
        requester=sender,
        subject=subject,
        body=_body(parsed) or EMPTY_BODY,
        channel=Channel.EMAIL,
        category=mailbox.default_category if mailbox is not None else None,
        team=mailbox.default_team if mailbox is not None else None,
        files=parsed.attachments,
    )
    return message


def _mark_undeliverable(parsed: ParsedMail) -> None:
    """A permanent failure stops further notifications to that address (RFC 3464)."""
    now = timezone.now()
    for recipient in parsed.bounce_recipients:
        if recipient.is_permanent_failure:
            EmailAddress.objects.filter(email=recipient.address.strip().lower()).update(
                undeliverable_since=now,
                undeliverable_reason=f"{recipient.status} {recipient.action}"[:200],
            )


def _apply(parsed: ParsedMail, inbound: InboundMessage, release: Release | None) -> None:
    if not parsed.from_address or "@" not in parsed.from_address:
        raise _Held(InboundState.HELD, _("The message has no usable From address."))

    if is_our_own(parsed):
        raise _Held(
            InboundState.DUPLICATE,
            _("This is Deskside's own mail coming back; it was not added to the desk."),
        )

    if is_delivery_report(parsed):
        _mark_undeliverable(parsed)
        if parsed.bounced_message_id is not None:
            inbound.ticket = Ticket.objects.filter(
                outbound_mails__message_id=f"<{parsed.bounced_message_id}>"
            ).first()
        raise _Held(
            InboundState.PROCESSED,
            _("A delivery failure report; it was kept but not turned into a ticket."),
        )

    sender, address_row = _find_sender(parsed.from_address)
    if release is None:
        _check_accepted(inbound.mailbox, parsed.from_address, sender)
    if sender is not None and not sender.is_active:
        raise _Held(InboundState.HELD, _("The sender's account is switched off."))
    # They wrote from this address, so it works again. The row was just read (in this
    # transaction): only an address marked undeliverable needs the write.
    if address_row is not None and address_row.undeliverable_since is not None:
        EmailAddress.objects.filter(pk=address_row.pk, undeliverable_since__isnull=False).update(
            undeliverable_since=None, undeliverable_reason=""
        )

    ticket = find_thread(parsed, inbound, sender) if release is None else release.ticket
    if ticket is None and release is None:
        number = claimed_ticket(parsed.subject)
        if number is not None:
            raise _Held(
                InboundState.HELD,
                _(
                    "The subject names ticket #%(number)d, but the message is not a reply "
                    "to that ticket's mail from one of its participants, so it was held for "
                    "review."
                )
                % {"number": number},
            )

    automatic = is_automatic(parsed)
    if (
        automatic
        and ticket is not None
        and ticket.status_kind
        in (
            StatusKind.RESOLVED,
            StatusKind.CLOSED,
        )
    ):
        inbound.ticket = ticket
        raise _Held(
            InboundState.PROCESSED,
            _(
                "An automatic reply to a finished ticket; it was kept but does not reopen "
                "the ticket."
            ),
        )

    if sender is None:
        sender = _create_requester(parsed)
    if release is not None and ticket is not None and not permissions.can_view(sender, ticket):
        services.ticket_watcher_add(ticket=ticket, actor=release.reviewer, watcher=sender)

    muted: AbstractContextManager[None] = mail_muted() if automatic else nullcontext()
    with muted:
        if ticket is not None:
            message = _reply(ticket, sender, parsed)
        else:
            message = _new_ticket(sender, parsed, inbound.mailbox)
    inbound.ticket = message.ticket
    inbound.ticket_message = message
    inbound.state = InboundState.PROCESSED
    inbound.error = ""


def apply_to_desk(
    parsed: ParsedMail, inbound: InboundMessage, release: Release | None = None
) -> None:
    """Apply one parsed message to the desk, following the rules in this module's doc."""
    try:
        _apply(parsed, inbound, release)
    except _Held as held:
        inbound.state = held.state
        inbound.error = held.reason
