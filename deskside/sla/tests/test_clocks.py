"""Each ticket's SLA clocks: chosen policy, due times, pauses, next-update cycles, the sweep.

Time is controlled (``clock`` below): nothing sleeps, and every instant is explicit. The
calendar is Monday to Friday, 09:00 to 17:00, in London.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deskside.accounts.models import User
from deskside.sla.models import (
    BusinessCalendar,
    Clock,
    Holiday,
    SlaEvent,
    SlaPolicy,
    TicketSla,
)
from deskside.sla.services import at_risk_filter, sla_recompute, sla_sweep
from deskside.sla.tests.clock import (
    ControlledClock,
    calendar_fixture,  # noqa: F401  (a fixture)
    clock_fixture,  # noqa: F401  (a fixture)
    london,
)
from deskside.testing import Personas
from deskside.tickets import services
from deskside.tickets.models import Channel, Status, StatusKind, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def p1_policy(calendar: BusinessCalendar) -> SlaPolicy:
    return SlaPolicy.objects.create(
        name="Business-critical",
        position=1,
        calendar=calendar,
        priorities=[1],
        first_response_minutes=60,
        next_update_minutes=120,
        resolution_minutes=240,
    )


@pytest.fixture
def standard_policy(calendar: BusinessCalendar) -> SlaPolicy:
    return SlaPolicy.objects.create(
        name="Standard",
        position=9,
        calendar=calendar,
        first_response_minutes=8 * 60,
        resolution_minutes=5 * 8 * 60,
    )


def open_ticket(personas: Personas, *, priority: int = 1, requester: User | None = None) -> Ticket:
    return services.ticket_create(
        actor=requester or personas.requester,
        requester=requester or personas.requester,
        subject="Payroll system down",
        body="Nobody in Finance can run the payroll.",
        channel=Channel.PORTAL,
        priority=priority,
        team=personas.team,
    )


def status(kind: str) -> Status:
    return Status.objects.get(kind=kind, is_default_for_kind=True)


def sla_of(ticket: Ticket) -> TicketSla:
    return TicketSla.objects.get(ticket=ticket)


# --- Choosing a policy and computing due times -------------------------------------------


def test_due_times_follow_business_hours(
    clock: ControlledClock, personas: Personas, p1_policy: SlaPolicy
) -> None:
    ticket = open_ticket(personas)
    sla = sla_of(ticket)
    assert sla.policy == p1_policy
    assert sla.first_response_due == london(7, 11)
    assert sla.resolution_due == london(7, 14)
    ticket.refresh_from_db()
    assert ticket.sla_due_at == london(7, 11)  # the single next deadline


def test_a_friday_afternoon_ticket_is_due_on_monday(
    clock: ControlledClock, personas: Personas, p1_policy: SlaPolicy
) -> None:
    clock.set(london(11, 16, 30))  # Friday
    sla = sla_of(open_ticket(personas))
    assert sla.first_response_due == london(14, 9, 30)
    assert sla.resolution_due == london(14, 12, 30)


def test_first_matching_policy_wins_and_unmatched_tickets_have_none(
    clock: ControlledClock,
    personas: Personas,
    p1_policy: SlaPolicy,
    standard_policy: SlaPolicy,
) -> None:
    assert sla_of(open_ticket(personas, priority=1)).policy == p1_policy
    assert sla_of(open_ticket(personas, priority=3)).policy == standard_policy
    standard_policy.delete()
    ticket = open_ticket(personas, priority=4)
    assert not TicketSla.objects.filter(ticket=ticket).exists()
    assert Ticket.objects.get(pk=ticket.pk).sla_due_at is None


def test_vip_only_policy(
    clock: ControlledClock, personas: Personas, calendar: BusinessCalendar
) -> None:
    vip_policy = SlaPolicy.objects.create(
        name="VIP",
        position=0,
        calendar=calendar,
        vip_only=True,
        first_response_minutes=15,
        resolution_minutes=120,
    )
    assert not TicketSla.objects.filter(ticket=open_ticket(personas, priority=3)).exists()
    personas.other_requester.is_vip = True
    personas.other_requester.save()
    ticket = open_ticket(personas, priority=3, requester=personas.other_requester)
    assert sla_of(ticket).policy == vip_policy


def test_changing_priority_moves_the_ticket_to_another_policy(
    clock: ControlledClock,
    personas: Personas,
    p1_policy: SlaPolicy,
    standard_policy: SlaPolicy,
) -> None:
    ticket = open_ticket(personas, priority=3)
    assert sla_of(ticket).first_response_due == london(8, 10)  # eight business hours
    services.ticket_change_priority(ticket=ticket, actor=personas.agent, priority=1)
    sla = sla_of(ticket)
    assert sla.policy == p1_policy
    assert sla.first_response_due == london(7, 11)


# --- Pauses and cycles --------------------------------------------------------------------


def test_waiting_on_the_requester_pauses_resolution_but_not_first_response(
    clock: ControlledClock, personas: Personas, p1_policy: SlaPolicy
) -> None:
    ticket = open_ticket(personas)  # Monday 10:00
    clock.set(london(7, 10, 30))
    services.ticket_reply(
        ticket=ticket,
        actor=personas.agent,
        body="Which payroll run?",
        status=status(StatusKind.WAITING_REQUESTER),
    )
    sla = sla_of(ticket)
    assert sla.paused_since == london(7, 10, 30)
    ticket.refresh_from_db()
    assert ticket.sla_due_at is None  # nothing runs while we wait for the requester

    clock.set(london(8, 10))  # Tuesday 10:00: she answers
    services.ticket_reply(ticket=ticket, actor=personas.requester, body="The December run.")
    sla = sla_of(ticket)
    assert sla.paused_since is None
    # Paused from Monday 10:30 to Tuesday 10:00: 6.5 + 1 = 7.5 business hours.
    assert sla.paused_minutes == pytest.approx(450)
    # 30 of the 240 minutes were used before the pause; 210 remain from Tuesday 10:00.
    assert sla.resolution_due == london(8, 13, 30)
    # Her message starts the next-update clock: two business hours.
    assert sla.next_update_due == london(8, 12)
    ticket.refresh_from_db()
    assert ticket.sla_due_at == london(8, 12)


def test_an_answer_ends_the_next_update_cycle_and_a_second_message_keeps_it(
    clock: ControlledClock, personas: Personas, p1_policy: SlaPolicy
) -> None:
    ticket = open_ticket(personas)
    clock.set(london(7, 10, 5))
    services.ticket_reply(ticket=ticket, actor=personas.agent, body="Looking now.")
    clock.set(london(7, 10, 10))
    services.ticket_reply(ticket=ticket, actor=personas.requester, body="Thanks, hurry!")
    assert sla_of(ticket).next_update_due == london(7, 12, 10)
    clock.set(london(7, 10, 40))
    services.ticket_reply(ticket=ticket, actor=personas.requester, body="Any news?")
    sla = sla_of(ticket)
    assert sla.next_update_due == london(7, 12, 10)  # writing twice does not move it
    assert sla.next_update_cycle == 1
    clock.set(london(7, 11))
    services.ticket_reply(ticket=ticket, actor=personas.agent, body="Fixed the config.")
    assert sla_of(ticket).next_update_due is None


def test_resolving_stops_the_clocks_and_closed_tickets_keep_their_result(
    clock: ControlledClock, personas: Personas, p1_policy: SlaPolicy
) -> None:
    ticket = open_ticket(personas)
    clock.set(london(7, 15))  # after the 14:00 resolution target
    services.ticket_resolve(
        ticket=ticket,
        actor=personas.agent,
        note="The payroll server's disk was full; we added space and an alert for next time.",
    )
    sla = sla_of(ticket)
    assert sla.resolution_breached
    assert sla.first_response_breached  # the first answer came at 15:00, after 11:00
    assert sla.next_check_at is None
    ticket.refresh_from_db()
    assert ticket.sla_due_at is None


# --- The sweep -----------------------------------------------------------------------------


def test_sweep_records_warnings_then_the_breach_once_each(
    clock: ControlledClock, personas: Personas, p1_policy: SlaPolicy
) -> None:
    ticket = open_ticket(personas)  # first response due 11:00; 75 % at 10:45, 90 % at 10:54
    assert sla_of(ticket).next_check_at == london(7, 10, 45)
    assert sla_sweep(now=london(7, 10, 44)) == []

    events = sla_sweep(now=london(7, 10, 46))
    assert [(e.clock, e.threshold) for e in events] == [(Clock.FIRST_RESPONSE, 75)]
    assert sla_sweep(now=london(7, 10, 46)) == []  # a second run finds nothing new
    assert sla_of(ticket).next_check_at == london(7, 10, 54)

    # The worker was down for a while: both the 90 % warning and the breach are due.
    events = sla_sweep(now=london(7, 11, 1))
    assert [(e.clock, e.threshold) for e in events] == [
        (Clock.FIRST_RESPONSE, 90),
        (Clock.FIRST_RESPONSE, 100),
    ]
    sla = sla_of(ticket)
    assert sla.first_response_breached
    assert sla.first_response_level == 100
    # Next up: the resolution clock's 75 % (180 minutes from 10:00).
    assert sla.next_check_at == london(7, 13)
    assert SlaEvent.objects.filter(ticket=ticket).count() == 3


def test_overlapping_sweeps_record_each_event_once(
    clock: ControlledClock, personas: Personas, p1_policy: SlaPolicy
) -> None:
    ticket = open_ticket(personas)
    first = TicketSla.objects.get(ticket=ticket)
    second = TicketSla.objects.get(ticket=ticket)  # another worker's stale copy
    from deskside.sla.services import _sweep_one

    _sweep_one(first, london(7, 10, 46))
    assert _sweep_one(second, london(7, 10, 46)) == []
    assert SlaEvent.objects.filter(ticket=ticket, threshold=75).count() == 1


def test_sweep_reads_only_due_clocks(
    clock: ControlledClock, personas: Personas, p1_policy: SlaPolicy
) -> None:
    for _ in range(5):
        open_ticket(personas)
    with CaptureQueriesContext(connection) as queries:
        assert sla_sweep(now=london(7, 10, 1)) == []
    selects = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert len(selects) == 1
    assert "next_check_at" in selects[0]


def test_at_risk_means_warned_or_overdue(
    clock: ControlledClock, personas: Personas, p1_policy: SlaPolicy
) -> None:
    calm = open_ticket(personas)
    clock.set(london(7, 10, 30))
    warned = open_ticket(personas)
    sla_sweep(now=london(7, 11, 14))  # warned's 75 % is 11:15; calm's breach was 11:00
    at_risk = set(Ticket.objects.filter(at_risk_filter(london(7, 11, 14))))
    assert at_risk == {calm}
    sla_sweep(now=london(7, 11, 16))
    assert set(Ticket.objects.filter(at_risk_filter(london(7, 11, 16)))) == {calm, warned}


# --- Recomputing after an edit ----------------------------------------------------------------


def test_a_new_holiday_moves_open_tickets_deadlines(
    clock: ControlledClock, personas: Personas, p1_policy: SlaPolicy, calendar: BusinessCalendar
) -> None:
    clock.set(london(11, 16, 30))  # Friday
    ticket = open_ticket(personas)
    assert sla_of(ticket).first_response_due == london(14, 9, 30)
    Holiday.objects.create(calendar=calendar, date=datetime(2026, 12, 14).date(), name="Closure")
    assert sla_recompute(calendar=BusinessCalendar.objects.get(pk=calendar.pk)) == 1
    assert sla_of(ticket).first_response_due == london(15, 9, 30)
