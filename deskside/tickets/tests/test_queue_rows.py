from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from deskside.accounts.models import Team
from deskside.testing import Personas
from deskside.tickets import services
from deskside.tickets.models import Channel, Status, Ticket
from deskside.tickets.templatetags.queue_rows import ago, queue_rows

pytestmark = pytest.mark.django_db


def test_rows_escape_everything_and_link_to_the_ticket_page(personas: Personas) -> None:
    ticket = services.ticket_create(
        actor=personas.requester, requester=personas.requester,
        subject='<img src=x onerror="alert(1)"> & more', body="x", channel=Channel.PORTAL,
        priority=1,
    )  # fmt: skip
    loaded = Ticket.objects.select_related("requester", "assignee").get()
    html = str(queue_rows([loaded], Status.objects.all(), Team.objects.all()))
    assert "<img" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; more" in html
    # The row builds the address from the queue's; it must be the ticket page's.
    assert f'href="{reverse("tickets:ticket", kwargs={"pk": ticket.pk})}"' in html
    assert "business-critical" in html
    assert "Nobody" in html
    assert f">{loaded.status.name}<" in html


def test_ago_uses_the_largest_unit() -> None:
    now = timezone.now()
    assert ago(now, now) == "just now"
    assert ago(now - timedelta(minutes=5), now) == "5 minutes ago"
    assert ago(now - timedelta(hours=1, minutes=59), now) == "1 hour ago"
    assert ago(now - timedelta(days=3), now) == "3 days ago"
