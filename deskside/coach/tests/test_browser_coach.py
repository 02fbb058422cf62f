"""The issue's coach journey in a real browser: an agent writing "Please flush your DNS
cache and reconnect to the VPN" sees both terms flagged with plain alternatives, applies
one, and is asked gently (never stopped) about the rest when sending."""

from __future__ import annotations

import re
from importlib import import_module

import pytest
from django.apps import apps
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from deskside.accounts.tests.test_browser_layout import sign_in
from deskside.browser_testing import require_vendored_assets
from deskside.coach.models import SentReading
from deskside.testing import Personas
from deskside.tickets import services as ticket_services
from deskside.tickets.models import Channel, Message, MessageKind, Ticket

DRAFT = "Please flush your DNS cache and reconnect to the VPN."


@pytest.fixture(autouse=True)
def _catalogue(transactional_db: None) -> None:
    # A live-server test empties every table when it ends, seed data included.
    import_module("deskside.tickets.migrations.0002_seed_catalogue").seed(apps, None)


@pytest.fixture
def printer_ticket(personas: Personas, shipped_terms: None) -> Ticket:
    return ticket_services.ticket_create(
        actor=personas.requester,
        requester=personas.requester,
        subject="Websites will not load",
        body="Since this morning no website opens on my laptop.",
        channel=Channel.PORTAL,
        team=personas.team,
    )


def open_ticket(page: Page, url: str, personas: Personas, ticket: Ticket) -> None:
    require_vendored_assets()
    sign_in(page, url, personas.agent.email)
    page.goto(f"{url}/console/tickets/{ticket.pk}/")
    expect(page.locator("html[data-coach-ready='true']")).to_have_count(1)


@pytest.mark.browser
def test_the_coach_flags_terms_and_applies_a_plain_alternative(
    live_server: LiveServer, page: Page, personas: Personas, printer_ticket: Ticket
) -> None:
    open_ticket(page, live_server.url, personas, printer_ticket)
    composer = page.locator("#composer")
    box = composer.get_by_label("Message")
    box.press_sequentially(DRAFT)

    coach = composer.locator("[data-coach-panel]")
    expect(coach.get_by_text("Ada might not know “DNS” (Domain Name System).")).to_be_visible()
    expect(coach.get_by_text("Ada might not know “VPN” (virtual private network).")).to_be_visible()
    expect(coach.locator("[data-coach-meter]")).to_contain_text("terms to explain")
    # Both are highlighted in place, under the text box.
    marks = composer.locator(".coach-backdrop mark")
    expect(marks.filter(has_text=re.compile("^DNS$"))).to_have_count(1)
    expect(marks.filter(has_text=re.compile("^VPN$"))).to_have_count(1)

    vpn = coach.locator(".coach-issue").filter(has_text="“VPN”")
    vpn.get_by_role("button", name="Use “office connection”").click()
    expect(box).to_have_value("Please flush your DNS cache and reconnect to the office connection.")
    expect(coach.get_by_text("Ada might not know “VPN”", exact=False)).to_have_count(0)

    dns = coach.locator(".coach-issue").filter(has_text="“DNS”")
    dns.get_by_role("button", name="Add explanation").click()
    expect(box).to_have_value(
        re.compile(r"^Please flush your DNS \(the service that turns a website name .*\) cache")
    )
    expect(coach.get_by_text("Ada might not know “DNS”", exact=False)).to_have_count(0)

    # "cache" is still unexplained: sending asks once, and "Send anyway" sends.
    composer.get_by_role("button", name="Send").click()
    dialog = page.get_by_role("dialog", name="Before you send")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Ada might not know: cache")
    dialog.get_by_role("button", name="Review").click()
    expect(dialog).to_be_hidden()
    composer.get_by_role("button", name="Send").click()
    dialog.get_by_role("button", name="Send anyway").click()
    expect(page.get_by_text("Your reply is sent.")).to_be_visible()

    reply = Message.objects.filter(ticket=printer_ticket, kind=MessageKind.PUBLIC).latest("id")
    assert "office connection" in reply.body
    reading = SentReading.objects.get(message=reply)
    # Left in: "cache", and the sentence the explanation made long (over 25 words).
    assert (reading.applied, reading.warnings) == (2, 2)


@pytest.mark.browser
def test_internal_notes_are_not_coached_and_plain_replies_send_straight_away(
    live_server: LiveServer, page: Page, personas: Personas, printer_ticket: Ticket
) -> None:
    open_ticket(page, live_server.url, personas, printer_ticket)
    composer = page.locator("#composer")
    composer.get_by_label("Internal note").check()
    composer.get_by_label("Message").fill(DRAFT)
    expect(composer.locator("[data-coach-panel]")).to_be_hidden()
    composer.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Your internal note is added.")).to_be_visible()

    composer = page.locator("#composer")
    composer.get_by_label("Reply to the requester").check()
    composer.get_by_label("Message").fill("I have restarted the office printer. Try again now.")
    expect(composer.locator("[data-coach-meter]")).to_contain_text("No problems found")
    composer.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Your reply is sent.")).to_be_visible()
    assert page.get_by_role("dialog").count() == 0


@pytest.mark.browser
def test_the_article_editor_is_coached_too(
    live_server: LiveServer, page: Page, personas: Personas, shipped_terms: None
) -> None:
    require_vendored_assets()
    sign_in(page, live_server.url, personas.agent.email)
    page.goto(f"{live_server.url}/console/knowledge/new/")
    page.get_by_label("Title").fill("Working from home")
    page.locator("textarea[data-coach='article']").fill(
        "Connect to the VPN before you open the shared drive."
    )
    coach = page.locator("[data-coach-panel]")
    expect(coach.get_by_text("Your reader might not know “VPN”", exact=False)).to_be_visible()
    coach.get_by_role("button", name="Add explanation").first.click()
    expect(page.locator("textarea[data-coach='article']")).to_have_value(
        re.compile(r"^Connect to the VPN \(a secure link that lets your computer")
    )
