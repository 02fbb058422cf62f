"""A requester finds, reads and rates a help article on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from deskside.accounts.tests.test_browser_layout import (
    assert_no_sideways_scroll,
    assert_readable_contrast,
    sign_in,
)
from deskside.browser_testing import require_vendored_assets
from deskside.knowledge import services
from deskside.knowledge.models import ArticleCategory
from deskside.knowledge.search import index_article
from deskside.testing import Personas


@pytest.mark.browser
def test_requester_finds_reads_and_rates_an_article_on_a_phone(
    live_server: LiveServer, phone_page: Page, personas: Personas
) -> None:
    require_vendored_assets()
    category = ArticleCategory.objects.create(name="Email")
    article = services.article_create(
        actor=personas.agent,
        title="Set up email on your phone",
        summary="Read your work email on an iPhone or Android phone.",
        body="1. Install **Outlook** from your app store.\n2. Sign in with your work address.",
        category=category,
    )
    services.article_publish(article=article, actor=personas.agent)
    index_article(article.pk)  # no transaction to wait for in a live-server test

    page = phone_page
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, live_server.url, personas.requester.email)
    page.goto(f"{live_server.url}/portal/help/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Help articles")
    assert_no_sideways_scroll(page)
    page.get_by_label("Search the help articles").fill("outlook")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="1 article found")).to_be_visible()
    page.get_by_role("link", name="Set up email on your phone").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Set up email on your phone")
    expect(page.get_by_role("main").locator("strong", has_text="Outlook")).to_be_visible()
    assert_no_sideways_scroll(page)
    assert_readable_contrast(page)
    page.get_by_label("Anything we could explain better?").fill("Clear, thanks.")
    page.get_by_role("button", name="Yes", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Thank you for telling us")
    article.refresh_from_db()
    assert article.helpful_yes == 1
    assert article.views == 2
