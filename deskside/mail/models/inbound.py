"""Inbound mail: the mailboxes Deskside reads, and every message that came in through them.

Every message is stored here, raw and byte for byte, before anything else happens to it,
so a crash, a parser bug or a database hiccup later in the pipeline never loses mail.
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

__all__ = [
    "AcceptsFrom",
    "AfterImport",
    "ImapSecurity",
    "InboundMessage",
    "InboundSource",
    "InboundState",
    "Mailbox",
]


class AcceptsFrom(models.TextChoices):
    """Who may open tickets by writing to a mailbox."""

    ANYONE = "anyone", _("Anyone")
    KNOWN_PEOPLE = "known_people", _("Only people Deskside already knows")
    KNOWN_DOMAINS = "known_domains", _("Only addresses in the listed domains")


class ImapSecurity(models.TextChoices):
    """How the IMAP connection is protected."""

    NONE = "none", _("None (only for a server on this machine)")
    STARTTLS = "starttls", _("STARTTLS")
    TLS = "tls", _("TLS")


class AfterImport(models.TextChoices):
    """What happens to a message on the IMAP server once Deskside has safely stored it."""

    MOVE = "move", _("Move it to a folder")
    DELETE = "delete", _("Delete it")


class Mailbox(models.Model):
    """An email address the desk receives mail at, and how Deskside collects that mail.

    The IMAP password is never kept in the database. ``imap_password_file`` names a file
    readable only by the Deskside service (the same ``*_FILE`` convention the settings
    use), so a database dump or backup never contains a mail password, and no encryption
    key has to be managed next to the data it protects.
    """

    address = models.EmailField(_("address"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    default_team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("default team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mailboxes",
    )
    default_category = models.ForeignKey(
        "tickets.Category",
        verbose_name=_("default category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mailboxes",
    )
    accepts_from = models.CharField(
        _("accepts mail from"),
        max_length=16,
        choices=AcceptsFrom.choices,
        default=AcceptsFrom.ANYONE,
    )
    known_domains = models.TextField(
        _("known domains"),
        blank=True,
        help_text=_(
            "One domain per line, such as example.com. Used when the mailbox accepts mail "
            "only from known domains."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)

    # IMAP collection. Blank host means mail arrives another way (the SMTP/LMTP listener).
    imap_host = models.CharField(_("IMAP server"), max_length=255, blank=True)
    imap_port = models.PositiveIntegerField(
        _("IMAP port"),
        null=True,
        blank=True,
        help_text=_("Leave empty for the usual port: 993 with TLS, 143 otherwise."),
    )
    imap_security = models.CharField(
        _("IMAP security"), max_length=10, choices=ImapSecurity.choices, default=ImapSecurity.TLS
    )
    imap_username = models.CharField(_("IMAP username"), max_length=255, blank=True)
    imap_password_file = models.CharField(
        _("IMAP password file"),
        max_length=500,
        blank=True,
        help_text=_(
            "The full path of a file that holds the password, readable by Deskside. "
            "The password itself is never stored in the database."
        ),
    )
    imap_folder = models.CharField(_("IMAP folder"), max_length=255, default="INBOX")
    after_import = models.CharField(
        _("after import"), max_length=10, choices=AfterImport.choices, default=AfterImport.MOVE
    )
    move_to_folder = models.CharField(
        _("move to folder"), max_length=255, blank=True, default="Deskside"
    )

    # Health, shown to administrators so a silent mailbox is noticed.
    last_polled_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["address"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>" if self.name else self.address

    def save(self, *args: object, **kwargs: object) -> None:
        # Addresses are compared case-insensitively everywhere; store one spelling.
        self.address = self.address.strip().lower()
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.imap_host:
            if not self.imap_username:
                errors["imap_username"] = gettext("Enter the username for the IMAP server.")
            if not self.imap_password_file:
                errors["imap_password_file"] = gettext(
                    "Enter the path of the file that holds the IMAP password."
                )
            elif not Path(self.imap_password_file).is_absolute():
                errors["imap_password_file"] = gettext(
                    "Give the full path, starting with /, so it does not depend on where "
                    "Deskside was started."
                )
            if self.after_import == AfterImport.MOVE and not self.move_to_folder.strip():
                errors["move_to_folder"] = gettext("Enter the folder to move imported mail to.")
        if self.accepts_from == AcceptsFrom.KNOWN_DOMAINS and not self.known_domain_list():
            errors["known_domains"] = gettext("List at least one domain, one per line.")
        if errors:
            raise ValidationError(errors)

    @property
    def effective_imap_port(self) -> int:
        if self.imap_port:
            return self.imap_port
        return 993 if self.imap_security == ImapSecurity.TLS else 143

    def known_domain_list(self) -> list[str]:
        """The known domains, lower-cased, with blanks, ``@`` and comments removed."""
        domains = []
        for line in self.known_domains.splitlines():
            domain = line.split("#", 1)[0].strip().lstrip("@").lower()
            if domain:
                domains.append(domain)
        return domains

    def read_imap_password(self) -> str:
        """The IMAP password from its file; raises ``OSError`` with the reason if unreadable."""
        return Path(self.imap_password_file).read_text(encoding="utf-8").strip()


class InboundSource(models.TextChoices):
    """How a message reached Deskside."""

    IMAP = "imap", _("IMAP")
    LMTP = "lmtp", _("LMTP")
    SMTP = "smtp", _("SMTP")
    UPLOAD = "upload", _("Upload")


class InboundState(models.TextChoices):
    """Where a message is in the intake pipeline."""

    RECEIVED = "received", _("Received, not yet processed")
    PROCESSED = "processed", _("Processed")
    QUARANTINED = "quarantined", _("Quarantined (could not be processed)")
    HELD = "held", _("Held for review")
    # Kept for the apply step: a stored message it recognises as a copy of one already
    # on the desk (e.g. Deskside's own mail coming back). Storage-level duplicates are
    # never stored at all.
    DUPLICATE = "duplicate", _("Duplicate")
    REJECTED = "rejected", _("Rejected")


class InboundMessage(models.Model):
    """One email as received: its exact bytes, how it arrived, and what became of it.

    A message is never imported twice: the same Message-ID, or, when the message has
    none, the same content hash, is refused by the database itself (two partial unique
    constraints), so even two intakes racing on one message store it once.
    """

    mailbox = models.ForeignKey(
        Mailbox,
        null=True,
        blank=True,
        # Deleting a mailbox must not delete the mail it received.
        on_delete=models.SET_NULL,
        related_name="inbound_messages",
    )
    source = models.CharField(max_length=10, choices=InboundSource.choices)
    raw = models.BinaryField()
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    # Normalised (no angle brackets or whitespace). The partial unique index below also
    # serves every lookup by Message-ID, since such lookups never ask for NULL.
    # NULL, not "", for "no Message-ID": the unique constraints depend on it.
    message_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    # The SMTP/LMTP envelope, when known: a null sender ("") is how bounces arrive.
    envelope_sender = models.CharField(max_length=320, blank=True)
    envelope_recipients = models.TextField(blank=True, help_text=_("One address per line."))
    received_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(
        max_length=12, choices=InboundState.choices, default=InboundState.RECEIVED
    )
    error = models.TextField(blank=True)
    # When the pipeline last finished with the message, whatever the outcome.
    processed_at = models.DateTimeField(null=True, blank=True)
    # Counted before each attempt is made, so a message that kills the worker outright is
    # recognised on the next try and quarantined instead of crashing workers forever.
    attempts = models.PositiveSmallIntegerField(default=0)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_emails",
    )
    # Not called "message": its column would be "message_id", the Message-ID header's.
    ticket_message = models.ForeignKey(
        "tickets.Message",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_emails",
    )
    # Who last released, re-ran or dismissed a held or quarantined message, and when.
    reviewed_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("inbound message")
        constraints = [
            models.UniqueConstraint(
                fields=["message_id"],
                condition=Q(message_id__isnull=False),
                name="mail_inbound_unique_message_id",
            ),
            models.UniqueConstraint(
                fields=["sha256"],
                condition=Q(message_id__isnull=True),
                name="mail_inbound_unique_hash_without_id",
            ),
        ]
        indexes = [
            # The quarantine list, mailbox health counts and the sweep of stuck messages.
            models.Index(fields=["state", "received_at"], name="mail_inbound_state"),
        ]

    def __str__(self) -> str:
        return f"{self.message_id or self.sha256[:12]} ({self.get_state_display()})"
