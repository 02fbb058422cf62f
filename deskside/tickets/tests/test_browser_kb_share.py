"""An agent shares a help article from the composer: finds it, inserts a link, sends, and
the article is linked to the ticket (it "helped" one more ticket)."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.apps import apps
from django.conf import settings
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from deskside.accounts.tests.test_browser_layout import sign_in
from deskside.browser_testing import require_vendored_assets
from deskside.knowledge import services as kb_services
from deskside.knowledge.models import TicketArticle
from deskside.knowledge.search import index_article
from deskside.testing import Personas
from deskside.tickets import services
from deskside.tickets.models import Channel, Message, MessageKind


@pytest.fixture(autouse=True)
def _catalogue(transactional_db: None) -> None:
    # A live-server test empties every table when it ends, seed data included.
    import_module("deskside.tickets.migrations.0002_seed_catalogue").seed(apps, None)


@pytest.mark.browser
def test_an_agent_inserts_an_article_link_and_the_article_is_linked_on_send(
    live_server: LiveServer, page: Page, personas: Personas
) -> None:
    require_vendored_assets()
    article = kb_services.article_create(
        actor=personas.agent,
        title="Outlook keeps asking for my password",
        summary="What to do when Outlook asks for your password again and again.",
        body="Close Outlook, open it again and sign in once with your work password.",
    )
    kb_services.article_publish(article=article, actor=personas.agent)
    index_article(article.pk)  # no transaction to wait for in a live-server test
    ticket = services.ticket_create(
        actor=personas.requester,
        requester=personas.requester,
        subject="Password box keeps coming back",
        body="Outlook asks for my password every ten minutes.",
        channel=Channel.PORTAL,
        team=personas.team,
    )

    sign_in(page, live_server.url, personas.agent.email)
    page.goto(f"{live_server.url}/console/tickets/{ticket.pk}/")
    composer = page.locator("#composer")
    composer.get_by_text("Share a help article").click()
    composer.get_by_label("Find an article").press_sequentially("outlook password")
    results = composer.locator("#kb-pick-results")
    results.get_by_role("button", name="Insert link Outlook keeps asking for my password").click()

    box = composer.get_by_label("Message")
    # Links point at the desk's public address (BASE_URL), as they do in email.
    link = f"[{article.title}]({settings.BASE_URL}/portal/help/{article.slug}/)"
    expect(box).to_have_value(link)
    box.press("End")
    box.press_sequentially(" It explains what to do.")
    composer.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Your reply is sent.")).to_be_visible()

    reply = Message.objects.filter(ticket=ticket, kind=MessageKind.PUBLIC).latest("id")
    assert f"/portal/help/{article.slug}/" in reply.body
    assert TicketArticle.objects.filter(ticket=ticket, article=article).exists()
    expect(page.locator("#articles")).to_contain_text(article.title)
