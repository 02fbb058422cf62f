"""The issue's journey: a requester typing a problem sees the article that fixes it, and
stops there instead of sending a request."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from deskside.accounts.tests.test_browser_layout import sign_in
from deskside.browser_testing import require_vendored_assets
from deskside.knowledge import services
from deskside.knowledge.search import index_article
from deskside.testing import Personas
from deskside.tickets.models import Category, Ticket


@pytest.mark.browser
def test_typing_a_problem_suggests_the_article_that_solves_it(
    live_server: LiveServer, page: Page, personas: Personas
) -> None:
    require_vendored_assets()
    article = services.article_create(
        actor=personas.agent,
        title="Outlook keeps asking for my password",
        summary="What to do when Outlook asks for your password again and again.",
        body="Close Outlook, open it again and sign in once with your work password.",
    )
    services.article_publish(article=article, actor=personas.agent)
    index_article(article.pk)  # no transaction to wait for in a live-server test

    sign_in(page, live_server.url, personas.requester.email)
    category = Category.objects.create(name="Email and calendar")
    page.goto(f"{live_server.url}/portal/new/?category={category.pk}")
    page.locator("#id_subject").press_sequentially("outlook keeps asking for my password")
    suggestions = page.locator("#kb-suggestions")
    expect(
        suggestions.get_by_role("link", name="Outlook keeps asking for my password")
    ).to_be_visible()

    suggestions.get_by_role("button", name=re.compile("This solved it")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Glad that helped.")
    article.refresh_from_db()
    assert article.deflections == 1
    assert Ticket.objects.count() == 0
