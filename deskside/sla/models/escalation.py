"""The escalation ladder: rules that say who hears about an aging ticket, and when.

A rule picks tickets (by priority, category, VIP requester) and holds ordered steps. Each
step fires once per ticket, either when the ticket reaches an age in business time or when
one of its SLA clocks is breached, and tells people (by role, by name, or the requester's
head of department) by email and optionally through a chat webhook. A step may also raise
the priority or hand the ticket to another team.

Per ticket, :class:`TicketEscalation` holds where it stands on its ladder and the one due
time the run reads (``next_step_at``, indexed), so the run never scans open tickets.
:class:`EscalationNotice` records each step taken; its unique key is what makes two
overlapping runs fire a step once.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

__all__ = [
    "EscalationNotice",
    "EscalationRole",
    "EscalationRule",
    "EscalationStep",
    "TicketEscalation",
    "WebhookState",
]


class EscalationRole(models.TextChoices):
    """People a step can notify by what they do rather than by name."""

    TEAM_LEAD = "team_lead", _("Lead of the ticket's team")
    IT_MANAGERS = "it_managers", _("IT managers")
    EXECUTIVES = "executives", _("Executives")
    ADMINS = "admins", _("Administrators")


class EscalationRule(models.Model):
    """Which tickets climb a ladder. Rules are tried in order; the first match applies.

    An empty condition matches everything.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    priorities = models.JSONField(
        _("priorities"), default=list, blank=True, help_text=_("Such as [1, 2]. Empty: any.")
    )
    categories = models.ManyToManyField(
        "tickets.Category", verbose_name=_("categories"), blank=True, related_name="+"
    )
    vip_only = models.BooleanField(
        _("only for VIP requesters"), default=False, help_text=_("Match only VIP requesters.")
    )
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("escalation rule")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        bad = [p for p in self.priorities or [] if p not in (1, 2, 3, 4)]
        if not isinstance(self.priorities, list) or bad:
            raise ValidationError(
                {"priorities": gettext("List priorities as numbers from 1 to 4, such as [1, 2].")}
            )


def validate_webhook_url(value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(
            gettext("The webhook address must start with https:// (or http://)."),
            code="bad_webhook_url",
        )


class EscalationStep(models.Model):
    """One rung: when it fires, whom it tells, and what it changes on the ticket."""

    rule = models.ForeignKey(EscalationRule, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(_("order"), default=1)
    # When: an age in business minutes since the ticket was opened, or an SLA breach.
    after_minutes = models.PositiveIntegerField(
        _("after (business minutes)"),
        null=True,
        blank=True,
        help_text=_("Counted on the ticket's SLA calendar; around the clock if it has none."),
    )
    on_breach = models.BooleanField(
        _("when an SLA target is missed"),
        default=False,
        help_text=_("Instead of an age: fire as soon as any SLA target of the ticket is missed."),
    )
    # Whom.
    notify_roles = models.JSONField(
        _("roles to notify"),
        default=list,
        blank=True,
        help_text=_("Any of: team_lead, it_managers, executives, admins."),
    )
    notify_person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person to notify"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    notify_department_head = models.BooleanField(
        _("notify the requester's head of department"), default=False
    )
    webhook_url = models.URLField(
        _("chat webhook"),
        max_length=500,
        blank=True,
        validators=[validate_webhook_url],
        help_text=_("A Slack or Teams incoming-webhook address. Email is always sent."),
    )
    # What it changes.
    raise_priority_to = models.PositiveSmallIntegerField(
        _("raise priority to"),
        null=True,
        blank=True,
        choices=[(1, "P1"), (2, "P2"), (3, "P3"), (4, "P4")],
    )
    reassign_team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("hand to team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reason = models.CharField(
        _("what is needed"),
        max_length=200,
        blank=True,
        help_text=_(
            "Shown to the people told, such as “No first response after 30 minutes”. "
            "Empty: Deskside writes one."
        ),
    )

    class Meta:
        ordering = ["rule", "position", "id"]
        verbose_name = _("escalation step")
        constraints = [
            models.UniqueConstraint(fields=["rule", "position"], name="sla_step_position_once")
        ]

    def __str__(self) -> str:
        if self.on_breach:
            return gettext("Step %(n)s: on breach") % {"n": self.position}
        return gettext("Step %(n)s: after %(m)s minutes") % {
            "n": self.position,
            "m": self.after_minutes,
        }

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not self.on_breach and (self.after_minutes is None or self.after_minutes <= 0):
            errors["after_minutes"] = gettext(
                "Give an age of at least one minute, or choose “when an SLA target is missed”."
            )
        roles = self.notify_roles
        if not isinstance(roles, list) or any(r not in EscalationRole.values for r in roles):
            errors["notify_roles"] = gettext(
                "List roles from: team_lead, it_managers, executives, admins."
            )
        elif not roles and self.notify_person_id is None and not self.notify_department_head:
            errors["notify_roles"] = gettext("Choose at least one person or role to notify.")
        if self.webhook_url:
            try:
                validate_webhook_url(self.webhook_url)
            except ValidationError as exc:
                errors["webhook_url"] = exc.messages[0]
        if errors:
            raise ValidationError(errors)


class TicketEscalation(models.Model):
    """Where one ticket stands on its ladder, and when the run must look at it next.

    ``steps_done`` is the position of the last step reached (0: none yet). Once a step has
    fired the ticket keeps its rule, so a step's own action (raising the priority) cannot
    move it onto another ladder halfway up.
    """

    ticket = models.OneToOneField(
        "tickets.Ticket", primary_key=True, on_delete=models.CASCADE, related_name="escalation"
    )
    rule = models.ForeignKey(EscalationRule, on_delete=models.CASCADE, related_name="+")
    # Bumped when the ladder starts again on another rule, so its steps can fire afresh.
    cycle = models.PositiveIntegerField(default=0)
    steps_done = models.PositiveSmallIntegerField(default=0)
    # NULL: nothing to do until something changes (acknowledged, waiting for a breach, or
    # at the top of the ladder). The run reads only this index.
    next_step_at = models.DateTimeField(null=True, db_index=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The newest SLA breach the ladder has taken into account (a later one resumes it).
    last_breach_seen_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("ticket escalation")

    def __str__(self) -> str:
        return f"Escalation of #{self.ticket_id}"


class WebhookState(models.TextChoices):
    NONE = "", _("No webhook")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class EscalationNotice(models.Model):
    """One step taken for one ticket; recorded once, whatever runs overlap."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    step = models.ForeignKey(EscalationStep, on_delete=models.CASCADE, related_name="notices")
    cycle = models.PositiveIntegerField(default=0)
    fired_at = models.DateTimeField(default=now)
    # Who was told, as shown on the timeline ("Lena Lead (team lead)").
    recipients = models.TextField(blank=True)
    webhook_state = models.CharField(
        max_length=8, choices=WebhookState.choices, default=WebhookState.NONE, blank=True
    )
    webhook_error = models.TextField(blank=True)

    class Meta:
        ordering = ["fired_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "step", "cycle"], name="sla_escalation_step_once"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.ticket_id} {self.step}"
