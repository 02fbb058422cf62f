from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from deskside.accounts.demo import populate as populate_people
from deskside.demo import DEMO_PASSWORD, DemoContext
from deskside.mail.models import OutboundMail
from deskside.tickets.demo import TICKETS
from deskside.tickets.demo import populate as populate_tickets
from deskside.tickets.models import Channel, MessageKind, StatusKind, Ticket

pytestmark = pytest.mark.django_db


def test_demo_tickets_cover_the_lifecycle_once(django_capture_on_commit_callbacks: Any) -> None:
    ctx = DemoContext(password=DEMO_PASSWORD)
    populate_people(ctx)
    with django_capture_on_commit_callbacks(execute=True):
        populate_tickets(ctx)
    # Made-up people are not mailed about made-up tickets.
    assert not OutboundMail.objects.exists()
    assert mail.outbox == []
    assert Ticket.objects.count() == TICKETS
    kinds = set(Ticket.objects.values_list("status_kind", flat=True))
    assert {StatusKind.NEW, StatusKind.OPEN, StatusKind.RESOLVED, StatusKind.CLOSED} <= kinds
    channels = set(Ticket.objects.values_list("channel", flat=True))
    assert {Channel.EMAIL, Channel.PORTAL, Channel.PHONE} <= channels
    resolved = Ticket.objects.filter(status_kind=StatusKind.RESOLVED).first()
    assert resolved is not None
    assert resolved.resolution_note
    assert resolved.messages.filter(kind=MessageKind.PUBLIC).count() >= 2
    assert Ticket.objects.filter(first_contact_resolution=True).exists()
    populate_tickets(ctx)
    assert Ticket.objects.count() == TICKETS
