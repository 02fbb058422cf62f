"""What Deskside mailed, to whom, and whether it went.

Every outgoing mail is recorded before it is sent, with the Message-ID Deskside made for
it. That record lets a reply's In-Reply-To or References be matched to its ticket later,
lets a failed send be retried with exactly the same content, and shows an administrator
what was suppressed and why.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["OutboundKind", "OutboundMail", "OutboundState", "SuppressedReason"]


class OutboundKind(models.TextChoices):
    """Why the mail was sent."""

    ACKNOWLEDGEMENT = "acknowledgement", _("New request received")
    AGENT_REPLY = "agent_reply", _("Reply from IT")
    STATUS_CHANGE = "status_change", _("Status change")
    RESOLUTION = "resolution", _("Resolution")
    ASSIGNMENT = "assignment", _("Assigned to an agent")
    NEW_REPLY_FOR_AGENT = "new_reply_for_agent", _("New reply, to the agent")
    TOO_LARGE = "too_large", _("Message too large, to its sender")
    ESCALATION_DIGEST = "escalation_digest", _("Escalated tickets, to the people told")


class OutboundState(models.TextChoices):
    """Where the mail is on its way out."""

    QUEUED = "queued", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    # The last attempt failed. The job tries again with growing pauses until it gives up.
    FAILED = "failed", _("Failed")
    SUPPRESSED = "suppressed", _("Not sent on purpose")


class SuppressedReason(models.TextChoices):
    """Why a mail was deliberately not sent."""

    INACTIVE = "inactive", _("The person's account is switched off")
    RATE_LIMITED = "rate_limited", _("Too many automatic mails to this address lately")
    UNDELIVERABLE = "undeliverable", _("Mail to this address bounced permanently")


class OutboundMail(models.Model):
    """One mail Deskside sends (or chose not to send), with its Message-ID and content."""

    ticket = models.ForeignKey(
        "tickets.Ticket",
        null=True,
        blank=True,
        # The record outlives the ticket so a late reply can still be recognised as ours.
        on_delete=models.SET_NULL,
        related_name="outbound_mails",
    )
    # Named so its column does not collide with message_id, the Message-ID header below.
    ticket_message = models.ForeignKey(
        "tickets.Message",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outbound_mails",
    )
    kind = models.CharField(_("kind"), max_length=24, choices=OutboundKind.choices)
    to_address = models.EmailField(_("to"), max_length=254)
    to_name = models.CharField(_("to (name)"), max_length=200, blank=True)
    subject = models.CharField(_("subject"), max_length=500)
    # Exactly the header value, angle brackets included, so a reply's headers match as-is.
    message_id = models.CharField(_("Message-ID"), max_length=250, unique=True)
    # The Message-IDs this mail refers back to, oldest first, separated by spaces.
    references = models.TextField(_("references"), blank=True)
    auto_submitted = models.CharField(max_length=20, default="auto-generated")
    body_text = models.TextField(_("text"))
    body_html = models.TextField(_("HTML"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    state = models.CharField(
        _("state"), max_length=12, choices=OutboundState.choices, default=OutboundState.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    suppressed_reason = models.CharField(
        _("why not sent"), max_length=20, choices=SuppressedReason.choices, blank=True
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("outgoing mail")
        verbose_name_plural = _("outgoing mail")
        indexes = [
            # Building References walks a ticket's earlier mail to one address.
            models.Index(fields=["ticket", "to_address", "created_at"], name="mail_out_thread"),
            models.Index(fields=["state", "created_at"], name="mail_out_state"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.to_address} ({self.get_state_display()})"
