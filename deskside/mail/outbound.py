"""Building, recording and sending Deskside's own mail.

Threading. Every mail gets a Message-ID of the form
``<deskside.{ticket}.{mac}.{random}@{domain of DESKSIDE_BASE_URL}>`` where
``{ticket}.{mac}`` is the signed reply token from :mod:`deskside.lib.tokens`. Mail
clients copy it into the In-Reply-To and References of a reply, so the token comes back
without anyone having to keep a special address or subject intact. That is why the token
lives in the Message-ID rather than in a ``+token`` reply address: plus-addressing is
switched off on many company mail servers, and References survive every common client.
The same token is also sent as ``X-Deskside-Reply-Token`` for people reading the source,
but intake must never trust that header (inbound control headers are ignored); it
verifies the token found in the references with :func:`ticket_from_references`.
The subject carries ``[#1042]`` once, as a readable fallback.

Safety. Header values are checked before anything is sent: no line breaks or other
control characters, and a bounded length; a bad value raises :class:`UnsafeHeaderError`
and the mail is recorded as failed, never sent. Bodies come only from fixed templates,
with people's words passed in as context (escaped in HTML); nothing a person wrote is
ever rendered as a template.

Loop safety (RFC 3834). Every mail says ``Auto-Submitted: auto-generated``, or
``auto-replied`` for the acknowledgement of an incoming email, plus
``X-Auto-Response-Suppress: All`` so Exchange and Outlook do not send out-of-office
replies back.
"""

from __future__ import annotations

import logging
import re
import secrets
import smtplib
import unicodedata
from collections.abc import Iterable
from email.headerregistry import Address
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.validators import validate_email
from django.db.models import F
from django.utils import timezone

from deskside.lib.tokens import ticket_from_reply_token, ticket_reply_token
from deskside.mail.models import OutboundKind, OutboundMail, OutboundState
from deskside.tickets.models import Message, Ticket

logger = logging.getLogger(__name__)

# RFC 5322's hard limit for one line. Folding could allow more, but no honest header of
# ours comes near it, so anything longer is treated as an attack or a bug.
HEADER_MAX = 998
SUBJECT_MAX = 500
NAME_MAX = 200
# References keeps the thread's first mail and the most recent ones (as RFC 5322
# suggests), so a long conversation does not grow the header without bound.
REFERENCES_RECENT = 8

AUTO_GENERATED = "auto-generated"
AUTO_REPLIED = "auto-replied"

_TICKET_TAG = re.compile(r"[ \t]*\[#\d+\][ \t]*")
_OUR_MESSAGE_ID = re.compile(r"<deskside\.(\d{1,18}\.[0-9a-fA-F]+)\.[0-9a-fA-F]+@[^<>\s]+>")
# Tab is the one control character a header may hold; everything else that Python's
# splitlines() or a mail server could read as a line break is refused.
_ALLOWED_CONTROL = {"\t"}


class UnsafeHeaderError(ValueError):
    """A header value could smuggle in other headers, or is far too long to be genuine."""


def validate_header(name: str, value: str, *, max_length: int = HEADER_MAX) -> str:
    """Return ``value`` unchanged if it is safe as the value of header ``name``."""
    for char in value:
        if char not in _ALLOWED_CONTROL and unicodedata.category(char) in {"Cc", "Zl", "Zp"}:
            raise UnsafeHeaderError(
                f"The {name} header contains a line break or control character "
                f"({char!r}); the mail was not sent."
            )
    if len(value) > max_length:
        raise UnsafeHeaderError(
            f"The {name} header is {len(value)} characters long, more than the {max_length} "
            "allowed; the mail was not sent."
        )
    return value


def mail_domain() -> str:
    """The right-hand side of our Message-IDs: the desk's own host name."""
    host = urlsplit(settings.BASE_URL).hostname or "localhost"
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return "localhost"


def make_message_id(ticket_id: int | None) -> str:
    unique = secrets.token_hex(8)
    if ticket_id is None:
        return f"<deskside.{unique}@{mail_domain()}>"
    return f"<deskside.{ticket_reply_token(ticket_id)}.{unique}@{mail_domain()}>"


def ticket_from_message_id(message_id: str) -> int | None:
    """The ticket a Message-ID of ours belongs to, if its signed token checks out."""
    found = _OUR_MESSAGE_ID.fullmatch(message_id.strip())
    return ticket_from_reply_token(found[1]) if found else None


def ticket_from_references(*header_values: str | None) -> int | None:
    """The ticket named by the newest genuine Deskside Message-ID in the given headers.

    Pass In-Reply-To and References as they arrived. Forged or altered ids are skipped;
    None means the mail refers to no ticket of ours.
    """
    found: int | None = None
    for value in header_values:
        for match in _OUR_MESSAGE_ID.finditer(value or ""):
            ticket_id = ticket_from_reply_token(match[1])
            if ticket_id is not None:
                found = ticket_id
    return found


def ticket_subject(ticket_id: int, text: str) -> str:
    """``[#1042] text``, with any ticket tags already in ``text`` removed so ours is the only
    one: a second tag would make threading by subject ambiguous."""
    return f"[#{ticket_id}] {_TICKET_TAG.sub(' ', text).strip()}"


def _thread_references(ticket_id: int, to_address: str) -> list[str]:
    earlier = list(
        OutboundMail.objects.filter(ticket_id=ticket_id, to_address=to_address)
        .exclude(state=OutboundState.SUPPRESSED)
        .order_by("created_at", "id")
        .values_list("message_id", flat=True)
    )
    if len(earlier) <= REFERENCES_RECENT + 1:
        return earlier
    return [earlier[0], *earlier[-REFERENCES_RECENT:]]


def outbound_record(
    *,
    kind: str,
    ticket: Ticket | None,
    to_address: str,
    to_name: str,
    subject: str,
    body_text: str,
    body_html: str,
    message: Message | None = None,
    suppressed_reason: str = "",
) -> OutboundMail:
    """Save one mail to send (or a suppressed one), threaded after the ticket's earlier mail.

    References are chained to earlier mail to the same address only: that is the thread
    the recipient's mail client actually holds.
    """
    auto_submitted = AUTO_GENERATED
    if kind == OutboundKind.ACKNOWLEDGEMENT and ticket is not None and ticket.channel == "email":
        auto_submitted = AUTO_REPLIED  # it answers the requester's own incoming email
    references = _thread_references(ticket.pk, to_address) if ticket is not None else []
    return OutboundMail.objects.create(
        ticket=ticket,
        ticket_message=message,
        kind=kind,
        to_address=to_address,
        to_name=to_name[:NAME_MAX],
        subject=(ticket_subject(ticket.pk, subject) if ticket is not None else subject)[
            :SUBJECT_MAX
        ],
        message_id=make_message_id(ticket.pk if ticket is not None else None),
        references=" ".join(references),
        auto_submitted=auto_submitted,
        body_text=body_text,
        body_html=body_html,
        state=OutboundState.SUPPRESSED if suppressed_reason else OutboundState.QUEUED,
        suppressed_reason=suppressed_reason,
    )


def _recipient(outbound: OutboundMail) -> str:
    try:
        validate_email(outbound.to_address)
    except ValidationError:
        raise UnsafeHeaderError(
            f"{outbound.to_address!r} is not a usable email address; the mail was not sent."
        ) from None
    validate_header("To", outbound.to_name, max_length=NAME_MAX)
    return str(Address(display_name=outbound.to_name, addr_spec=outbound.to_address))


def build_email(outbound: OutboundMail) -> EmailMultiAlternatives:
    """The mail as Django will send it. Raises UnsafeHeaderError on any unsafe value."""
    headers = {
        "Message-ID": outbound.message_id,
        "Auto-Submitted": outbound.auto_submitted,
        "X-Auto-Response-Suppress": "All",
    }
    references = outbound.references.split()
    if references:
        headers["In-Reply-To"] = references[-1]
        headers["References"] = " ".join(references)
    if outbound.ticket_id is not None:
        headers["X-Deskside-Reply-Token"] = ticket_reply_token(outbound.ticket_id)
    for name, value in headers.items():
        validate_header(name, value)
    email = EmailMultiAlternatives(
        subject=validate_header("Subject", outbound.subject, max_length=SUBJECT_MAX),
        body=outbound.body_text,
        from_email=validate_header("From", settings.DEFAULT_FROM_EMAIL),
        to=[_recipient(outbound)],
        headers=headers,
    )
    email.attach_alternative(outbound.body_html, "text/html")
    return email


def _is_permanent(exc: Exception) -> bool:
    """A 5xx answer means trying again will not help (unknown mailbox, refused sender)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _text in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


# Mail in any other state was sent already, or is not to be sent.
_SENDABLE = frozenset({OutboundState.QUEUED, OutboundState.FAILED})


def _record_failure(outbound: OutboundMail, exc: Exception) -> bool:
    """Record that sending ``outbound`` failed with ``exc``; whether it may work later."""
    OutboundMail.objects.filter(pk=outbound.pk).update(
        state=OutboundState.FAILED, attempts=F("attempts") + 1, last_error=_describe(exc)
    )
    if _is_permanent(exc):
        logger.warning("Mail server refused outgoing mail %s for good: %s", outbound.pk, exc)
        return False
    return True


def _send(outbound: OutboundMail, connection: BaseEmailBackend | None) -> bool:
    rows = OutboundMail.objects.filter(pk=outbound.pk)
    try:
        email = build_email(outbound)
        # None: Django's default backend, with a connection opened for this mail alone.
        email.connection = connection
        email.send()
    except UnsafeHeaderError as exc:
        logger.error("Outgoing mail %s was not sent: %s", outbound.pk, exc)
        rows.update(state=OutboundState.FAILED, attempts=F("attempts") + 1, last_error=str(exc))
        return False
    except Exception as exc:
        if not _record_failure(outbound, exc):
            return False
        raise
    rows.update(
        state=OutboundState.SENT, attempts=F("attempts") + 1, last_error="", sent_at=timezone.now()
    )
    return True


def outbound_deliver(outbound_id: int, *, connection: BaseEmailBackend | None = None) -> bool:
    """Send one recorded mail. Returns True when it went, or when there is nothing to do.

    No transaction is held while talking to the mail server: on SQLite that would block
    every other write for as long as the server takes. A temporary failure is recorded
    and re-raised so the job retries it; a permanent one is recorded and not retried.
    ``connection``: an open connection to send it over (see :func:`outbound_deliver_many`);
    by default one is opened for this mail and closed again.
    """
    outbound = OutboundMail.objects.filter(pk=outbound_id).first()
    if outbound is None or outbound.state not in _SENDABLE:
        return True
    return _send(outbound, connection)


def _close_quietly(connection: BaseEmailBackend) -> None:
    try:
        connection.close()
    except Exception:
        # Closing is a courtesy to the server: a conversation that broke is simply dropped.
        logger.info("Closing the connection to the mail server failed", exc_info=True)


def outbound_deliver_many(outbound_ids: Iterable[int]) -> list[int]:
    """Send recorded mails over one connection to the mail server; the ids to try again.

    Each mail is sent and recorded as :func:`outbound_deliver` does, one after the other,
    so a burst of acknowledgements costs one connection (and TLS handshake and login)
    rather than one each. Returned, for the caller to retry one by one: the mails that
    failed for a reason that may pass, their error recorded. After such a failure the
    connection is closed, in case the server dropped the conversation, and opened afresh
    for the next mail. When it cannot be opened at all, the mails still to send are
    recorded as failed with that error, as each would have been on its own, rather than
    each waiting for an unreachable server in turn.
    """
    outbound_ids = list(outbound_ids)
    retry: list[int] = []
    unreachable: Exception | None = None
    # Read together: the rows were recorded by the job that queued this one, for it alone.
    rows = OutboundMail.objects.in_bulk(outbound_ids)
    connection = get_connection()
    try:
        for outbound_id in outbound_ids:
            try:
                outbound = rows.get(outbound_id)
                if outbound is None or outbound.state not in _SENDABLE:
                    continue
                if unreachable is None:
                    try:
                        connection.open()  # once: nothing happens while it is open
                    except Exception as exc:
                        unreachable = exc
                if unreachable is not None:
                    if _record_failure(outbound, unreachable):
                        retry.append(outbound_id)
                    continue
                _send(outbound, connection)
            except Exception as exc:
                logger.warning("Outgoing mail %s was not sent, for now: %s", outbound_id, exc)
                retry.append(outbound_id)
                _close_quietly(connection)
    finally:
        _close_quietly(connection)
    if unreachable is not None:
        logger.warning("Could not reach the mail server: %s", unreachable)
    return retry
