from __future__ import annotations

import pytest
from django.db import connection

from deskside.search import backends
from deskside.search.interface import search_tickets
from deskside.search.tests.helpers import Desk
from deskside.testing import Personas

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("window", [3, 1])
def test_staff_search_finds_the_newest_matches_by_either_plan(
    personas: Personas, desk: Desk, monkeypatch: pytest.MonkeyPatch, window: int
) -> None:
    """Window 3 holds enough matches (the recent read answers); window 1 does not (the
    index answers). Both must give the same newest matches, and never another's."""
    if connection.vendor != "postgresql":
        pytest.skip("the two-plan search is PostgreSQL's; SQLite's FTS5 has one plan")
    matching = [desk.ticket(personas.requester, f"Printer jam {n}") for n in range(4)]
    desk.ticket(personas.requester, "Laptop will not start")
    monkeypatch.setattr(backends, "MAX_CANDIDATES", 2)
    monkeypatch.setattr(backends, "RECENT_WINDOW", window)
    page = search_tickets(personas.it_manager, "printer")
    assert page.count == 2
    assert sorted(hit.ticket.pk for hit in page.hits) == sorted(t.pk for t in matching[-2:])
