"""On a phone, an agent links a help article to a ticket, then drafts one from the fix."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.apps import apps
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from deskside.accounts.tests.test_browser_layout import assert_no_sideways_scroll, sign_in
from deskside.browser_testing import require_vendored_assets
from deskside.knowledge import services
from deskside.knowledge.models import Article, ArticleState, TicketArticle
from deskside.knowledge.search import index_article
from deskside.knowledge.tests.conftest import RESOLUTION
from deskside.testing import Personas
from deskside.tickets import services as ticket_services
from deskside.tickets.models import Channel


@pytest.fixture(autouse=True)
def _catalogue(transactional_db: None) -> None:
    # A live-server test empties every table when it ends, seed data included.
    import_module("deskside.tickets.migrations.0002_seed_catalogue").seed(apps, None)


@pytest.mark.browser
def test_agent_links_an_article_and_turns_the_fix_into_one(
    live_server: LiveServer, phone_page: Page, personas: Personas
) -> None:
    require_vendored_assets()
    article = services.article_create(
        actor=personas.agent,
        title="Connect to the VPN from home",
        body="Click the shield icon and choose **Connect**.",
    )
    services.article_publish(article=article, actor=personas.agent)
    index_article(article.pk)  # no transaction to wait for in a live-server test
    ticket = ticket_services.ticket_create(
        actor=personas.requester,
        requester=personas.requester,
        subject="VPN drops at home",
        body="The VPN drops every few minutes.",
        channel=Channel.PORTAL,
        team=personas.team,
    )

    page = phone_page
    sign_in(page, live_server.url, personas.agent.email)
    page.goto(f"{live_server.url}/console/tickets/{ticket.pk}/")
    card = page.locator("#articles")
    expect(card.get_by_role("heading", name="Help articles")).to_be_visible()
    card.get_by_label("Find an article to link").press_sequentially("vpn home")
    # The results arrive in place (htmx), in a live region.
    results = card.locator("#kb-link-results[aria-live='polite']")
    results.get_by_role("button", name="Link Connect to the VPN from home").click()
    expect(page.locator(".messages")).to_contain_text("is linked to this ticket")
    expect(card.get_by_role("link", name="Connect to the VPN from home")).to_be_visible()
    assert TicketArticle.objects.filter(ticket=ticket, article=article).exists()
    assert_no_sideways_scroll(page)

    ticket_services.ticket_resolve(ticket=ticket, actor=personas.agent, note=RESOLUTION)
    page.reload()
    page.locator("#resolve").get_by_role("button", name="Turn into a help article").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit article")
    expect(page.get_by_label("Title")).to_have_value("VPN drops at home")
    drafted = Article.objects.exclude(pk=article.pk).get()
    assert drafted.state == ArticleState.DRAFT
    assert drafted.body == RESOLUTION
