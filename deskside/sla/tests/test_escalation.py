"""The escalation ladder: rules, steps in business time, digests, webhooks, one-click pages.

Time is controlled (``clock``): nothing sleeps. The calendar is Monday to Friday, 09:00 to
17:00, in London; December 2026, where the 7th and the 14th are Mondays.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client, override_settings

from deskside.accounts.models import User
from deskside.mail.models import OutboundKind, OutboundMail
from deskside.mail.tests.smtp_sink import SmtpSink, free_port, running_sink
from deskside.sla.escalation import escalation_acknowledge, escalation_run
from deskside.sla.models import (
    BusinessCalendar,
    EscalationNotice,
    EscalationRole,
    EscalationRule,
    EscalationStep,
    SlaPolicy,
    TicketEscalation,
    WebhookState,
)
from deskside.sla.services import sla_sweep
from deskside.sla.tasks import sla_sweep_task
from deskside.sla.tests.clock import (
    ControlledClock,
    calendar_fixture,  # noqa: F401  (a fixture)
    clock_fixture,  # noqa: F401  (a fixture)
    london,
)
from deskside.testing import Personas
from deskside.tickets import services
from deskside.tickets.models import Category, Channel, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

BASE_URL = "https://help.example.com"


@pytest.fixture
def p1_policy(calendar: BusinessCalendar) -> SlaPolicy:
    return SlaPolicy.objects.create(
        name="Business-critical",
        position=1,
        calendar=calendar,
        priorities=[1],
        first_response_minutes=180,
        resolution_minutes=8 * 60,
    )


def make_rule(name: str = "Business-critical", **conditions: Any) -> EscalationRule:
    conditions.setdefault("priorities", [1])
    return EscalationRule.objects.create(name=name, **conditions)


def add_step(rule: EscalationRule, position: int, **options: Any) -> EscalationStep:
    return EscalationStep.objects.create(rule=rule, position=position, **options)


@pytest.fixture
def ladder(personas: Personas) -> EscalationRule:
    """30 minutes: team lead; 2 hours: IT managers; 4 hours: executives."""
    rule = make_rule()
    add_step(rule, 1, after_minutes=30, notify_roles=[EscalationRole.TEAM_LEAD])
    add_step(rule, 2, after_minutes=120, notify_roles=[EscalationRole.IT_MANAGERS])
    add_step(rule, 3, after_minutes=240, notify_roles=[EscalationRole.EXECUTIVES])
    return rule


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


def escalation_of(ticket: Ticket) -> TicketEscalation:
    return TicketEscalation.objects.get(ticket=ticket)


def notified(ticket: Ticket) -> list[tuple[int, str]]:
    return [
        (notice.step.position, notice.recipients)
        for notice in EscalationNotice.objects.filter(ticket=ticket).select_related("step")
    ]


def timeline(ticket: Ticket, action: str) -> list[str]:
    return list(
        TicketEvent.objects.filter(ticket=ticket, action=action)
        .order_by("id")
        .values_list("new_value", flat=True)
    )


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with running_sink() as sink, override_settings(BASE_URL=BASE_URL):
        yield sink


# --- Which tickets climb a ladder ----------------------------------------------------------


def test_only_matching_tickets_get_a_ladder(
    clock: ControlledClock, personas: Personas, ladder: EscalationRule
) -> None:
    printers = Category.objects.create(name="Printers")
    vip_rule = make_rule("VIP printers", priorities=[], vip_only=True, position=5)
    vip_rule.categories.add(printers)
    add_step(vip_rule, 1, after_minutes=60, notify_person=personas.it_manager)

    critical = open_ticket(personas, priority=1)
    normal = open_ticket(personas, priority=3)
    assert escalation_of(critical).rule == ladder
    assert not TicketEscalation.objects.filter(ticket=normal).exists()

    # A change that makes the ticket match puts it on the ladder.
    services.ticket_change_priority(ticket=normal, actor=personas.agent, priority=1)
    assert escalation_of(normal).rule == ladder

    # Category and VIP conditions must both hold.
    other = open_ticket(personas, priority=3)
    services.ticket_change_category(ticket=other, actor=personas.agent, category=printers)
    assert not TicketEscalation.objects.filter(ticket=other).exists()
    personas.requester.is_vip = True
    personas.requester.save()
    other.refresh_from_db()
    services.ticket_change_category(ticket=other, actor=personas.agent, category=None)
    services.ticket_change_category(ticket=other, actor=personas.agent, category=printers)
    assert escalation_of(other).rule == vip_rule

    # A ticket that no longer matches before any step fired leaves the ladder.
    services.ticket_change_priority(ticket=normal, actor=personas.agent, priority=4)
    assert not TicketEscalation.objects.filter(ticket=normal).exists()


# --- Steps in order, in business time ------------------------------------------------------


def test_steps_fire_in_order_by_business_age(
    clock: ControlledClock, personas: Personas, p1_policy: SlaPolicy, ladder: EscalationRule
) -> None:
    clock.set(london(11, 16, 45))  # Friday, a quarter of an hour before closing
    ticket = open_ticket(personas)
    assert escalation_of(ticket).next_step_at == london(14, 9, 15)  # Monday

    assert escalation_run(now=london(12, 12)) == []  # Saturday: no working time passes
    [first] = escalation_run(now=london(14, 9, 15))
    assert first.step.position == 1
    assert notified(ticket) == [(1, "Lena Lead (team lead)")]
    assert timeline(ticket, "escalated") == ["Escalated to Lena Lead (team lead) after 30 minutes"]
    assert escalation_of(ticket).next_step_at == london(14, 10, 45)

    assert escalation_run(now=london(14, 10, 44)) == []
    escalation_run(now=london(14, 10, 45))
    escalation_run(now=london(14, 12, 45))
    assert notified(ticket) == [
        (1, "Lena Lead (team lead)"),
        (2, "Mo Manager (IT manager)"),
        (3, "Eve Executive (executive)"),
    ]
    row = escalation_of(ticket)
    assert (row.steps_done, row.next_step_at) == (3, None)  # the top of the ladder


def test_a_late_run_fires_overdue_steps_in_order(
    clock: ControlledClock, personas: Personas, ladder: EscalationRule
) -> None:
    open_ticket(personas)  # no SLA policy: ages count around the clock
    notices = escalation_run(now=london(7, 14, 30))
    assert [n.step.position for n in notices] == [1, 2, 3]
    assert escalation_run(now=london(7, 15)) == []


def test_resolved_tickets_stop_the_ladder(
    clock: ControlledClock, personas: Personas, ladder: EscalationRule
) -> None:
    ticket = open_ticket(personas)
    clock.set(london(7, 10, 10))
    services.ticket_resolve(
        ticket=ticket, actor=personas.agent, note="Restarted the payroll server for Finance."
    )
    assert escalation_of(ticket).next_step_at is None
    assert escalation_run(now=london(7, 18)) == []


def test_on_breach_step_fires_when_the_sweep_reports_a_breach(
    clock: ControlledClock, personas: Personas, p1_policy: SlaPolicy
) -> None:
    rule = make_rule()
    add_step(rule, 1, on_breach=True, notify_roles=[EscalationRole.ADMINS])
    ticket = open_ticket(personas)  # Monday 10:00; first response due 13:00
    assert escalation_of(ticket).next_step_at is None  # waits for a breach

    assert escalation_run(events=sla_sweep(now=london(7, 12)), now=london(7, 12)) == []
    events = sla_sweep(now=london(7, 13))
    assert any(event.is_breach for event in events)
    [notice] = escalation_run(events=events, now=london(7, 13))
    assert notice.recipients == "Ari Admin (administrator)"
    assert timeline(ticket, "escalated") == [
        "Escalated to Ari Admin (administrator) after an SLA target was missed"
    ]


def test_the_minute_task_runs_the_ladder_after_the_sweep(
    clock: ControlledClock, personas: Personas, p1_policy: SlaPolicy
) -> None:
    rule = make_rule()
    add_step(rule, 1, on_breach=True, notify_roles=[EscalationRole.TEAM_LEAD])
    ticket = open_ticket(personas)
    clock.set(london(7, 13))  # the first response target passes
    sla_sweep_task.call_local()
    assert notified(ticket) == [(1, "Lena Lead (team lead)")]


# --- The digest mail -----------------------------------------------------------------------


def test_each_recipient_gets_one_digest_per_run(
    clock: ControlledClock,
    personas: Personas,
    ladder: EscalationRule,
    sink: SmtpSink,
    commit: Callable[[], AbstractContextManager[Any]],
) -> None:
    EscalationStep.objects.filter(rule=ladder, position=2).update(
        notify_roles=[EscalationRole.TEAM_LEAD, EscalationRole.IT_MANAGERS]
    )
    first = open_ticket(personas, subject="Payroll down")
    second = open_ticket(personas, subject="Card payments failing")
    clock.set(london(7, 10, 5))
    services.ticket_reply(ticket=second, actor=personas.agent, body="We are restarting the till.")
    services.ticket_add_note(ticket=second, actor=personas.agent, body="Vendor called.")

    with commit():
        notices = escalation_run(now=london(7, 10, 40))
    assert len(notices) == 2  # step 1 for each ticket: one mail for both
    [mail] = sink.messages
    assert mail.rcpt_tos == [personas.team_lead.email]
    assert mail.message["Subject"] == "2 business-critical tickets need you"
    text = mail.text()
    for fact in (
        f"#{first.pk} Payroll down",
        f"#{second.pk} Card payments failing",
        "Ada Requester, Finance",
        "40 minutes of working time",
        "No reply yet.",
        "1 reply and 1 note so far.",
        "“We are restarting the till.”",
        "No first response after 30 minutes",
        f"{BASE_URL}/console/sla/escalations/{first.pk}/acknowledge/",
        f"{BASE_URL}/console/sla/escalations/{second.pk}/take/",
        f"{BASE_URL}/console/sla/escalations/{first.pk}/reassign/",
    ):
        assert fact in text, fact
    assert f"/console/sla/escalations/{first.pk}/acknowledge/" in mail.html()

    # Step 2 tells the team lead again and the IT managers: one mail each, both tickets.
    with commit():
        escalation_run(now=london(7, 12))
    recipients = sorted(m.rcpt_tos[0] for m in sink.messages[1:])
    assert recipients == [personas.team_lead.email, personas.it_manager.email]
    for mail in sink.messages[1:]:
        assert mail.message["Subject"] == "2 business-critical tickets need you"
    assert OutboundMail.objects.filter(kind=OutboundKind.ESCALATION_DIGEST).count() == 3


def test_people_who_cannot_act_get_the_facts_without_buttons(
    clock: ControlledClock,
    personas: Personas,
    sink: SmtpSink,
    commit: Callable[[], AbstractContextManager[Any]],
) -> None:
    personas.department.head = personas.other_requester
    personas.department.save()
    rule = make_rule()
    add_step(rule, 1, after_minutes=30, notify_department_head=True)
    ticket = open_ticket(personas)
    with commit():
        escalation_run(now=london(7, 10, 30))
    [mail] = sink.messages
    assert mail.rcpt_tos == [personas.other_requester.email]
    assert f"#{ticket.pk} Payroll down" in mail.text()
    assert "/acknowledge/" not in mail.text()
    assert notified(ticket) == [(1, "Bob Otherrequester (head of department)")]


# --- Acknowledging, resuming, idempotency ------------------------------------------------


def test_acknowledging_stops_the_ladder_until_the_next_breach(
    clock: ControlledClock, personas: Personas, p1_policy: SlaPolicy, ladder: EscalationRule
) -> None:
    ticket = open_ticket(personas)  # Monday 10:00; first response due at 13:00
    escalation_run(now=london(7, 10, 30))
    clock.set(london(7, 10, 35))
    escalation_acknowledge(ticket=ticket, actor=personas.team_lead)
    assert timeline(ticket, "escalation_acknowledged") == [
        "Lena Lead acknowledged the escalation; no further steps until a target is missed"
    ]
    # Step 2 (12:00) does not fire: someone is on it.
    assert escalation_run(now=london(7, 12, 30)) == []
    # A change to the ticket keeps it stopped.
    services.ticket_change_priority(ticket=ticket, actor=personas.agent, priority=1)
    assert escalation_of(ticket).next_step_at is None

    # The first response target is missed at 13:00: the ladder resumes with step 2.
    events = sla_sweep(now=london(7, 13))
    [notice] = escalation_run(events=events, now=london(7, 13))
    assert notice.step.position == 2
    assert len(timeline(ticket, "escalation_resumed")) == 1
    row = escalation_of(ticket)
    assert row.acknowledged_at is None
    assert row.next_step_at == london(7, 14)  # step 3 at four business hours


def test_overlapping_runs_fire_a_step_once(
    clock: ControlledClock, personas: Personas, ladder: EscalationRule
) -> None:
    ticket = open_ticket(personas)
    assert len(escalation_run(now=london(7, 10, 30))) == 1
    # A second worker that read the row before the first one saved it.
    TicketEscalation.objects.filter(ticket=ticket).update(
        steps_done=0, next_step_at=london(7, 10, 30)
    )
    assert escalation_run(now=london(7, 10, 30)) == []
    assert notified(ticket) == [(1, "Lena Lead (team lead)")]
    assert len(timeline(ticket, "escalated")) == 1
    assert OutboundMail.objects.filter(kind=OutboundKind.ESCALATION_DIGEST).count() == 1
    assert escalation_of(ticket).steps_done == 1


# --- Actions -------------------------------------------------------------------------------


def test_actions_raise_priority_and_reassign_team(
    clock: ControlledClock, personas: Personas, p1_policy: SlaPolicy
) -> None:
    rule = make_rule("High", priorities=[2])
    add_step(
        rule,
        1,
        after_minutes=60,
        notify_roles=[EscalationRole.IT_MANAGERS],
        raise_priority_to=1,
        reassign_team=personas.other_team,
    )
    add_step(rule, 2, after_minutes=120, notify_roles=[EscalationRole.EXECUTIVES])
    ticket = open_ticket(personas, priority=2)
    escalation_run(now=london(7, 11))
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.team) == (1, personas.other_team)
    changes = TicketEvent.objects.filter(
        ticket=ticket, actor=None, action__in=["priority", "assign"]
    )
    assert sorted((e.action, e.old_value, e.new_value) for e in changes) == [
        ("assign", "Service Desk", "Infrastructure"),
        ("priority", "P2", "P1"),
    ]
    # The SLA clocks follow the new priority, and the ticket stays on its own ladder.
    assert ticket.sla.policy == p1_policy
    row = escalation_of(ticket)
    assert (row.rule, row.steps_done, row.next_step_at) == (rule, 1, london(7, 12))


# --- Webhooks ------------------------------------------------------------------------------


class _Hook(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, Any]]] = []

    def do_POST(self) -> None:  # the name http.server calls
        length = int(self.headers["Content-Length"])
        self.received.append((self.headers["Content-Type"], json.loads(self.rfile.read(length))))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output quiet


@pytest.fixture
def hook_server() -> Iterator[tuple[str, list[tuple[str, dict[str, Any]]]]]:
    received: list[tuple[str, dict[str, Any]]] = []
    handler = type("Hook", (_Hook,), {"received": received})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/escalations", received
    finally:
        server.shutdown()
        server.server_close()


def test_webhook_gets_a_short_summary(
    clock: ControlledClock,
    personas: Personas,
    hook_server: tuple[str, list[tuple[str, dict[str, Any]]]],
) -> None:
    url, received = hook_server
    rule = make_rule()
    add_step(rule, 1, after_minutes=30, notify_roles=[EscalationRole.TEAM_LEAD], webhook_url=url)
    ticket = open_ticket(personas)
    with override_settings(BASE_URL=BASE_URL):
        [notice] = escalation_run(now=london(7, 10, 30))
    [(content_type, payload)] = received
    assert content_type == "application/json"
    assert list(payload) == ["text"]
    text = payload["text"]
    assert f"#{ticket.pk} Payroll down" in text
    assert "Ada Requester, Finance" in text
    assert "No first response after 30 minutes" in text
    assert f"{BASE_URL}/console/sla/escalations/{ticket.pk}/reassign/" in text
    notice.refresh_from_db()
    assert (notice.webhook_state, notice.webhook_error) == (WebhookState.SENT, "")


def test_a_failing_webhook_does_not_break_the_run(
    clock: ControlledClock, personas: Personas, ladder: EscalationRule
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/nobody-listens"
    EscalationStep.objects.filter(rule=ladder, position=1).update(webhook_url=dead)
    first = open_ticket(personas)
    second = open_ticket(personas)
    notices = escalation_run(now=london(7, 10, 30))
    assert len(notices) == 2
    for notice in notices:
        notice.refresh_from_db()
        assert notice.webhook_state == WebhookState.FAILED
        assert "refused" in notice.webhook_error.lower()
    assert escalation_of(first).steps_done == escalation_of(second).steps_done == 1
    assert OutboundMail.objects.filter(kind=OutboundKind.ESCALATION_DIGEST).count() == 1


# --- One-click pages -----------------------------------------------------------------------


def _escalated(personas: Personas) -> Ticket:
    rule = make_rule()
    add_step(rule, 1, after_minutes=30, notify_roles=[EscalationRole.TEAM_LEAD])
    ticket = open_ticket(personas)
    escalation_run(now=london(7, 10, 30))
    return ticket


def _signed_in(person: User) -> Client:
    client = Client()
    client.force_login(person)
    return client


def test_acknowledge_page_confirms_before_changing_anything(
    clock: ControlledClock, personas: Personas
) -> None:
    ticket = _escalated(personas)
    url = f"/console/sla/escalations/{ticket.pk}/acknowledge/"
    client = _signed_in(personas.team_lead)

    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'method="post"' in html
    assert ">Acknowledge</button>" in html
    assert "No first response after 30 minutes" in html
    assert escalation_of(ticket).acknowledged_at is None  # a mail scanner's GET does nothing

    done = client.post(url)
    assert done.status_code == 302
    assert done["Location"] == f"/console/tickets/{ticket.pk}/"
    row = escalation_of(ticket)
    assert (row.acknowledged_by, row.next_step_at) == (personas.team_lead, None)
    again = client.get(url).content.decode()
    assert "Lena Lead already acknowledged it" in again
    assert len(timeline(ticket, "escalation_acknowledged")) == 1
    client.post(url)  # a second click changes nothing
    assert len(timeline(ticket, "escalation_acknowledged")) == 1


def test_take_page_assigns_to_the_person(clock: ControlledClock, personas: Personas) -> None:
    ticket = _escalated(personas)
    client = _signed_in(personas.team_lead)
    url = f"/console/sla/escalations/{ticket.pk}/take/"
    assert client.get(url).status_code == 200
    ticket.refresh_from_db()
    assert ticket.assignee is None
    assert client.post(url).status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee == personas.team_lead
    assert escalation_of(ticket).acknowledged_by == personas.team_lead

    reassign = client.get(f"/console/sla/escalations/{ticket.pk}/reassign/")
    assert reassign.status_code == 302
    assert reassign["Location"].startswith(f"/console/tickets/{ticket.pk}/")


def test_pages_are_not_found_for_people_who_cannot_change_the_ticket(
    clock: ControlledClock, personas: Personas
) -> None:
    ticket = _escalated(personas)
    personas.team.is_restricted = True
    personas.team.save()
    for action in ("acknowledge", "take", "reassign"):
        url = f"/console/sla/escalations/{ticket.pk}/{action}/"
        for person in (personas.requester, personas.other_requester, personas.other_agent):
            client = _signed_in(person)
            assert client.get(url).status_code == 404, (action, person)
            if action != "reassign":
                assert client.post(url).status_code == 404, (action, person)
        anonymous = Client().get(url)
        assert anonymous.status_code == 302
        assert "/accounts/" in anonymous["Location"]
    assert escalation_of(ticket).acknowledged_at is None
    # The team's own agent still can.
    assert _signed_in(personas.agent).get(url).status_code == 302


def test_acknowledging_a_ticket_without_a_ladder_says_so(
    clock: ControlledClock, personas: Personas
) -> None:
    ticket = open_ticket(personas)
    response = _signed_in(personas.agent).post(f"/console/sla/escalations/{ticket.pk}/acknowledge/")
    assert response.status_code == 400
    assert "not being escalated" in response.content.decode()


# --- What administrators enter -----------------------------------------------------------


def _errors(obj: EscalationRule | EscalationStep) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        obj.full_clean()
    return caught.value.message_dict


def test_steps_are_checked_with_plain_messages(db: None) -> None:
    rule = make_rule()
    errors = _errors(EscalationStep(rule=rule, position=1, after_minutes=0))
    assert errors["notify_roles"] == ["Choose at least one person or role to notify."]
    assert errors["after_minutes"] == [
        "Give an age of at least one minute, or choose “when an SLA target is missed”."
    ]
    errors = _errors(
        EscalationStep(
            rule=rule,
            position=1,
            on_breach=True,
            notify_roles=["everyone"],
            webhook_url="ftp://chat.example.com/hook",
        )
    )
    assert errors["notify_roles"] == [
        "List roles from: team_lead, it_managers, executives, admins."
    ]
    assert "The webhook address must start with https:// (or http://)." in errors["webhook_url"]
    assert "after_minutes" not in errors  # on breach needs no age
    EscalationStep(rule=rule, position=1, on_breach=True, notify_roles=["it_managers"]).full_clean()

    assert _errors(EscalationRule(name="Odd", priorities=[7]))["priorities"] == [
        "List priorities as numbers from 1 to 4, such as [1, 2]."
    ]
