"""The requester's whole journey in a real browser: ask, follow, read the reply, confirm."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from deskside.accounts.tests.test_browser_layout import (
    assert_no_sideways_scroll,
    assert_readable_contrast,
    sign_in,
)
from deskside.browser_testing import require_vendored_assets
from deskside.testing import Personas
from deskside.tickets import services
from deskside.tickets.models import Category, Channel, Priority, StatusKind, Ticket

SUBJECT = "VPN drops every few minutes"
RESOLUTION = (
    "Your VPN app was an old version that drops on home Wi-Fi. We updated it; if it "
    "happens again, restart the laptop so updates can finish."
)


@pytest.mark.browser
@pytest.mark.usefixtures("catalogue")
def test_requester_asks_for_help_follows_it_and_confirms_the_fix(
    live_server: LiveServer, page: Page, personas: Personas, tmp_path: Path
) -> None:
    require_vendored_assets()
    sign_in(page, live_server.url, personas.requester.email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("How can IT help?")
    page.get_by_role("main").get_by_role("link", name="Ask for help").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("What is it about?")
    page.get_by_role("link", name="Printing").click()
    expect(page.get_by_label("Which printer?")).to_be_visible()
    # Changing the topic swaps in that topic's questions without a reload (htmx).
    page.get_by_label("What is it about?").select_option(label="Network/VPN")
    expect(page.get_by_text("Where are you working from?")).to_be_visible()
    expect(page.get_by_label("Which printer?")).to_have_count(0)

    page.get_by_label("Sum it up in a few words").fill(SUBJECT)
    page.get_by_label("What were you trying to do?").fill("Work on the budget from home.")
    page.get_by_label("What happened instead?").fill("The VPN disconnects and files close.")
    page.get_by_label("The exact error message, if you saw one").fill("Connection lost (809)")
    page.get_by_label("At home").check()
    page.get_by_label("You, or a few people, cannot do an important part of your work.").check()
    screenshot = tmp_path / "vpn error.png"
    screenshot.write_bytes(b"\x89PNG\r\n\x1a\n")
    page.get_by_label("Screenshots or files").set_input_files(str(screenshot))
    page.get_by_role("button", name="Send to IT").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(SUBJECT)
    expect(page.get_by_role("status")).to_contain_text("Thank you. We've received your request")
    expect(page.get_by_text("vpn error.png")).to_be_visible()
    ticket = Ticket.objects.get(subject=SUBJECT)
    assert ticket.channel == Channel.PORTAL
    assert ticket.category == Category.objects.get(name="Network/VPN")
    assert ticket.priority == Priority.P2
    assert "Where are you working from?:** At home" in ticket.messages.get().body
    assert_readable_contrast(page)

    page.get_by_role("navigation", name="Portal").get_by_role("link", name="My requests").click()
    expect(page.get_by_role("link", name=SUBJECT)).to_be_visible()
    expect(page.get_by_text("We've received it")).to_be_visible()

    services.ticket_assign(ticket=ticket, actor=personas.agent, assignee=personas.agent)
    services.ticket_reply(
        ticket=ticket, actor=personas.agent, body="Thanks, Ada. I'm updating your VPN app now."
    )
    services.ticket_resolve(ticket=ticket, actor=personas.agent, note=RESOLUTION)

    page.get_by_role("link", name=SUBJECT).click()
    expect(page.get_by_text("I'm updating your VPN app now.")).to_be_visible()
    expect(page.get_by_text("Xena from IT is on it")).to_be_visible()
    resolution = page.get_by_role("region", name="What happened and how to avoid it")
    expect(resolution).to_contain_text("restart the laptop so updates can finish")
    page.get_by_label("Anything to add?").fill("Working perfectly, thank you!")
    page.get_by_role("button", name="Yes, it's fixed").click()

    expect(page.get_by_role("status")).to_contain_text("Great, thank you for letting us know.")
    expect(page.get_by_text("You confirmed it's fixed")).to_be_visible()
    ticket.refresh_from_db()
    assert ticket.status_kind == StatusKind.CLOSED
    assert_readable_contrast(page)

    # Every portal page fits a small phone without sideways scrolling.
    page.set_viewport_size({"width": 360, "height": 740})
    for path in ("/portal/", "/portal/new/", f"/portal/new/?category={ticket.category_id}",
                 "/portal/tickets/", f"/portal/tickets/{ticket.pk}/"):  # fmt: skip
        page.goto(live_server.url + path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert_no_sideways_scroll(page)
