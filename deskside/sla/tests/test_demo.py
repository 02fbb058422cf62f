"""The demo desk comes with office hours, public holidays, three policies and live clocks."""

from __future__ import annotations

import pytest

from deskside.demo import DemoContext, populate_all
from deskside.sla.models import BusinessCalendar, SlaPolicy, TicketSla
from deskside.tickets.models import ACTIVE_KINDS, Ticket

pytestmark = pytest.mark.django_db


def test_demo_sets_up_service_levels_once() -> None:
    first = populate_all(DemoContext(password="a demo password 123"))
    calendar = BusinessCalendar.objects.get()
    assert calendar.periods.count() == 10  # Monday to Friday, with a lunch break
    assert calendar.holidays.exists()  # the desk region's public holidays
    assert list(SlaPolicy.objects.values_list("name", flat=True)) == [
        "Business-critical",
        "High",
        "Standard",
    ]
    open_tickets = Ticket.objects.filter(status_kind__in=ACTIVE_KINDS)
    assert open_tickets.exists()
    assert TicketSla.objects.count() == first.created["tickets with SLA clocks"] > 0
    assert open_tickets.filter(sla_due_at__isnull=False).exists()

    second = populate_all(DemoContext(password="a demo password 123"))
    assert second.created["SLA policies"] == 0
    assert SlaPolicy.objects.count() == 3
