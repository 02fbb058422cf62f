"""Signing in, end to end in a real browser: first-run setup, emailed links, passwords."""

from __future__ import annotations

import re

import pytest
from django.core.mail import EmailMessage
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from deskside.accounts import services
from deskside.accounts.models import Role, User
from deskside.testing import PASSWORD, Personas

NEW_PASSWORD = "a calm morning at the help desk"


@pytest.mark.browser
def test_admin_completes_first_run_setup(live_server: LiveServer, page: Page) -> None:
    token = services.setup_token_create()
    setup_url = f"{live_server.url}/setup/{token}/"

    page.goto(setup_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up your help desk")
    page.get_by_label("Your name", exact=True).fill("Grace Hopper")
    page.get_by_label("Your email address", exact=True).fill("Grace@Example.com")
    page.get_by_label("Choose a password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Type the password again", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create my account").click()

    expect(page).to_have_url(f"{live_server.url}/console/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Grace")
    expect(page.get_by_role("status")).to_have_text("Welcome! Your desk is ready.")
    console_nav = page.get_by_role("navigation", name="Console")
    expect(console_nav.get_by_role("link", name="Administration")).to_be_visible()
    admin = User.objects.get(email="grace@example.com")
    assert admin.role == Role.ADMIN
    assert admin.check_password(NEW_PASSWORD)

    # The link is spent: the same address now answers "not found".
    again = page.goto(setup_url)
    assert again is not None
    assert again.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("We could not find that page")


@pytest.mark.browser
def test_setup_form_ties_help_and_errors_to_fields(live_server: LiveServer, page: Page) -> None:
    page.goto(f"{live_server.url}/setup/{services.setup_token_create()}/")
    password = page.get_by_label("Choose a password", exact=True)
    expect(password).to_have_accessible_description(
        "At least 10 characters. A short sentence is easy to remember."
    )

    page.get_by_label("Your name", exact=True).fill("Grace Hopper")
    page.get_by_label("Your email address", exact=True).fill("grace@example.com")
    password.fill(NEW_PASSWORD)
    page.get_by_label("Type the password again", exact=True).fill(NEW_PASSWORD + " typo")
    page.get_by_role("button", name="Create my account").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("The two passwords are different.")
    # Focus moves to the summary, so it is the first thing a screen reader user hears.
    expect(summary).to_be_focused()
    again = page.get_by_label("Type the password again", exact=True)
    expect(again).to_have_attribute("aria-invalid", "true")
    expect(again).to_have_accessible_description(re.compile("The two passwords are different"))
    expect(password).not_to_have_attribute("aria-invalid", "true")
    assert not User.objects.filter(email="grace@example.com").exists()


@pytest.mark.browser
def test_requester_signs_in_by_magic_link_and_sees_the_portal(
    live_server: LiveServer, page: Page, mailoutbox: list[EmailMessage]
) -> None:
    services.person_create(email="ada@example.com", full_name="Ada Lovelace", role=Role.REQUESTER)

    page.goto(f"{live_server.url}/accounts/sign-in-link/")
    page.get_by_label("Your work email address", exact=True).fill("ada@example.com")
    page.get_by_role("button", name="Send me the link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")

    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["ada@example.com"]
    # The mail links to the configured BASE_URL; open the same path on the live server.
    found = re.search(r"https?://[^/\s]+(/accounts/sign-in-link/\S+/)", str(mailoutbox[0].body))
    assert found is not None, mailoutbox[0].body
    page.goto(live_server.url + found.group(1))

    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome back, Ada")
    page.get_by_role("button", name="Sign me in").click()

    expect(page).to_have_url(f"{live_server.url}/portal/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Ada. How can IT help?")
    portal_nav = page.get_by_role("navigation", name="Portal")
    expect(portal_nav.get_by_role("link", name="Home")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


@pytest.mark.browser
def test_agent_signs_in_and_sees_the_console(
    live_server: LiveServer, page: Page, personas: Personas
) -> None:
    page.goto(f"{live_server.url}/accounts/sign-in/")
    page.get_by_label("Email address", exact=True).fill(personas.agent.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()

    expect(page).to_have_url(f"{live_server.url}/console/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Xena")
    console_nav = page.get_by_role("navigation", name="Console")
    expect(console_nav.get_by_role("link", name="Home")).to_have_attribute("aria-current", "page")
    # Only administrators are offered the administration pages.
    expect(console_nav.get_by_role("link", name="Administration")).to_have_count(0)

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/sign-in/")
    expect(page.get_by_role("status")).to_have_text("You have signed out.")


@pytest.mark.browser
def test_wrong_password_is_announced(
    live_server: LiveServer, page: Page, personas: Personas
) -> None:
    page.goto(f"{live_server.url}/accounts/sign-in/")
    page.get_by_label("Email address", exact=True).fill(personas.agent.email)
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in", exact=True).click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("That email address and password do not match.")
    expect(alert).to_be_focused()
    expect(page).to_have_url(f"{live_server.url}/accounts/sign-in/")
