"""Tickets: one model shared by every channel, with messages, attachments and history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deskside.system.memo import memoized


class Channel(models.TextChoices):
    """How the ticket reached the desk."""

    PORTAL = "portal", _("Portal")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    API = "api", _("API")
    AGENT = "agent", _("Agent")


class StatusKind(models.TextChoices):
    """The fixed lifecycle every status maps to; rules (SLA pauses, reopening) use the kind."""

    NEW = "new", _("New")
    OPEN = "open", _("Open")
    WAITING_REQUESTER = "waiting_requester", _("Waiting on requester")
    WAITING_THIRD_PARTY = "waiting_third_party", _("Waiting on third party")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


ACTIVE_KINDS = (
    StatusKind.NEW,
    StatusKind.OPEN,
    StatusKind.WAITING_REQUESTER,
    StatusKind.WAITING_THIRD_PARTY,
)
WAITING_KINDS = (StatusKind.WAITING_REQUESTER, StatusKind.WAITING_THIRD_PARTY)


class Priority(models.IntegerChoices):
    """P1 is business-critical; lower numbers are more urgent."""

    P1 = 1, _("P1 business-critical")
    P2 = 2, _("P2 high")
    P3 = 3, _("P3 normal")
    P4 = 4, _("P4 low")


class PriorityLevel(models.Model):
    """The plain-language description of a priority, editable by an administrator."""

    priority = models.PositiveSmallIntegerField(choices=Priority.choices, unique=True)
    name = models.CharField(max_length=60)
    description = models.CharField(max_length=300)

    class Meta:
        ordering = ["priority"]

    def __str__(self) -> str:
        return f"P{self.priority} {self.name}"


class Status(models.Model):
    """A ticket status as agents see it, mapped to one lifecycle kind."""

    name = models.CharField(max_length=60, unique=True)
    kind = models.CharField(max_length=24, choices=StatusKind.choices)
    requester_label = models.CharField(
        max_length=120, help_text=_("What the requester sees, e.g. 'Waiting for you'.")
    )
    is_default_for_kind = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = _("statuses")
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(is_default_for_kind=True),
                name="tickets_one_default_status_per_kind",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    """A service people ask about: Email, Printing, Network/VPN and so on."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    default_team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    """A free label on tickets."""

    name = models.CharField(max_length=60, unique=True)

    def __str__(self) -> str:
        return self.name


class Ticket(models.Model):
    """A request for help. Its id is the human number shown everywhere as #1042."""

    subject = models.CharField(max_length=250)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tickets_requested"
    )
    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets_assigned",
    )
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.P3)
    status = models.ForeignKey(Status, on_delete=models.PROTECT, related_name="tickets")
    # Copied from status.kind so queues filter and sort on one indexed column.
    status_kind = models.CharField(max_length=24, choices=StatusKind.choices)
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets")
    watchers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="tickets_watched"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_requester_activity_at = models.DateTimeField(null=True, blank=True)
    reopen_count = models.PositiveIntegerField(default=0)
    first_contact_resolution = models.BooleanField(default=False)
    resolution_note = models.TextField(blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_tickets"
    )
    # The earliest due time among the ticket's running SLA clocks (deskside.sla keeps it);
    # NULL when none runs. On the ticket, so queues sort and filter on it with an index.
    sla_due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            # The default queue ("All I may see") sorts every visible ticket by last update.
            models.Index(fields=["-updated_at", "-id"], name="tickets_updated"),
            models.Index(fields=["-created_at", "-id"], name="tickets_created"),
            models.Index(fields=["status_kind", "-updated_at"], name="tickets_kind_updated"),
            # "Open P1 and P2" is the view a desk lives in during an incident.
            models.Index(
                fields=["status_kind", "priority", "-updated_at"], name="tickets_kind_priority"
            ),
            models.Index(fields=["team", "status_kind", "-updated_at"], name="tickets_team_kind"),
            models.Index(
                fields=["assignee", "status_kind", "-updated_at"], name="tickets_assignee_kind"
            ),
            models.Index(fields=["requester", "-created_at"], name="tickets_requester"),
            models.Index(fields=["status_kind", "resolved_at"], name="tickets_kind_resolved"),
            # "Soonest deadline first" and the At-risk queue.
            models.Index(fields=["sla_due_at", "id"], name="tickets_sla_due"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def number(self) -> str:
        return f"#{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status_kind in ACTIVE_KINDS


class MessageKind(models.TextChoices):
    """Who a message is for."""

    PUBLIC = "public", _("Reply")
    NOTE = "note", _("Internal note")
    SYSTEM = "system", _("System event")


class Message(models.Model):
    """One entry in a ticket's conversation: a reply the requester sees, or an internal note."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=10, choices=MessageKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ticket_messages",
    )
    # What a person typed (Markdown) and its sanitised HTML, rendered once when saved.
    body = models.TextField()
    body_html = models.TextField()
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.AGENT)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="tickets_msg_ticket")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on #{self.ticket_id}"


def attachment_path(instance: Attachment, filename: str) -> str:
    # Never the uploaded name: the stored name is the row's random key, outside any public URL.
    return f"attachments/{instance.ticket_id}/{instance.key}"


class Attachment(models.Model):
    """A file attached to a ticket message, served only through the permission gate."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    key = models.CharField(max_length=40, unique=True)
    file = models.FileField(upload_to=attachment_path, max_length=200)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.filename


class TicketEvent(models.Model):
    """One change to a ticket: who, when, what, from and to. The timeline is built from these."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=40)
    field = models.CharField(max_length=40, blank=True)
    old_value = models.CharField(max_length=250, blank=True)
    new_value = models.CharField(max_length=250, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["ticket", "at"], name="tickets_event_ticket")]

    def __str__(self) -> str:
        return f"{self.action} on #{self.ticket_id}"


class LinkKind(models.TextChoices):
    """How two tickets relate."""

    RELATED = "related", _("Related to")
    DUPLICATE = "duplicate", _("Duplicate of")
    PARENT = "parent", _("Parent of")


class TicketLink(models.Model):
    """A link from one ticket to another. For 'parent', source is the parent, target the child."""

    source = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(max_length=12, choices=LinkKind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "target", "kind"], name="tickets_link_once"),
            models.CheckConstraint(
                condition=~Q(source=models.F("target")), name="tickets_link_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.source_id} {self.kind} #{self.target_id}"


class CannedReply(models.Model):
    """A reusable reply. Placeholders such as {first_name} are filled in safely."""

    title = models.CharField(max_length=120, unique=True)
    body = models.TextField()
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        ordering = ["title"]
        verbose_name_plural = _("canned replies")

    def __str__(self) -> str:
        return self.title


class SavedFilter(models.Model):
    """A queue filter an agent saved under a name."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_filters"
    )
    name = models.CharField(max_length=80)
    query = models.CharField(max_length=1000, help_text=_("The queue's query string."))

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="tickets_filter_name_once")
        ]

    def __str__(self) -> str:
        return self.name


class TicketSettings(models.Model):
    """Desk-wide ticket rules an administrator may change while the desk runs (one row)."""

    reopen_days = models.PositiveIntegerField(
        default=7,
        help_text=_("A requester reply within this many days of resolution reopens the ticket."),
    )
    autoclose_days = models.PositiveIntegerField(
        default=5, help_text=_("Resolved tickets close by themselves after this many days.")
    )
    max_attachment_mb = models.PositiveIntegerField(default=25)
    max_attachments_per_message = models.PositiveIntegerField(default=10)

    class Meta:
        verbose_name = _("ticket settings")
        verbose_name_plural = _("ticket settings")

    def __str__(self) -> str:
        return "Ticket settings"

    @classmethod
    def current(cls) -> TicketSettings:
        """The one settings row (read once per :func:`~deskside.system.memo.memo_scope`)."""

        def read() -> TicketSettings:
            found, _created = cls.objects.get_or_create(pk=1)
            return found

        return memoized("ticket_settings", read)
