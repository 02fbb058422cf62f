"""Choosing a ticket's SLA policy, keeping its clocks, and the sweep that reports on them.

The clocks (business time, from :mod:`deskside.sla.businesstime`):

- **First response**: from the ticket's creation until IT's first public reply. Never
  paused.
- **Resolution**: from creation until the ticket is resolved. Paused while the status is
  of a kind the policy pauses on ("waiting on you", optionally "waiting on a supplier");
  a resolved ticket is paused too, so reopening it continues the clock where it stopped.
- **Next update**: from a requester's message that IT has not answered yet, until IT's
  next public reply. Paused like the resolution clock. Each unanswered message after an
  answer starts a new cycle.

:func:`sla_ticket_changed` is called by the ticket services (inside their transaction)
whenever something a clock depends on changes. It recomputes the due times from the
ticket and the stored accumulators, so it is idempotent and a policy or calendar edit is
just a recomputation. :func:`sla_sweep` runs every minute and reads only the
``next_check_at`` index: its cost follows the number of clocks due, not of open tickets.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from deskside.sla.businesstime import Schedule, add_business_minutes, business_minutes_between
from deskside.sla.models import BusinessCalendar, Clock, SlaEvent, SlaPolicy, TicketSla
from deskside.system.services import config_version, config_version_bump
from deskside.tickets.models import StatusKind, Ticket

logger = logging.getLogger(__name__)

STOPPED_KINDS = frozenset({StatusKind.RESOLVED, StatusKind.CLOSED})
BREACH = 100
SWEEP_BATCH = 500
RECOMPUTE_BATCH = 500


# Every ticket change asks which policy applies; loading the policies with their calendars
# is seven queries, so each process keeps them until the configuration's version moves
# (a row bumped in the same transaction as any edit, by deskside/sla/signals.py).
CONFIG_NAME = "sla"
_policy_cache: tuple[int, list[SlaPolicy]] | None = None
_policy_cache_lock = threading.Lock()
# Other per-process caches of SLA configuration (the escalation rules) register here to be
# emptied with the policies.
local_cache_clearers: list[Callable[[], None]] = []


def configuration_version() -> int:
    """The version of the SLA configuration; a per-process copy is valid while equal."""
    return config_version(CONFIG_NAME)


def sla_policies_changed() -> None:
    """Record an edit to policies, calendars or ladders (inside the edit's transaction)."""
    global _policy_cache
    with _policy_cache_lock:
        _policy_cache = None
    for clear in local_cache_clearers:
        clear()
    config_version_bump(CONFIG_NAME)


def active_policies(version: int | None = None) -> list[SlaPolicy]:
    """Active policies in the order they are tried, with what matching needs preloaded.

    ``version``: the configuration version, when the caller has just read it.
    """
    global _policy_cache
    if version is None:
        version = configuration_version()
    cached = _policy_cache
    if cached is not None and cached[0] == version:
        return cached[1]
    policies = list(
        SlaPolicy.objects.filter(is_active=True)
        .select_related("calendar")
        .prefetch_related(
            "categories", "teams", "departments", "calendar__periods", "calendar__holidays",
            "calendar__exceptions",
        )
        .order_by("position", "name")
    )  # fmt: skip
    for policy in policies:
        policy.calendar.schedule  # noqa: B018  (built now, once, not in a request later)
    with _policy_cache_lock:
        _policy_cache = (version, policies)
    return policies


def policy_matches(policy: SlaPolicy, ticket: Ticket) -> bool:
    if policy.priorities and ticket.priority not in policy.priorities:
        return False
    categories = {category.pk for category in policy.categories.all()}
    if categories and ticket.category_id not in categories:
        return False
    teams = {team.pk for team in policy.teams.all()}
    if teams and ticket.team_id not in teams:
        return False
    departments = {department.pk for department in policy.departments.all()}
    department = ticket.department_id or ticket.requester.department_id
    if departments and department not in departments:
        return False
    return not (policy.vip_only and not ticket.requester.is_vip)


def policy_for(ticket: Ticket, policies: Iterable[SlaPolicy] | None = None) -> SlaPolicy | None:
    """The first active policy whose conditions all match the ticket, or None."""
    for policy in active_policies() if policies is None else policies:
        if policy_matches(policy, ticket):
            return policy
    return None


def pause_kinds(policy: SlaPolicy) -> frozenset[str]:
    kinds = set(STOPPED_KINDS)
    if policy.pause_when_waiting_on_requester:
        kinds.add(StatusKind.WAITING_REQUESTER)
    if policy.pause_when_waiting_on_third_party:
        kinds.add(StatusKind.WAITING_THIRD_PARTY)
    return frozenset(kinds)


@dataclass(frozen=True)
class _Running:
    """One clock that is counting: where it starts and what its target is."""

    clock: str
    start: datetime
    target: float  # business minutes
    extra: float  # business minutes paused, added to the target
    level: int  # the highest threshold already reported
    cycle: int

    def at(self, schedule: Schedule, percentage: float) -> datetime:
        return add_business_minutes(
            schedule, self.start, self.target * percentage / 100 + self.extra
        )


def _running_clocks(sla: TicketSla, ticket: Ticket, policy: SlaPolicy) -> list[_Running]:
    clocks = []
    if ticket.first_response_at is None and ticket.status_kind not in STOPPED_KINDS:
        clocks.append(
            _Running(
                Clock.FIRST_RESPONSE,
                ticket.created_at,
                policy.first_response_minutes,
                0.0,
                sla.first_response_level,
                0,
            )
        )
    if sla.paused_since is None and ticket.status_kind not in STOPPED_KINDS:
        clocks.append(
            _Running(
                Clock.RESOLUTION,
                ticket.created_at,
                policy.resolution_minutes,
                sla.paused_minutes,
                sla.resolution_level,
                0,
            )
        )
        if sla.next_update_started_at is not None and policy.next_update_minutes:
            clocks.append(
                _Running(
                    Clock.NEXT_UPDATE,
                    sla.next_update_started_at,
                    policy.next_update_minutes,
                    sla.next_update_paused_minutes,
                    sla.next_update_level,
                    sla.next_update_cycle,
                )
            )
    return clocks


def _compute(sla: TicketSla, ticket: Ticket, now: datetime) -> None:
    """Due times, outcomes and the next check, from the ticket and the accumulators."""
    policy = sla.policy
    if policy is None:
        sla.first_response_due = sla.resolution_due = sla.next_update_due = None
        sla.next_check_at = None
        ticket.sla_due_at = None
        return
    schedule = policy.calendar.schedule
    sla.first_response_due = add_business_minutes(
        schedule, ticket.created_at, policy.first_response_minutes
    )
    if ticket.first_response_at is not None and ticket.first_response_at > sla.first_response_due:
        sla.first_response_breached = True
    sla.resolution_due = add_business_minutes(
        schedule, ticket.created_at, policy.resolution_minutes + sla.paused_minutes
    )
    if ticket.resolved_at is not None and ticket.resolved_at > sla.resolution_due:
        sla.resolution_breached = True
    if sla.next_update_started_at is not None and policy.next_update_minutes:
        sla.next_update_due = add_business_minutes(
            schedule,
            sla.next_update_started_at,
            policy.next_update_minutes + sla.next_update_paused_minutes,
        )
    else:
        sla.next_update_due = None

    checks: list[datetime] = []
    dues: list[datetime] = []
    thresholds = [*policy.warnings, BREACH]
    for running in _running_clocks(sla, ticket, policy):
        dues.append(running.at(schedule, BREACH))
        upcoming = [pct for pct in thresholds if pct > running.level]
        if upcoming:
            checks.append(running.at(schedule, upcoming[0]))
    sla.next_check_at = min(checks) if checks else None
    ticket.sla_due_at = min(dues) if dues else None


def _save(sla: TicketSla, ticket: Ticket, now: datetime, *, created: bool = False) -> None:
    sla.updated_at = now
    # A new ticket has no row yet: insert straight away rather than try an update first.
    sla.save(force_insert=created)
    # A plain update: the ticket's own save (by the caller) may already have happened.
    Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=ticket.sla_due_at)


def sla_ticket_changed(
    ticket: Ticket,
    *,
    requester_wrote: bool = False,
    agent_replied: bool = False,
    now: datetime | None = None,
    created: bool = False,
) -> TicketSla | None:
    """Bring ``ticket``'s clocks up to date after a change (call inside the transaction).

    ``requester_wrote``: the requester added a public message (may start a next-update
    cycle). ``agent_replied``: IT answered publicly (ends the current cycle). The
    escalation ladder follows, since its due times are measured on the same calendar.

    ``created``: the ticket was inserted in this transaction, so it has no clocks and no
    ladder row yet and neither needs to be looked up. The ticket's ``sla`` relation is
    left holding the saved clocks, so a caller showing the ticket does not read them back.
    """
    now = now or timezone.now()
    # Read once for the policies and the ladder rules alike.
    version = configuration_version()
    sla = _clocks_changed(
        ticket,
        requester_wrote=requester_wrote,
        agent_replied=agent_replied,
        now=now,
        created=created,
        version=version,
    )
    # Imported here: the ladder builds on these services (it calls back after its actions).
    from deskside.sla.escalation import escalation_ticket_changed

    escalation_ticket_changed(
        ticket,
        now=now,
        created=created,
        version=version,
        schedule=(sla.policy.calendar.schedule if sla is not None and sla.policy else None),
    )
    # What was just saved is what the ticket's ``sla`` relation holds now (None: no row).
    TicketSla.ticket.field.remote_field.set_cached_value(ticket, sla)
    return sla


def _clocks_changed(
    ticket: Ticket,
    *,
    requester_wrote: bool,
    agent_replied: bool,
    now: datetime,
    created: bool = False,
    version: int | None = None,
) -> TicketSla | None:
    policy = policy_for(ticket, active_policies(version))
    sla = (
        None
        if created
        else TicketSla.objects.filter(ticket=ticket).select_related("policy__calendar").first()
    )
    if sla is None:
        if policy is None:
            return None
        sla = TicketSla(ticket=ticket)
    previous = sla.policy
    sla.policy = policy
    if policy is None:
        _compute(sla, ticket, now)
        _save(sla, ticket, now, created=created)
        return sla
    schedule = policy.calendar.schedule

    paused = ticket.status_kind in pause_kinds(policy)
    if sla.paused_since is not None and not paused:
        # Measured on the calendar in force now; a policy change mid-pause is rare enough
        # that the difference does not matter.
        delta = business_minutes_between(schedule, sla.paused_since, now)
        sla.paused_minutes += delta
        if sla.next_update_started_at is not None:
            sla.next_update_paused_minutes += delta
        sla.paused_since = None
    elif sla.paused_since is None and paused:
        sla.paused_since = now

    if agent_replied:
        sla.next_update_started_at = None
    if (
        requester_wrote
        and policy.next_update_minutes
        and ticket.status_kind not in STOPPED_KINDS
        and sla.next_update_started_at is None
    ):
        # An unanswered message already running keeps its clock: the requester writing
        # twice does not move IT's deadline.
        sla.next_update_started_at = now
        sla.next_update_cycle += 1
        sla.next_update_paused_minutes = 0
        sla.next_update_level = 0
    if previous is not None and previous.pk != policy.pk:
        logger.info("Ticket #%s now follows SLA policy %s", ticket.pk, policy.name)
    _compute(sla, ticket, now)
    _save(sla, ticket, now, created=created)
    return sla


# --- The sweep -----------------------------------------------------------------------------


def _record(sla: TicketSla, running: _Running, threshold: int, due: datetime) -> SlaEvent | None:
    try:
        with transaction.atomic():
            return SlaEvent.objects.create(
                ticket_id=sla.ticket_id,
                clock=running.clock,
                cycle=running.cycle,
                threshold=threshold,
                due_at=due,
            )
    except IntegrityError:
        return None  # another sweep recorded it first


def _sweep_one(sla: TicketSla, now: datetime) -> list[SlaEvent]:
    ticket = sla.ticket
    policy = sla.policy
    if policy is None:
        sla.next_check_at = None
        sla.save(update_fields=["next_check_at"])
        return []
    schedule = policy.calendar.schedule
    thresholds = [*policy.warnings, BREACH]
    events = []
    for running in _running_clocks(sla, ticket, policy):
        due = running.at(schedule, BREACH)
        level = running.level
        for threshold in thresholds:
            if threshold <= level or running.at(schedule, threshold) > now:
                continue
            event = _record(sla, running, threshold, due)
            if event is not None:
                events.append(event)
            level = threshold
        if running.clock == Clock.FIRST_RESPONSE:
            sla.first_response_level = level
            sla.first_response_breached |= level >= BREACH
        elif running.clock == Clock.RESOLUTION:
            sla.resolution_level = level
            sla.resolution_breached |= level >= BREACH
        else:
            if level >= BREACH and sla.next_update_level < BREACH:
                sla.next_update_breaches += 1
            sla.next_update_level = level
    _compute(sla, ticket, now)
    _save(sla, ticket, now)
    return events


def sla_sweep(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> list[SlaEvent]:
    """Record every warning and breach that has come due; returns the new events.

    Reads only rows whose ``next_check_at`` has passed, oldest first, in one batch. Safe
    to run in several workers at once: on PostgreSQL each takes rows the others have not
    locked, and every event is recorded once whatever happens.
    """
    now = now or timezone.now()
    events: list[SlaEvent] = []
    with transaction.atomic():
        due = (
            TicketSla.objects.filter(next_check_at__lte=now)
            .select_related("ticket__requester", "policy__calendar")
            .order_by("next_check_at")
        )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        for sla in due[:batch]:
            events.extend(_sweep_one(sla, now))
    return events


# --- Recomputing after an administrator's edit ----------------------------------------------


def sla_recompute(
    *,
    calendar: BusinessCalendar | None = None,
    now: datetime | None = None,
    limit: int | None = None,
) -> int:
    """Recompute open tickets' clocks (those on ``calendar``'s policies, or all); returns how
    many. Runs in batches, each its own transaction, so the desk stays responsive.
    ``limit`` stops after that many tickets (the benchmark measures a sample)."""
    now = now or timezone.now()
    policies = active_policies()
    open_tickets = Ticket.objects.exclude(status_kind__in=STOPPED_KINDS)
    if calendar is not None:
        open_tickets = open_tickets.filter(sla__policy__calendar=calendar)
    done = 0
    last_id = 0
    while True:
        with transaction.atomic():
            chunk = list(
                open_tickets.filter(pk__gt=last_id)
                .select_related("requester")
                .order_by("pk")[:RECOMPUTE_BATCH]
            )
            if not chunk:
                return done
            for ticket in chunk:
                if limit is not None and done >= limit:
                    return done
                policy = policy_for(ticket, policies)
                sla = TicketSla.objects.filter(ticket=ticket).first()
                if sla is None and policy is None:
                    continue
                if sla is None:
                    sla = TicketSla(ticket=ticket)
                sla.policy = policy
                _compute(sla, ticket, now)
                _save(sla, ticket, now)
                done += 1
            # The ladder's next steps are measured on the same calendars, and a rule edit
            # changes which tickets climb it: re-plan every ticket in the chunk.
            from deskside.sla.escalation import escalation_ticket_changed

            for ticket in chunk:
                escalation_ticket_changed(ticket, now=now)
            last_id = chunk[-1].pk


def at_risk_filter(now: datetime | None = None) -> Q:
    """Open tickets whose next deadline has passed or whose first warning was reported."""
    now = now or timezone.now()
    return Q(sla_due_at__isnull=False) & (
        Q(sla_due_at__lte=now)
        | Q(sla__first_response_level__gt=0)
        | Q(sla__resolution_level__gt=0)
        | Q(sla__next_update_level__gt=0)
    )
