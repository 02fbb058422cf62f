"""The reply box's article picker: an HTML fragment of articles to insert into a reply."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from deskside.knowledge import services
from deskside.knowledge.models import Visibility
from deskside.knowledge.tests.conftest import Capture, Library
from deskside.knowledge.views import PICK_LIMIT
from deskside.testing import Personas

pytestmark = pytest.mark.django_db


class Buttons(HTMLParser):
    """The picker's buttons, with their data attributes as a browser would read them."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "button":
            self.found.append({name: value or "" for name, value in attrs})


def buttons(html: bytes) -> list[dict[str, str]]:
    parser = Buttons()
    parser.feed(html.decode())
    return parser.found


@override_settings(BASE_URL="https://help.example.com")
def test_public_articles_offer_a_link_and_their_text(
    client: Client, personas: Personas, django_capture_on_commit_callbacks: Capture
) -> None:
    body = 'Type "hello" & press <Enter>.\n\n- then wait {{ 5 }} seconds'
    with django_capture_on_commit_callbacks(execute=True):
        article = services.article_create(
            actor=personas.agent, title='Printer "jams" & <fixes>', body=body
        )
        services.article_publish(article=article, actor=personas.agent)
    client.force_login(personas.agent)
    response = client.get(reverse("knowledge:pick"), {"q": "printer"})
    assert response.status_code == 200
    assert b"<script" not in response.content
    link, text = buttons(response.content)
    assert link["data-kb-insert"] == "link"
    assert link["type"] == "button"
    assert link["data-kb-article"] == str(article.pk)
    assert link["data-kb-title"] == 'Printer "jams" & <fixes>'
    assert link["data-kb-url"] == f"https://help.example.com/portal/help/{article.slug}/"
    assert text["data-kb-insert"] == "text"
    assert text["data-kb-text"] == body  # the Markdown exactly as written, once unescaped
    assert "&lt;Enter&gt;" in response.content.decode()  # escaped in the markup itself


def test_internal_and_draft_articles_are_text_only_and_labelled(
    client: Client, personas: Personas, library: Library
) -> None:
    client.force_login(personas.agent)
    response = client.get(reverse("knowledge:pick"), {"q": "mailbox restore"})
    found = buttons(response.content)
    assert [b["data-kb-insert"] for b in found] == ["text"]
    assert found[0]["data-kb-article"] == str(library.internal.pk)
    assert b"IT staff only" in response.content
    assert b"Requesters cannot open this article" in response.content
    drafts = client.get(reverse("knowledge:pick"), {"q": "quotas"})
    assert [b["data-kb-insert"] for b in buttons(drafts.content)] == ["text"]
    assert b"Draft" in drafts.content
    archived = client.get(reverse("knowledge:pick"), {"q": "webmail"})
    assert buttons(archived.content) == []
    assert library.archived.title.encode() not in archived.content


def test_empty_and_unmatched_queries_say_so(
    client: Client, personas: Personas, library: Library
) -> None:
    client.force_login(personas.agent)
    empty = client.get(reverse("knowledge:pick"))
    assert b"Type a few words to find a help article" in empty.content
    nothing = client.get(reverse("knowledge:pick"), {"q": "zebra"})
    assert "No articles match “zebra”".encode() in nothing.content
    assert buttons(nothing.content) == []


def test_at_most_eight_and_staff_only(
    client: Client, personas: Personas, django_capture_on_commit_callbacks: Capture
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(PICK_LIMIT + 3):
            article = services.article_create(
                actor=personas.agent,
                title=f"VPN tip {n}",
                body="Connect to the VPN.",
                visibility=Visibility.PUBLIC,
            )
            services.article_publish(article=article, actor=personas.agent)
    client.force_login(personas.agent)
    response = client.get(reverse("knowledge:pick"), {"q": "vpn"})
    assert PICK_LIMIT == 8
    assert len([b for b in buttons(response.content) if b["data-kb-insert"] == "link"]) == 8
    client.force_login(personas.requester)
    assert client.get(reverse("knowledge:pick"), {"q": "vpn"}).status_code == 302
