"""Issue 4's whole story in one browser session per person, on one live desk.

A requester asks for help in the portal; the agent, watching the queue, sees it arrive
without reloading and replies; the requester reads the reply; the agent resolves it; the
requester confirms it is fixed. Then the agent logs a phone call and resolves it there.
"""

from __future__ import annotations

import re
from importlib import import_module

import pytest
from django.apps import apps
from django.test import override_settings
from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer

from deskside.accounts.tests.test_browser_layout import sign_in
from deskside.browser_testing import DESKTOP, require_vendored_assets
from deskside.testing import Personas
from deskside.tickets.models import Channel, StatusKind, Ticket

SUBJECT = "Printer on floor 3 jams on every page"
NOTE = "A torn label was stuck in tray 2. We removed it; please put labels in the side tray."


@pytest.fixture(autouse=True)
def _catalogue(transactional_db: None) -> None:
    # A live-server test empties every table when it ends, seed data included.
    import_module("deskside.tickets.migrations.0002_seed_catalogue").seed(apps, None)
    import_module("deskside.portal.migrations.0002_seed_questions").seed(apps, None)


@pytest.mark.browser
@override_settings(CONSOLE_POLL_SECONDS=1)
def test_portal_request_to_console_reply_to_confirmed_fix_then_a_call(
    live_server: LiveServer, browser: Browser, personas: Personas
) -> None:
    require_vendored_assets()
    agent = browser.new_context(viewport=DESKTOP, locale="en").new_page()
    requester = browser.new_context(viewport=DESKTOP, locale="en").new_page()
    try:
        sign_in(agent, live_server.url, personas.agent.email)
        agent.goto(f"{live_server.url}/console/tickets/")
        agent.evaluate("window.__sameDocument = true")

        # The requester asks for help through the guided form.
        sign_in(requester, live_server.url, personas.requester.email)
        requester.get_by_role("main").get_by_role("link", name="Ask for help").click()
        requester.get_by_role("link", name="Printing").click()
        requester.get_by_label("Sum it up in a few words").fill(SUBJECT)
        requester.get_by_label("What were you trying to do?").fill("Print the monthly report.")
        requester.get_by_label("What happened instead?").fill("Every page jams in tray 2.")
        requester.get_by_label("Something is wrong or slow, but you can work around it.").check()
        requester.get_by_role("button", name="Send to IT").click()
        expect(requester.get_by_role("heading", level=1)).to_have_text(SUBJECT)

        # The agent's open queue announces it without a reload.
        notice = agent.get_by_role("status").filter(has_text="1 new ticket")
        expect(notice).to_be_visible()
        notice.get_by_role("link", name="Show them").click()
        assert agent.evaluate("window.__sameDocument") is True
        agent.get_by_role("link", name=SUBJECT).click()
        expect(agent.get_by_role("heading", level=1)).to_have_text(SUBJECT)
        agent.get_by_label("Message", exact=True).fill("I'm on my way to the printer now.")
        agent.get_by_role("button", name="Send").click()
        expect(agent.get_by_role("status").filter(has_text="Your reply is sent.")).to_be_visible()
        expect(agent.locator(".thread")).to_contain_text("I'm on my way to the printer now.")

        # The requester sees the reply on their ticket page.
        requester.reload()
        expect(requester.get_by_text("I'm on my way to the printer now.")).to_be_visible()

        # The agent resolves with the plain-language note; the requester confirms the fix.
        agent.get_by_label("What happened, and how to avoid it next time").fill(NOTE)
        agent.locator("#resolve").get_by_role("button", name="Resolve").click()
        expect(agent.get_by_role("status").filter(has_text="Resolved.")).to_be_visible()
        requester.reload()
        expect(requester.get_by_text(NOTE).first).to_be_visible()
        requester.get_by_role("button", name="Yes, it's fixed").click()
        ticket = Ticket.objects.get(subject=SUBJECT)
        assert ticket.channel == Channel.PORTAL
        expect(requester.get_by_text("You confirmed it's fixed").first).to_be_visible()
        ticket.refresh_from_db()
        assert ticket.status_kind == StatusKind.CLOSED
        assert ticket.resolution_note == NOTE

        # Then a call comes in, and is resolved while the caller is on the line.
        agent.get_by_role("link", name="Log a call").first.click()
        agent.get_by_label("Search by name, email or phone number").fill("Bob")
        agent.get_by_role("radio", name=re.compile("^Bob Otherrequester")).check()
        agent.get_by_label("Summary", exact=True).fill("Locked out after holiday")
        agent.get_by_label("What they need", exact=True).fill("Cannot sign in after holiday.")
        agent.get_by_label("What was done on the call", exact=True).fill("Unlocked the account.")
        agent.get_by_label("Resolved on the call", exact=True).check()
        agent.get_by_label("What happened, and how to avoid it next time").fill(
            "Your account locked after five wrong tries. Use 'Forgot password' after two."
        )
        agent.get_by_role("button", name="Log the call").click()
        expect(agent.get_by_role("status").filter(has_text="resolved on the spot")).to_be_visible()
        call = Ticket.objects.get(subject="Locked out after holiday")
        assert call.channel == Channel.PHONE
        assert call.first_contact_resolution
        assert call.requester == personas.other_requester
    finally:
        agent.context.close()
        requester.context.close()
