from __future__ import annotations

from importlib import import_module

import pytest
from django.apps import apps

from deskside.coach import services
from deskside.testing import Personas
from deskside.tickets import services as ticket_services
from deskside.tickets.models import Channel, Ticket


@pytest.fixture
def shipped_terms(db: None) -> None:
    """The shipped dictionary in the database.

    A live-server test elsewhere empties every table when it ends, the migration's data
    included, so tests that need the terms load them again (loading is idempotent).
    """
    import_module("deskside.coach.migrations.0002_load_shipped_terms").load_shipped_terms(
        apps, None
    )
    services.coach_terms_changed()


@pytest.fixture
def vpn_ticket(personas: Personas) -> Ticket:
    """Requester A's ticket in team X, in which she herself mentions the VPN."""
    return ticket_services.ticket_create(
        actor=personas.requester,
        requester=personas.requester,
        subject="Cannot connect from home",
        body="The VPN says my password is wrong since this morning.",
        channel=Channel.PORTAL,
        team=personas.team,
    )
