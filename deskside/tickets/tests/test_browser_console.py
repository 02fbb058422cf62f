"""The agent console in a real browser: new tickets arrive by themselves, replies, calls."""

from __future__ import annotations

import re
from importlib import import_module

import pytest
from django.apps import apps
from django.test import override_settings
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from deskside.accounts.tests.test_browser_layout import (
    assert_no_sideways_scroll,
    assert_readable_contrast,
    sign_in,
)
from deskside.browser_testing import while_the_server_reads
from deskside.testing import Personas
from deskside.tickets import services
from deskside.tickets.models import Channel, MessageKind, Priority, StatusKind, Ticket


@pytest.fixture(autouse=True)
def _catalogue(transactional_db: None) -> None:
    # A live-server test empties every table when it ends, the migrations' seed data
    # included, so each test here puts the statuses and categories back (idempotently).
    import_module("deskside.tickets.migrations.0002_seed_catalogue").seed(apps, None)


def _ticket(personas: Personas, subject: str, **extra: object) -> Ticket:
    return while_the_server_reads(
        lambda: services.ticket_create(
            actor=personas.requester,
            requester=personas.requester,
            subject=subject,
            body="Since this morning.",
            channel=Channel.PORTAL,
            team=personas.team,
            **extra,  # type: ignore[arg-type]
        )
    )


@pytest.mark.browser
@override_settings(CONSOLE_POLL_SECONDS=1)
def test_new_ticket_appears_without_reload_and_agent_replies(
    live_server: LiveServer, page: Page, personas: Personas
) -> None:
    _ticket(personas, "Old printer problem")
    sign_in(page, live_server.url, personas.agent.email)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Queues").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("All I may see")
    expect(page.get_by_role("link", name="Old printer problem")).to_be_visible()
    page.evaluate("window.__sameDocument = true")

    arrived = _ticket(personas, "VPN drops every hour", priority=Priority.P1)
    notice = page.get_by_role("status").filter(has_text="1 new ticket")
    expect(notice).to_be_visible()
    notice.get_by_role("link", name="Show them").click()
    row = page.get_by_role("link", name="VPN drops every hour")
    expect(row).to_be_visible()
    # Shown by htmx in the same page, not by a reload.
    assert page.evaluate("window.__sameDocument") is True
    assert_readable_contrast(page)

    row.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("VPN drops every hour")
    expect(page.locator("html")).to_have_attribute("data-console-ready", "true")
    page.keyboard.press("r")
    message = page.get_by_label("Message", exact=True)
    expect(message).to_be_focused()
    message.fill("Please restart the **VPN** app and tell me if it drops again.")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview strong")).to_have_text("VPN")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status").filter(has_text="Your reply is sent.")).to_be_visible()
    expect(page.locator(".thread")).to_contain_text("Please restart the VPN app")
    reply = arrived.messages.get(author=personas.agent)
    assert reply.kind == MessageKind.PUBLIC
    assert_readable_contrast(page)


@pytest.mark.browser
def test_agent_logs_a_call_and_resolves_it_on_the_spot(
    live_server: LiveServer, page: Page, personas: Personas
) -> None:
    sign_in(page, live_server.url, personas.agent.email)
    page.get_by_role("link", name="Log a call").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log a call")
    page.get_by_label("Search by name, email or phone number").fill("7946 0001")
    page.get_by_role("radio", name=re.compile("^Ada Requester")).check()
    page.get_by_label("Summary", exact=True).fill("Outlook keeps asking for a password")
    page.get_by_label("What they need", exact=True).fill("Outlook asks for the password again.")
    page.get_by_label("What was done on the call", exact=True).fill("Signed out and in again.")
    page.get_by_label("Resolved on the call", exact=True).check()
    page.get_by_label("What happened, and how to avoid it next time").fill(
        "Your saved password was old. After a password change, sign out of Outlook once."
    )
    expect(page.get_by_label("Hand on to team")).to_be_hidden()
    page.get_by_role("button", name="Log the call").click()

    expect(page.get_by_role("status").filter(has_text="resolved on the spot")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Outlook keeps asking for a password")
    ticket = Ticket.objects.get(subject="Outlook keeps asking for a password")
    assert ticket.status_kind == StatusKind.RESOLVED
    assert ticket.first_contact_resolution
    assert ticket.channel == Channel.PHONE
    assert ticket.requester == personas.requester


@pytest.mark.browser
def test_console_pages_fit_a_phone(
    live_server: LiveServer, phone_page: Page, personas: Personas
) -> None:
    phone_page.set_viewport_size({"width": 360, "height": 740})
    ticket = _ticket(personas, "A very long subject " * 8)
    sign_in(phone_page, live_server.url, personas.agent.email)
    for address in ("/console/tickets/", f"/console/tickets/{ticket.pk}/", "/console/call/"):
        phone_page.goto(live_server.url + address)
        expect(phone_page.get_by_role("heading", level=1)).to_be_visible()
        assert_no_sideways_scroll(phone_page)


@pytest.mark.browser
def test_shortcuts_list_and_presence(
    live_server: LiveServer, page: Page, personas: Personas
) -> None:
    ticket = _ticket(personas, "Shared screen is black")
    from deskside.tickets import presence

    presence.presence_touch(ticket_id=ticket.pk, user=personas.other_agent, state="replying")
    sign_in(page, live_server.url, personas.agent.email)
    page.goto(f"{live_server.url}/console/tickets/{ticket.pk}/")
    expect(page.get_by_text("Yuri Agent is replying to this ticket")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("data-console-ready", "true")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("a")
    expect(page.get_by_role("status").filter(has_text="Assigned to you.")).to_be_visible()
    ticket.refresh_from_db()
    assert ticket.assignee == personas.agent
