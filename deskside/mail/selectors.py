"""Reads for the email channel's health and review pages, always through the gate."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import BinaryField, Count, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone

from deskside.accounts import permissions
from deskside.accounts.models import User
from deskside.mail.models import InboundMessage, InboundState, Mailbox
from deskside.mail.parsing import HeaderSummary, header_summary
from deskside.mail.policies import may_review_mail

__all__ = ["inbound_list", "mailbox_health", "may_review_mail", "summary_of"]

# Mail that a person has to look at: it was not (or not fully) added to the desk.
ATTENTION_STATES = (InboundState.QUARANTINED, InboundState.HELD)
# An IMAP mailbox not checked for this long is reported: the worker may be down.
STALE_AFTER = timedelta(minutes=10)
RECENT = timedelta(hours=24)
# Enough of a stored message to read its headers without loading a 25 MB attachment.
HEADER_PREFIX_BYTES = 16 * 1024


@dataclass(frozen=True)
class MailboxHealth:
    """One mailbox as its health page shows it."""

    mailbox: Mailbox
    received_recently: int
    added_recently: int
    rejected_recently: int
    needs_attention: int
    last_received_at: datetime | None
    is_stale: bool

    @property
    def collects_by_imap(self) -> bool:
        return bool(self.mailbox.imap_host)

    @property
    def status(self) -> str:
        """``error``, ``warning`` or ``ok``: shown as words and colour, never colour alone."""
        if not self.mailbox.is_active:
            return "off"
        if self.mailbox.last_error and (
            self.mailbox.last_polled_at is None
            or (
                self.mailbox.last_error_at is not None
                and self.mailbox.last_error_at >= self.mailbox.last_polled_at
            )
        ):
            return "error"
        if self.is_stale or self.needs_attention:
            return "warning"
        return "ok"


def mailbox_health(user: User, *, now: datetime | None = None) -> list[MailboxHealth]:
    """Every mailbox the user may see, with its counts of the last 24 hours.

    Three grouped queries in all, whatever the number of mailboxes or messages; each reads
    the ``(state, received_at)`` index.
    """
    now = now or timezone.now()
    mailboxes = list(permissions.visible(user, Mailbox).order_by("address"))
    visible_mail = permissions.visible(user, InboundMessage)
    recent: dict[int | None, dict[str, int]] = defaultdict(dict)
    for row in (
        visible_mail.filter(received_at__gte=now - RECENT)
        .values("mailbox_id", "state")
        .annotate(n=Count("id"))
        .order_by()
    ):
        recent[row["mailbox_id"]][row["state"]] = row["n"]
    attention = dict(
        visible_mail.filter(state__in=ATTENTION_STATES)
        .values("mailbox_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("mailbox_id", "n")
    )
    latest: dict[int, datetime] = {}
    for mailbox in mailboxes:
        last = (
            visible_mail.filter(mailbox=mailbox)
            .order_by("-received_at")
            .values_list("received_at", flat=True)
            .first()
        )
        if last is not None:
            latest[mailbox.pk] = last
    result = []
    for mailbox in mailboxes:
        counts = recent.get(mailbox.pk, {})
        stale = bool(
            mailbox.is_active
            and mailbox.imap_host
            and (mailbox.last_polled_at is None or now - mailbox.last_polled_at > STALE_AFTER)
        )
        result.append(
            MailboxHealth(
                mailbox=mailbox,
                received_recently=sum(counts.values()),
                added_recently=counts.get(InboundState.PROCESSED, 0),
                rejected_recently=counts.get(InboundState.REJECTED, 0),
                needs_attention=attention.get(mailbox.pk, 0),
                last_received_at=latest.get(mailbox.pk),
                is_stale=stale,
            )
        )
    return result


def unassigned_attention_count(user: User) -> int:
    """Messages that need attention but arrived for no known mailbox (e.g. an upload)."""
    return (
        permissions.visible(user, InboundMessage)
        .filter(state__in=ATTENTION_STATES, mailbox__isnull=True)
        .count()
    )


# The lists on the review page, by the name used in its address.
INBOUND_LISTS: dict[str, tuple[str, ...]] = {
    "attention": ATTENTION_STATES,
    "rejected": (InboundState.REJECTED,),
    "all": (),
}


def inbound_list(user: User, which: str = "attention") -> QuerySet[InboundMessage]:
    """Stored messages for the review list, newest first, without their (large) bodies.

    Each row carries ``head``: the first bytes of the message, enough for its headers.
    """
    states = INBOUND_LISTS.get(which, ATTENTION_STATES)
    queryset = permissions.visible(user, InboundMessage).select_related("mailbox", "ticket")
    if states:
        queryset = queryset.filter(state__in=states)
    return (
        queryset.defer("raw")
        .annotate(head=Substr("raw", 1, HEADER_PREFIX_BYTES, output_field=BinaryField()))
        .order_by("-received_at", "-id")
    )


def summary_of(inbound: InboundMessage) -> HeaderSummary:
    """The header summary of a row from :func:`inbound_list` (or a fully loaded row)."""
    head = getattr(inbound, "head", None)
    data = bytes(head) if head is not None else bytes(inbound.raw)[:HEADER_PREFIX_BYTES]
    return header_summary(data)
