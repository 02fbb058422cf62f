"""The escalation ladder: telling the right people, in order, before a ticket goes stale.

How it runs:

- :func:`escalation_ticket_changed` is called whenever a ticket is created or changes
  (from :func:`deskside.sla.services.sla_ticket_changed`, inside the caller's
  transaction). It picks the ticket's rule, creates or updates its
  :class:`TicketEscalation` row and computes ``next_step_at`` in business time. Tickets
  no rule matches get no row.
- :func:`escalation_run` runs after every SLA sweep. It reads only rows whose
  ``next_step_at`` has passed, plus the tickets the sweep just found breached (for
  "on breach" steps, and to resume an acknowledged ladder). Due steps fire in order; each
  fires once per ticket, guaranteed by the unique key on :class:`EscalationNotice`.
- Everyone told in a run gets ONE digest mail listing all their tickets, so a bad morning
  is one mail per person, not one per ticket. Chat webhooks get one short post per step,
  sent after the transaction commits (no lock is held while a chat service answers), and
  a failing webhook is recorded on the notice, never raised into the sweep.
- Acknowledging stops the ladder for that ticket until its next SLA breach.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from deskside.accounts import permissions
from deskside.accounts.models import EmailAddress, Role, User
from deskside.mail.models import OutboundKind, OutboundState, SuppressedReason
from deskside.mail.notifications import render_mail
from deskside.mail.outbound import outbound_record
from deskside.sla.businesstime import (
    TWENTY_FOUR_SEVEN,
    Schedule,
    add_business_minutes,
    business_minutes_between,
)
from deskside.sla.models import (
    Clock,
    EscalationNotice,
    EscalationRole,
    EscalationRule,
    EscalationStep,
    SlaEvent,
    SlaPolicy,
    TicketEscalation,
    TicketSla,
    WebhookState,
)
from deskside.sla.services import (
    active_policies,
    configuration_version,
    local_cache_clearers,
    sla_ticket_changed,
)
from deskside.tickets.models import MessageKind, StatusKind, Ticket, TicketEvent

logger = logging.getLogger(__name__)

STOPPED_KINDS = frozenset({StatusKind.RESOLVED, StatusKind.CLOSED})
BREACH = 100
RUN_BATCH = 500
WEBHOOK_TIMEOUT_SECONDS = 5
SNIPPET_CHARS = 160

# Roles a step names, and the account role whose active holders are told.
ROLE_PEOPLE = {
    EscalationRole.IT_MANAGERS: Role.IT_MANAGER,
    EscalationRole.EXECUTIVES: Role.EXECUTIVE,
    EscalationRole.ADMINS: Role.ADMIN,
}


# --- Choosing the rule and the next due time ------------------------------------------------


# Like the SLA policies, the rules are asked about on every ticket change: each process
# keeps them until the shared configuration version moves (deskside/sla/signals.py).
_rules_cache: tuple[int, list[EscalationRule]] | None = None


def _forget_rules() -> None:
    global _rules_cache
    _rules_cache = None


local_cache_clearers.append(_forget_rules)


def active_rules(version: int | None = None) -> list[EscalationRule]:
    """Active rules in the order they are tried, with what matching needs preloaded.

    ``version``: the SLA configuration version, when the caller has just read it.
    """
    global _rules_cache
    if version is None:
        version = configuration_version()
    cached = _rules_cache
    if cached is not None and cached[0] == version:
        return cached[1]
    rules = list(
        EscalationRule.objects.filter(is_active=True)
        .prefetch_related("categories")
        .order_by("position", "name")
    )
    _rules_cache = (version, rules)
    return rules


def rule_matches(rule: EscalationRule, ticket: Ticket) -> bool:
    if rule.priorities and ticket.priority not in rule.priorities:
        return False
    categories = {category.pk for category in rule.categories.all()}
    if categories and ticket.category_id not in categories:
        return False
    return not (rule.vip_only and not ticket.requester.is_vip)


def schedule_for(ticket: Ticket) -> Schedule:
    """The calendar ages are measured on: the ticket's SLA policy's, else around the clock."""
    policy_id = TicketSla.objects.filter(ticket=ticket).values_list("policy_id", flat=True).first()
    if policy_id is None:
        return TWENTY_FOUR_SEVEN
    # The SLA services keep the active policies with their schedules built; an inactive
    # policy still on an old ticket is read from the database.
    for policy in active_policies():
        if policy.pk == policy_id:
            return policy.calendar.schedule
    found = SlaPolicy.objects.filter(pk=policy_id).select_related("calendar").first()
    return found.calendar.schedule if found is not None else TWENTY_FOUR_SEVEN


def _first_breach(ticket_id: int) -> SlaEvent | None:
    return (
        SlaEvent.objects.filter(ticket_id=ticket_id, threshold__gte=BREACH)
        .order_by("recorded_at", "id")
        .first()
    )


def breach_known_at(event: SlaEvent) -> datetime:
    """When a breach became news: when it was recorded, and never before it was due (a
    sweep that ran late, or a clock set back, must not date it before the target passed)."""
    return max(event.recorded_at, event.due_at)


def _next_step(row: TicketEscalation) -> EscalationStep | None:
    return (
        EscalationStep.objects.filter(rule_id=row.rule_id, position__gt=row.steps_done)
        .order_by("position")
        .first()
    )


def _step_due(step: EscalationStep, ticket: Ticket, schedule: Schedule) -> datetime | None:
    """When ``step`` is due for ``ticket``; None while it waits for a breach."""
    if step.on_breach:
        breach = _first_breach(ticket.pk)
        return breach_known_at(breach) if breach is not None else None
    return add_business_minutes(schedule, ticket.created_at, step.after_minutes or 0)


def _plan_next(row: TicketEscalation, ticket: Ticket, schedule: Schedule) -> None:
    if ticket.status_kind in STOPPED_KINDS or row.acknowledged_at is not None:
        row.next_step_at = None
        return
    step = _next_step(row)
    row.next_step_at = _step_due(step, ticket, schedule) if step is not None else None


def escalation_ticket_changed(
    ticket: Ticket,
    *,
    now: datetime | None = None,
    created: bool = False,
    version: int | None = None,
    schedule: Schedule | None = None,
) -> TicketEscalation | None:
    """Put ``ticket`` on the right ladder and compute its next step (call inside the
    transaction that changed it). Idempotent: calling it twice changes nothing.

    ``created``: the ticket was inserted in this transaction, so it has no ladder row to
    look up. ``version`` and ``schedule``: the SLA configuration version and the ticket's
    calendar, when the caller already knows them (a ticket without an SLA policy is
    measured around the clock, as :func:`schedule_for` would say).
    """
    now = now or timezone.now()
    row = (
        None
        if created
        else TicketEscalation.objects.filter(ticket=ticket).select_related("rule").first()
    )
    if row is None and ticket.status_kind in STOPPED_KINDS:
        return None
    rule: EscalationRule | None
    if row is not None and row.rule.is_active and row.steps_done > 0:
        rule = row.rule  # a ladder once begun is climbed on the same rule
    else:
        rule = next((r for r in active_rules(version) if rule_matches(r, ticket)), None)
    if rule is None:
        if row is not None:
            row.delete()
        return None
    if row is None:
        row = TicketEscalation(ticket=ticket, rule=rule)
    elif row.rule_id != rule.pk:
        row.rule = rule
        row.cycle += 1
        row.steps_done = 0
        row.acknowledged_at = None
        row.acknowledged_by = None
    if not created:
        schedule = schedule_for(ticket)
    elif schedule is None:
        schedule = TWENTY_FOUR_SEVEN  # no SLA policy, so no clocks: around the clock
    _plan_next(row, ticket, schedule)
    row.updated_at = now
    row.save(force_insert=created)
    return row


# --- Who is told ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    person: User
    label: str  # why they are told, such as "team lead"; empty for a named person

    def describe(self) -> str:
        if not self.label:
            return self.person.full_name
        return f"{self.person.full_name} ({self.label})"


def step_recipients(step: EscalationStep, ticket: Ticket) -> list[Recipient]:
    """The active people ``step`` tells about ``ticket``, each once, in a stable order."""
    found: dict[int, Recipient] = {}

    def add(person: User | None, label: str) -> None:
        if person is not None and person.is_active and person.pk not in found:
            found[person.pk] = Recipient(person, label)

    roles = step.notify_roles or []
    if EscalationRole.TEAM_LEAD in roles and ticket.team is not None:
        add(ticket.team.lead, _("team lead"))
    labels = {
        Role.IT_MANAGER: _("IT manager"),
        Role.EXECUTIVE: _("executive"),
        Role.ADMIN: _("administrator"),
    }
    for role_name, role in ROLE_PEOPLE.items():
        if role_name in roles:
            for person in User.objects.filter(role=role, is_active=True).order_by("full_name"):
                add(person, labels[role])
    add(step.notify_person, "")
    if step.notify_department_head:
        department = ticket.department or ticket.requester.department
        if department is not None:
            add(department.head, _("head of department"))
    return list(found.values())


# --- What they are told --------------------------------------------------------------------


def describe_minutes(minutes: float) -> str:
    """``95`` → "1 hour 35 minutes": ages as people say them."""
    total = max(0, int(minutes))
    hours, rest = divmod(total, 60)
    hour_text = ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    minute_text = ngettext("%(n)d minute", "%(n)d minutes", rest) % {"n": rest}
    if hours and rest:
        return f"{hour_text} {minute_text}"
    return hour_text if hours else minute_text


_BREACH_REASONS: dict[str, Callable[[], str]] = {
    Clock.FIRST_RESPONSE: lambda: _("The first response target was missed"),
    Clock.RESOLUTION: lambda: _("The resolution target was missed"),
    Clock.NEXT_UPDATE: lambda: _("The requester has waited too long for an update"),
}


def step_reason(step: EscalationStep, ticket: Ticket) -> str:
    """What is needed, in a line: the admin's words, or one Deskside writes."""
    if step.reason:
        return step.reason
    if step.on_breach:
        breach = (
            SlaEvent.objects.filter(ticket_id=ticket.pk, threshold__gte=BREACH)
            .order_by("-recorded_at", "-id")
            .first()
        )
        reason = _BREACH_REASONS.get(breach.clock) if breach is not None else None
        return reason() if reason is not None else _("An SLA target was missed")
    age = describe_minutes(step.after_minutes or 0)
    if ticket.first_response_at is None:
        return _("No first response after %(age)s") % {"age": age}
    return _("Not resolved after %(age)s") % {"age": age}


def _timeline_text(step: EscalationStep, recipients: list[Recipient]) -> str:
    who = ", ".join(r.describe() for r in recipients) or _("nobody (no one to tell was found)")
    if step.on_breach:
        return _("Escalated to %(who)s after an SLA target was missed") % {"who": who}
    return _("Escalated to %(who)s after %(age)s") % {
        "who": who,
        "age": describe_minutes(step.after_minutes or 0),
    }


def _absolute(name: str, ticket_id: int) -> str:
    kwargs = {"pk": ticket_id}
    return settings.BASE_URL + reverse(name, kwargs=kwargs)


@dataclass
class Entry:
    """One ticket as a digest shows it: what, for whom, since when, what was tried, what
    is needed, and the one-click links."""

    ticket: Ticket
    number: str
    subject: str
    priority: str
    critical: bool
    requester: str
    department: str
    vip: bool
    created_at: datetime
    age: str
    replies: int
    notes: int
    last_reply: str
    reason: str
    acknowledge_link: str
    take_link: str
    reassign_link: str

    def short_text(self) -> str:
        """The same facts in a few lines, for chat webhooks."""
        who = self.requester
        if self.department:
            who += f", {self.department}"
        if self.vip:
            who += ", VIP"
        return _(
            "Escalation: %(number)s %(subject)s (%(priority)s) for %(who)s.\n"
            "Open for %(age)s of working time. %(tried)s\n"
            "Needed: %(reason)s\n%(link)s"
        ) % {
            "number": self.number,
            "subject": self.subject,
            "priority": self.priority,
            "who": who,
            "age": self.age,
            "tried": self.tried(),
            "reason": self.reason,
            "link": self.reassign_link,
        }

    def tried(self) -> str:
        if not self.replies and not self.notes:
            return _("No reply yet.")
        replies = ngettext("%(n)d reply", "%(n)d replies", self.replies) % {"n": self.replies}
        notes = ngettext("%(n)d note", "%(n)d notes", self.notes) % {"n": self.notes}
        return _("%(replies)s and %(notes)s so far.") % {"replies": replies, "notes": notes}


def ticket_entry(ticket: Ticket, step: EscalationStep, schedule: Schedule, now: datetime) -> Entry:
    messages = list(
        ticket.messages.exclude(kind=MessageKind.SYSTEM)
        .select_related("author")
        .order_by("created_at", "id")
    )
    # The first message is the request itself, whoever typed it in.
    later = messages[1:]
    replies = [
        m for m in later if m.kind == MessageKind.PUBLIC and m.author_id != ticket.requester_id
    ]
    notes = [m for m in later if m.kind == MessageKind.NOTE]
    last_reply = (
        Truncator(" ".join(replies[-1].body.split())).chars(SNIPPET_CHARS)
        if replies
        else _("No reply yet")
    )
    department = ticket.department or ticket.requester.department
    return Entry(
        ticket=ticket,
        number=ticket.number,
        subject=ticket.subject,
        priority=str(ticket.get_priority_display()),
        critical=ticket.priority == 1,
        requester=ticket.requester.full_name,
        department=department.name if department is not None else "",
        vip=ticket.requester.is_vip,
        created_at=ticket.created_at,
        age=describe_minutes(business_minutes_between(schedule, ticket.created_at, now)),
        replies=len(replies),
        notes=len(notes),
        last_reply=last_reply,
        reason=step_reason(step, ticket),
        acknowledge_link=_absolute("sla:escalation_acknowledge", ticket.pk),
        take_link=_absolute("sla:escalation_take", ticket.pk),
        reassign_link=_absolute("sla:escalation_reassign", ticket.pk),
    )


# --- Firing a step -------------------------------------------------------------------------


@dataclass
class Fired:
    """A step taken in this run, with what the digest and the webhook need."""

    notice: EscalationNotice
    step: EscalationStep
    entry: Entry
    recipients: list[Recipient] = field(default_factory=list)


def _record_event(ticket: Ticket, actor: User | None, action: str, **values: str) -> None:
    TicketEvent.objects.create(
        ticket=ticket,
        actor=actor,
        action=action,
        field=values.get("field", "")[:40],
        old_value=values.get("old", "")[:250],
        new_value=values.get("new", "")[:250],
    )


def _apply_actions(ticket: Ticket, step: EscalationStep, now: datetime) -> bool:
    """Raise the priority and hand to a team, as the step says; True if anything changed.

    Written directly rather than through the ticket services: those check a person's
    permission, and here the desk itself acts (the timeline shows "Deskside").
    """
    fields: dict[str, Any] = {}
    # Only ever raise: a lower number is more urgent, and a step must not calm a ticket down.
    if step.raise_priority_to is not None and step.raise_priority_to < ticket.priority:
        _record_event(
            ticket, None, "priority", field="priority",
            old=f"P{ticket.priority}", new=f"P{step.raise_priority_to}",
        )  # fmt: skip
        ticket.priority = step.raise_priority_to
        fields["priority"] = ticket.priority
    if step.reassign_team_id is not None and step.reassign_team_id != ticket.team_id:
        team = step.reassign_team
        _record_event(
            ticket, None, "assign", field="team",
            old=str(ticket.team or ""), new=str(team or ""),
        )  # fmt: skip
        ticket.team = team
        fields["team"] = team
    if not fields:
        return False
    ticket.updated_at = now
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=now, **fields)
    return True


def _fire(
    row: TicketEscalation, ticket: Ticket, step: EscalationStep, schedule: Schedule, now: datetime
) -> tuple[Fired | None, bool]:
    """Take ``step`` for ``ticket`` once; (None, False) if another run already took it."""
    recipients = step_recipients(step, ticket)
    text = _timeline_text(step, recipients)
    try:
        with transaction.atomic():
            notice = EscalationNotice.objects.create(
                ticket=ticket,
                step=step,
                cycle=row.cycle,
                fired_at=now,
                recipients=", ".join(r.describe() for r in recipients),
            )
            _record_event(ticket, None, "escalated", field=f"step {step.position}", new=text)
            changed = _apply_actions(ticket, step, now)
    except IntegrityError:
        return None, False
    entry = ticket_entry(ticket, step, schedule, now)
    return Fired(notice=notice, step=step, entry=entry, recipients=recipients), changed


def _climb(row: TicketEscalation, now: datetime) -> list[Fired]:
    ticket = row.ticket
    if ticket.status_kind in STOPPED_KINDS or row.acknowledged_at is not None:
        row.next_step_at = None
        row.save(update_fields=["next_step_at"])
        return []
    schedule = schedule_for(ticket)
    fired: list[Fired] = []
    changed = False
    steps = EscalationStep.objects.filter(
        rule_id=row.rule_id, position__gt=row.steps_done
    ).select_related("notify_person", "reassign_team")
    for step in steps.order_by("position"):
        due = _step_due(step, ticket, schedule)
        if due is None or due > now:
            break
        taken, step_changed = _fire(row, ticket, step, schedule, now)
        row.steps_done = step.position
        changed |= step_changed
        if taken is not None:
            fired.append(taken)
    _plan_next(row, ticket, schedule)
    row.updated_at = now
    row.save()
    if changed:
        # A new priority or team can move the SLA clocks (and calls back into the ladder,
        # which reads the row just saved).
        sla_ticket_changed(ticket, now=now)
    return fired


def _take_breaches(events: Iterable[SlaEvent], now: datetime) -> None:
    """Note new breaches: they resume an acknowledged ladder and make on-breach steps due."""
    latest: dict[int, datetime] = {}
    for event in events:
        if event.threshold >= BREACH:
            known = breach_known_at(event)
            seen = latest.get(event.ticket_id)
            latest[event.ticket_id] = max(seen, known) if seen else known
    if not latest:
        return
    rows = TicketEscalation.objects.filter(ticket_id__in=latest).select_related(
        "ticket__requester", "rule"
    )
    for row in rows:
        breached_at = latest[row.ticket_id]
        if row.last_breach_seen_at is not None and breached_at <= row.last_breach_seen_at:
            continue
        row.last_breach_seen_at = breached_at
        if row.acknowledged_at is not None and breached_at > row.acknowledged_at:
            row.acknowledged_at = None
            row.acknowledged_by = None
            _record_event(
                row.ticket, None, "escalation_resumed",
                new=_("Escalation resumed: an SLA target was missed after it was acknowledged"),
            )  # fmt: skip
        _plan_next(row, row.ticket, schedule_for(row.ticket))
        row.updated_at = now
        row.save()


# --- The digest and the webhooks -----------------------------------------------------------


def _digest_groups(fired: list[Fired]) -> dict[int, tuple[User, list[Entry]]]:
    """Each recipient with their tickets, each ticket once (its latest step's reason)."""
    groups: dict[int, tuple[User, dict[int, Entry]]] = {}
    for taken in fired:
        for recipient in taken.recipients:
            person = recipient.person
            _person, entries = groups.setdefault(person.pk, (person, {}))
            entries[taken.entry.ticket.pk] = taken.entry
    return {pk: (person, list(entries.values())) for pk, (person, entries) in groups.items()}


def _record_digests(fired: list[Fired]) -> list[int]:
    """Record one digest mail per recipient; returns the ids to send."""
    queued: list[int] = []
    for person, entries in _digest_groups(fired).values():
        shown = []
        for entry in entries:
            # Links only for people who can act in the console; a head of department who
            # is a requester gets the facts, not buttons that would lead nowhere.
            can_act = permissions.can_change(person, entry.ticket)
            shown.append({"entry": entry, "links": can_act})
        context = {
            "recipient": person,
            "entries": shown,
            "count": len(shown),
            "all_critical": all(entry.critical for entry in entries),
            "desk_name": settings.DESK_NAME,
            "ticket": None,
        }
        subject, text, html = render_mail(OutboundKind.ESCALATION_DIGEST, context)
        undeliverable = EmailAddress.objects.filter(
            email=person.email.lower(), undeliverable_since__isnull=False
        ).exists()
        row = outbound_record(
            kind=OutboundKind.ESCALATION_DIGEST,
            ticket=None,
            to_address=person.email,
            to_name=person.full_name,
            subject=subject,
            body_text=text,
            body_html=html,
            suppressed_reason=SuppressedReason.UNDELIVERABLE if undeliverable else "",
        )
        if row.state == OutboundState.QUEUED:
            queued.append(row.pk)
    return queued


def webhook_post(url: str, text: str) -> str:
    """POST ``{"text": text}`` to a chat webhook; returns "" or what went wrong. Never raises."""
    body = json.dumps({"text": text}).encode()
    request = urllib.request.Request(  # noqa: S310  (admins enter http(s) URLs only; validated)
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310  (as above)
            response.read(1024)
    except urllib.error.HTTPError as exc:
        return f"The chat service answered {exc.code} {exc.reason}"
    except (OSError, ValueError) as exc:
        # URLError, refused connections and timeouts are all OSErrors.
        return f"{type(exc).__name__}: {exc}"[:2000]
    return ""


def _post_webhooks(fired: list[Fired]) -> None:
    for taken in fired:
        url = taken.step.webhook_url
        if not url:
            continue
        error = webhook_post(url, taken.entry.short_text())
        if error:
            logger.warning("Escalation webhook for %s failed: %s", taken.entry.number, error)
        state = WebhookState.FAILED if error else WebhookState.SENT
        EscalationNotice.objects.filter(pk=taken.notice.pk).update(
            webhook_state=state, webhook_error=error
        )
        taken.notice.webhook_state = state
        taken.notice.webhook_error = error


# --- The run -------------------------------------------------------------------------------


def escalation_run(
    *, events: Iterable[SlaEvent] = (), now: datetime | None = None, batch: int = RUN_BATCH
) -> list[EscalationNotice]:
    """Take every escalation step that has come due; returns the notices recorded.

    ``events`` are the SLA events the sweep just recorded. Safe to run in several workers
    at once: on PostgreSQL each takes rows the others have not locked, on SQLite writes
    are serialised, and the unique key on the notice is the backstop either way.
    """
    # Imported here: the mail tasks import ticket services, which import the SLA services.
    from deskside.mail.tasks import deliver_task

    now = now or timezone.now()
    fired: list[Fired] = []
    with transaction.atomic():
        _take_breaches(events, now)
        due = (
            TicketEscalation.objects.filter(next_step_at__lte=now)
            .select_related(
                "rule", "ticket__requester__department", "ticket__department", "ticket__team"
            )
            .order_by("next_step_at")
        )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        for row in due[:batch]:
            fired.extend(_climb(row, now))
        for outbound_id in _record_digests(fired):
            # Robust: a job queue that is down must not undo the steps just recorded.
            transaction.on_commit(partial(deliver_task, outbound_id), robust=True)
    _post_webhooks(fired)
    return [taken.notice for taken in fired]


# --- Acknowledging and taking --------------------------------------------------------------


def _require_change(actor: User, ticket: Ticket) -> None:
    # Not found rather than forbidden: the escalation must not reveal the ticket exists.
    if not permissions.can_change(actor, ticket):
        raise Http404


@transaction.atomic
def escalation_acknowledge(
    *, ticket: Ticket, actor: User, now: datetime | None = None
) -> TicketEscalation:
    """Stop the ladder for ``ticket`` until its next SLA breach. Repeating it changes nothing."""
    _require_change(actor, ticket)
    now = now or timezone.now()
    row = TicketEscalation.objects.select_for_update().filter(ticket=ticket).first()
    if row is None:
        raise ValidationError(_("This ticket is not being escalated, so there is nothing to stop."))
    if row.acknowledged_at is not None:
        return row
    row.acknowledged_at = now
    row.acknowledged_by = actor
    row.next_step_at = None
    row.updated_at = now
    row.save()
    _record_event(
        ticket, actor, "escalation_acknowledged",
        new=_("%(who)s acknowledged the escalation; no further steps until a target is missed")
        % {"who": actor.full_name},
    )  # fmt: skip
    return row


@transaction.atomic
def escalation_take(*, ticket: Ticket, actor: User, now: datetime | None = None) -> Ticket:
    """Assign ``ticket`` to ``actor`` and acknowledge its escalation: they are on it."""
    # Imported here: ticket services import the SLA services, which import this module.
    from deskside.tickets.services import ticket_assign

    _require_change(actor, ticket)
    ticket_assign(ticket=ticket, actor=actor, assignee=actor)
    if TicketEscalation.objects.filter(ticket=ticket).exists():
        escalation_acknowledge(ticket=ticket, actor=actor, now=now)
    return ticket
