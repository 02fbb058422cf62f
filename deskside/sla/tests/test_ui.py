"""Visible promises: the queue's deadline column and "At risk" tab, the ticket page's SLA
panel, and the requester's "when to expect an answer" on the portal and in the mail.

Time is controlled; the calendar is Monday to Friday, 09:00 to 17:00, London, and the desk
is in London too.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings

from deskside.mail.models import OutboundKind, OutboundMail
from deskside.mail.notifications import TICKET_CREATED, notifications_prepare
from deskside.sla.models import BusinessCalendar, SlaEvent, SlaPolicy, WorkingPeriod
from deskside.sla.services import sla_sweep
from deskside.testing import Personas
from deskside.tickets import services
from deskside.tickets.models import Channel, Status, StatusKind, Ticket

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


def london(day: int, hour: int, minute: int = 0) -> datetime:
    """December 2026; the 7th is a Monday."""
    return datetime(2026, 12, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


class ControlledClock:
    def __init__(self) -> None:
        self.now = london(7, 10)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> ControlledClock:
    settings.TIME_ZONE = "Europe/London"
    controlled = ControlledClock()
    monkeypatch.setattr(timezone, "now", lambda: controlled.now)
    return controlled


@pytest.fixture
def policy(db: None) -> SlaPolicy:
    office = BusinessCalendar.objects.create(name="Office hours", timezone="Europe/London")
    for weekday in range(5):
        WorkingPeriod.objects.create(
            calendar=office, weekday=weekday, start_time=time(9), end_time=time(17)
        )
    return SlaPolicy.objects.create(
        name="Business-critical",
        calendar=office,
        priorities=[1],
        first_response_minutes=60,
        next_update_minutes=120,
        resolution_minutes=240,
    )


def open_ticket(personas: Personas, *, priority: int = 1, subject: str = "Payroll down") -> Ticket:
    return services.ticket_create(
        actor=personas.requester,
        requester=personas.requester,
        subject=subject,
        body="Nobody in Finance can run the payroll.",
        channel=Channel.PORTAL,
        priority=priority,
        team=personas.team,
    )


def row_of(html: str, ticket: Ticket) -> str:
    match = re.search(rf'<tr[^>]*data-ticket="{ticket.pk}".*?</tr>', html, re.S)
    assert match, f"#{ticket.pk} not in the queue"
    return match.group(0)


# --- The queue ---------------------------------------------------------------------------


def test_queue_shows_each_deadline_in_words(
    clock: ControlledClock, personas: Personas, policy: SlaPolicy, client: Client
) -> None:
    soon = open_ticket(personas, subject="Soon")  # first response due 11:00
    clock.now = london(7, 11, 35)
    late = open_ticket(personas, subject="Late")  # due 12:35
    none = open_ticket(personas, priority=3, subject="No SLA")
    paused = open_ticket(personas, subject="Paused")
    services.ticket_reply(ticket=paused, actor=personas.agent, body="Which printer is it?")
    services.ticket_change_status(
        ticket=Ticket.objects.get(pk=paused.pk), actor=personas.agent, status=Status.objects.get(
            kind=StatusKind.WAITING_REQUESTER, is_default_for_kind=True
        ),
    )  # fmt: skip
    clock.now = london(7, 12, 10)
    client.force_login(personas.agent)
    html = client.get(reverse("tickets:queue")).content.decode()
    assert "overdue by 1 h" in row_of(html, soon)
    assert "sla-due--overdue" in row_of(html, soon)
    assert "due in 25 min" in row_of(html, late)
    assert "sla-due--soon" in row_of(html, late)
    assert "paused" in row_of(html, paused)
    assert "sla-due" not in row_of(html, none)


def test_queue_sorts_by_deadline_soonest_first_with_none_last(
    clock: ControlledClock, personas: Personas, policy: SlaPolicy, client: Client
) -> None:
    none = open_ticket(personas, priority=3, subject="No SLA")
    clock.now = london(7, 10, 30)
    later = open_ticket(personas, subject="Later")
    clock.now = london(7, 10, 5)
    sooner = open_ticket(personas, subject="Sooner")
    client.force_login(personas.agent)
    html = client.get(reverse("tickets:queue") + "?sort=due").content.decode()
    order = [int(pk) for pk in re.findall(r'data-ticket="(\d+)"', html)]
    assert order == [sooner.pk, later.pk, none.pk]


def test_at_risk_tab_lists_warned_and_overdue_tickets_soonest_first(
    clock: ControlledClock, personas: Personas, policy: SlaPolicy, client: Client
) -> None:
    first = open_ticket(personas, subject="First")  # due 11:00
    clock.now = london(7, 10, 20)
    second = open_ticket(personas, subject="Second")  # due 11:20, 75% at 11:05
    clock.now = london(7, 10, 50)
    calm = open_ticket(personas, subject="Calm")  # due 11:50
    clock.now = london(7, 11, 6)
    sla_sweep()
    client.force_login(personas.agent)
    html = client.get(reverse("tickets:queue") + "?queue=at_risk").content.decode()
    order = [int(pk) for pk in re.findall(r'data-ticket="(\d+)"', html)]
    assert order == [first.pk, second.pk]
    assert calm.pk not in order
    assert "At risk" in html
    tabs = client.get(reverse("tickets:queue_counts") + "?tabs=1&current=at_risk")
    assert "At risk" in tabs.content.decode()


# --- The ticket page -------------------------------------------------------------------------


def test_ticket_page_shows_the_sla_panel(
    clock: ControlledClock, personas: Personas, policy: SlaPolicy, client: Client
) -> None:
    ticket = open_ticket(personas)
    clock.now = london(7, 11, 1)
    sla_sweep()
    client.force_login(personas.agent)
    html = client.get(reverse("tickets:ticket", kwargs={"pk": ticket.pk})).content.decode()
    panel = html[html.index('id="sla"') :]
    panel = panel[: panel.index("</section>")]
    assert "Policy: Business-critical" in panel
    assert "First response" in panel
    assert "overdue by 1 min" in panel
    assert "Resolution" in panel
    assert "due in 3 h" in panel
    assert "Mon 7 Dec, 11:00" in panel  # London time
    assert "First response missed" in panel
    assert "75% of the time used" in panel
    assert SlaEvent.objects.filter(ticket=ticket).count() == 3


def test_ticket_page_states_met_and_paused_in_words(
    clock: ControlledClock, personas: Personas, policy: SlaPolicy, client: Client
) -> None:
    ticket = open_ticket(personas)
    clock.now = london(7, 10, 30)
    services.ticket_reply(ticket=ticket, actor=personas.agent, body="Can you send a screenshot?")
    services.ticket_change_status(
        ticket=Ticket.objects.get(pk=ticket.pk), actor=personas.agent, status=Status.objects.get(
            kind=StatusKind.WAITING_REQUESTER, is_default_for_kind=True
        ),
    )  # fmt: skip
    clock.now = london(7, 11)
    client.force_login(personas.agent)
    html = client.get(reverse("tickets:ticket", kwargs={"pk": ticket.pk})).content.decode()
    assert "Met" in html
    assert "Paused while we wait" in html
    assert "Clocks paused" in html


def test_no_panel_without_a_policy(personas: Personas, client: Client) -> None:
    ticket = open_ticket(personas)
    client.force_login(personas.agent)
    html = client.get(reverse("tickets:ticket", kwargs={"pk": ticket.pk})).content.decode()
    assert 'id="sla"' not in html


# --- The requester ---------------------------------------------------------------------------


def test_portal_says_when_to_expect_an_answer(
    clock: ControlledClock, personas: Personas, policy: SlaPolicy, client: Client
) -> None:
    clock.now = london(7, 16, 30)
    ticket = open_ticket(personas)
    client.force_login(personas.requester)
    html = client.get(reverse("portal:ticket", kwargs={"pk": ticket.pk})).content.decode()
    assert "You can expect a first answer by 09:30 tomorrow." in html


def test_portal_says_nothing_without_a_promise(personas: Personas, client: Client) -> None:
    ticket = open_ticket(personas)
    client.force_login(personas.requester)
    html = client.get(reverse("portal:ticket", kwargs={"pk": ticket.pk})).content.decode()
    assert "You can expect" not in html


def test_acknowledgement_mail_says_when_to_expect_an_answer(
    clock: ControlledClock, personas: Personas, policy: SlaPolicy
) -> None:
    clock.now = london(11, 16, 30)  # Friday afternoon
    ticket = open_ticket(personas)
    notifications_prepare(TICKET_CREATED, ticket_id=ticket.pk, actor_id=personas.requester.pk)
    mail = OutboundMail.objects.get(kind=OutboundKind.ACKNOWLEDGEMENT, ticket=ticket)
    assert "You can expect a first answer by 09:30 on Monday." in mail.body_text
    assert "You can expect a first answer by 09:30 on Monday." in mail.body_html
