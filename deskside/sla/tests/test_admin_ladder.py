"""The escalation ladder in the Django admin: a rule with its steps, and plain refusals."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from deskside.sla.models import EscalationRule
from deskside.sla.tests.test_admin import inline
from deskside.testing import Personas
from deskside.tickets.models import TicketEvent
from deskside.tickets.views.ticket import describe_event

pytestmark = pytest.mark.django_db

STEPS = "steps"


def rule_form(steps: list[dict[str, str]]) -> dict[str, str]:
    return {
        "name": "Business-critical ladder",
        "is_active": "on",
        "position": "1",
        "priorities": "[1]",
        **inline(STEPS, steps),
    }


def test_an_administrator_builds_a_ladder(client: Client, personas: Personas) -> None:
    client.force_login(personas.admin)
    assert client.get(reverse("admin:sla_escalationrule_add")).status_code == 200
    response = client.post(
        reverse("admin:sla_escalationrule_add"),
        rule_form(
            [
                {"position": "1", "after_minutes": "30", "notify_roles": '["team_lead"]'},
                {"position": "2", "after_minutes": "120", "notify_roles": '["it_managers"]'},
            ]
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    rule = EscalationRule.objects.get()
    assert [step.after_minutes for step in rule.steps.order_by("position")] == [30, 120]


def test_a_step_without_anyone_to_tell_is_refused_plainly(
    client: Client, personas: Personas
) -> None:
    client.force_login(personas.admin)
    response = client.post(
        reverse("admin:sla_escalationrule_add"),
        rule_form([{"position": "1", "after_minutes": "30", "notify_roles": "[]"}]),
    )
    assert response.status_code == 200
    assert "Choose at least one person or role to notify" in response.content.decode()
    assert not EscalationRule.objects.exists()


def test_the_timeline_says_who_was_told(personas: Personas) -> None:
    from deskside.tickets import services
    from deskside.tickets.models import Channel

    ticket = services.ticket_create(
        actor=personas.requester,
        requester=personas.requester,
        subject="Payroll down",
        body="Nobody can run payroll.",
        channel=Channel.PORTAL,
    )
    event = TicketEvent.objects.create(
        ticket=ticket,
        actor=None,
        action="escalated",
        field="step 1",
        new_value="Escalated to Lena Lead (team lead) after 30 minutes",
    )
    assert describe_event(event) == "Escalated to Lena Lead (team lead) after 30 minutes"


def test_a_new_ladder_is_applied_to_tickets_already_open(
    client: Client, personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    from deskside.sla.models import TicketEscalation
    from deskside.tickets import services
    from deskside.tickets.models import Channel

    ticket = services.ticket_create(
        actor=personas.requester,
        requester=personas.requester,
        subject="Payroll down",
        body="Nobody can run payroll.",
        channel=Channel.PORTAL,
        priority=1,
    )
    assert not TicketEscalation.objects.filter(ticket=ticket).exists()
    client.force_login(personas.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:sla_escalationrule_add"),
            rule_form([{"position": "1", "after_minutes": "30", "notify_roles": '["team_lead"]'}]),
        )
    assert response.status_code == 302
    row = TicketEscalation.objects.get(ticket=ticket)
    assert row.next_step_at is not None
