"""Service levels end to end in a real browser, with a controlled clock.

An administrator builds a calendar, a policy and a ladder in the admin; a P1 ticket shows
its deadline in the console; as time passes the team lead and then the IT manager each get
one digest; the lead acknowledges from the digest's link, and the ladder stops there.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from importlib import import_module
from typing import Any

import pytest
from django.apps import apps
from django.test import override_settings
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from deskside.accounts.tests.test_browser_layout import sign_in
from deskside.mail.tests.smtp_sink import SmtpSink, running_sink
from deskside.sla.models import EscalationRule, SlaPolicy, TicketEscalation
from deskside.sla.tasks import sla_sweep_task
from deskside.testing import Personas
from deskside.tickets import services
from deskside.tickets.models import Channel, Priority, Ticket

START = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # a Monday morning


class Clock:
    def __init__(self) -> None:
        self.now = START

    def advance(self, minutes: int) -> None:
        self.now = START + timedelta(minutes=minutes)


@pytest.fixture(autouse=True)
def _catalogue(transactional_db: None) -> None:
    # A live-server test empties every table when it ends, the seed data included.
    import_module("deskside.tickets.migrations.0002_seed_catalogue").seed(apps, None)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    # The live server runs in this process, so the web pages see this clock too.
    controlled = Clock()
    monkeypatch.setattr(timezone, "now", lambda: controlled.now)
    return controlled


def fill(page: Page, selector: str, value: str) -> None:
    field = page.locator(selector)
    if field.evaluate("element => element.tagName") == "SELECT":
        field.select_option(value)
    else:
        field.fill(value)


def sweep() -> None:
    sla_sweep_task.call_local()


def digests_to(sink: SmtpSink, address: str) -> list[Any]:
    return [mail for mail in sink.messages if address in mail.rcpt_tos]


@pytest.mark.browser
def test_calendar_policy_ladder_deadline_digests_and_acknowledgement(
    live_server: LiveServer, page: Page, personas: Personas, clock: Clock
) -> None:
    with running_sink() as sink, override_settings(BASE_URL=live_server.url):
        sign_in(page, live_server.url, personas.admin.email)

        # A calendar that is always open keeps the arithmetic easy to read here; business
        # hours, holidays and DST are covered by the unit and property tests.
        page.goto(f"{live_server.url}/admin/sla/businesscalendar/add/")
        fill(page, "#id_name", "Around the clock")
        fill(page, "#id_timezone", "Europe/London")
        page.locator("#id_always_open").check()
        page.locator("input[name=_save]").click()
        expect(page.locator(".messagelist")).to_contain_text("was added successfully")

        page.goto(f"{live_server.url}/admin/sla/slapolicy/add/")
        fill(page, "#id_name", "Business-critical")
        page.locator("#id_calendar").select_option(label="Around the clock")
        fill(page, "#id_priorities", "[1]")
        fill(page, "#id_first_response_minutes", "60")
        fill(page, "#id_resolution_minutes", "480")
        page.locator("input[name=_save]").click()
        expect(page.locator(".messagelist")).to_contain_text("was added successfully")
        assert SlaPolicy.objects.get().priorities == [1]

        page.goto(f"{live_server.url}/admin/sla/escalationrule/add/")
        fill(page, "#id_name", "P1 ladder")
        fill(page, "#id_priorities", "[1]")
        steps = [(30, '["team_lead"]'), (120, '["it_managers"]'), (240, '["executives"]')]
        for index, (minutes, roles) in enumerate(steps):
            if index:
                page.locator("#steps-group .add-row a").click()
            fill(page, f"#id_steps-{index}-position", str(index + 1))
            fill(page, f"#id_steps-{index}-after_minutes", str(minutes))
            fill(page, f"#id_steps-{index}-notify_roles", roles)
        page.locator("input[name=_save]").click()
        expect(page.locator(".messagelist")).to_contain_text("was added successfully")
        assert EscalationRule.objects.get().steps.count() == 3

        # A business-critical ticket arrives; the console shows when it is due.
        ticket = services.ticket_create(
            actor=personas.requester,
            requester=personas.requester,
            subject="Payroll run fails",
            body="Nobody in Finance can run the payroll.",
            channel=Channel.PORTAL,
            team=personas.team,
            priority=Priority.P1,
        )
        assert Ticket.objects.get(pk=ticket.pk).sla_due_at == START + timedelta(minutes=60)
        page.goto(f"{live_server.url}/console/tickets/?queue=all&sort=due")
        row = page.locator("tr", has=page.get_by_role("link", name="Payroll run fails"))
        expect(row).to_contain_text("due in 1 h")

        # 31 minutes later: the team lead, and only the team lead, hears about it.
        clock.advance(31)
        sweep()
        lead_mail = digests_to(sink, personas.team_lead.email)
        assert len(lead_mail) == 1
        assert "Payroll run fails" in lead_mail[0].text()
        assert digests_to(sink, personas.it_manager.email) == []
        sweep()  # the next minute's run adds nothing
        assert len(digests_to(sink, personas.team_lead.email)) == 1

        # Two hours in: the IT manager gets one digest.
        clock.advance(121)
        sweep()
        assert len(digests_to(sink, personas.it_manager.email)) == 1
        assert len(digests_to(sink, personas.team_lead.email)) == 1

        # The lead acknowledges from the link in the digest.
        link = re.search(r"https?://\S+/acknowledge/", lead_mail[0].text())
        assert link is not None, lead_mail[0].text()
        page.get_by_role("button", name="Sign out").click()
        sign_in(page, live_server.url, personas.team_lead.email)
        page.goto(link.group(0))
        page.get_by_role("button", name=re.compile("Acknowledge", re.IGNORECASE)).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Payroll run fails")
        assert TicketEscalation.objects.get(ticket=ticket).acknowledged_by == personas.team_lead

        # Four hours in: the executive step is not taken; nobody is mailed again.
        before = len(sink.messages)
        clock.advance(241)
        sweep()
        executive_mail = digests_to(sink, personas.executive.email)
        assert executive_mail == []
        assert len(sink.messages) == before
