from __future__ import annotations

import pytest

from deskside.testing import Personas
from deskside.tickets import services
from deskside.tickets.models import Category, Channel, Ticket


@pytest.fixture
def ticket(personas: Personas) -> Ticket:
    """Requester A's printer ticket, in the service desk team (team X)."""
    return services.ticket_create(
        actor=personas.requester,
        requester=personas.requester,
        subject="Printer on floor 3 jams",
        body="It jams on every page since Monday.",
        channel=Channel.PORTAL,
        category=Category.objects.get(name="Printing"),
        team=personas.team,
    )
