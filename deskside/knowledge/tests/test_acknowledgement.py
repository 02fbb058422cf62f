"""The acknowledgement mail suggests up to three help articles, through a real SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings

from deskside.knowledge import services
from deskside.knowledge.models import Article, Visibility
from deskside.mail.tests.smtp_sink import SmtpSink, ensure_ticket_catalogue, running_sink
from deskside.testing import Commit, Personas
from deskside.tickets import services as ticket_services
from deskside.tickets.models import Channel, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with running_sink() as sink, override_settings(BASE_URL="https://help.example.com"):
        yield sink


@pytest.fixture
def articles(personas: Personas, commit: Commit) -> dict[str, Article]:
    ensure_ticket_catalogue()
    made: dict[str, Article] = {}

    def article(key: str, title: str, body: str, publish: bool = True, **extra: Any) -> None:
        created = services.article_create(actor=personas.agent, title=title, body=body, **extra)
        if publish:
            created = services.article_publish(article=created, actor=personas.agent)
        made[key] = created

    with commit():
        article("jam", "Clear a printer jam", "Open the printer tray and pull the paper out.")
        article("offline", "The printer says it is offline", "Check the printer is switched on.")
        article("toner", "Change the printer toner", "Open the printer's front door.")
        article("scan", "Scan to email from the printer", "Choose Scan on the printer.")
        article("runbook", "Printer queue runbook", "Restart the printer spooler.",
                visibility=Visibility.INTERNAL)  # fmt: skip
        article("draft", "Printer draft notes", "Printer jams notes.", publish=False)
    return made


def open_ticket(personas: Personas, subject: str, body: str, **extra: Any) -> Ticket:
    return ticket_services.ticket_create(
        actor=extra.pop("actor", personas.requester),
        requester=extra.pop("requester", personas.requester),
        subject=subject,
        body=body,
        channel=Channel.PORTAL,
        team=personas.team,
    )


def test_up_to_three_published_public_articles_with_links(
    personas: Personas, articles: dict[str, Article], smtp: SmtpSink, commit: Commit
) -> None:
    with commit():
        open_ticket(personas, "Printer paper jam", "The printer on floor 3 jams on every page.")
    [got] = smtp.messages
    text, html = got.text(), got.html()
    assert "these help articles might already answer your question" in text
    listed = sorted(
        (a for a in articles.values() if f"/portal/help/{a.slug}/" in text),
        key=lambda a: text.index(a.slug),
    )
    # The subject's words all match one article: it comes first; its longer words fill up.
    assert len(listed) == 3
    assert listed[0] == articles["jam"]
    assert text.index(articles["jam"].title) < text.index("To add something")
    for hidden in ("runbook", "draft"):
        assert articles[hidden].title not in text
        assert articles[hidden].slug not in html
    jam = articles["jam"]
    assert f'<a href="https://help.example.com/portal/help/{jam.slug}/">{jam.title}</a>' in html


def test_staff_requesters_get_only_what_the_portal_lists(
    personas: Personas, articles: dict[str, Article], smtp: SmtpSink, commit: Commit
) -> None:
    # An agent asking IT for help themselves sees internal articles in the console, but
    # the acknowledgement only suggests what any requester may read.
    with commit():
        open_ticket(
            personas, "Printer queue", "The printer spooler.", actor=personas.agent,
            requester=personas.agent,
        )  # fmt: skip
    text = smtp.messages[0].text()
    assert articles["runbook"].title not in text
    assert articles["draft"].title not in text


def test_no_match_means_no_list(
    personas: Personas, articles: dict[str, Article], smtp: SmtpSink, commit: Commit
) -> None:
    with commit():
        open_ticket(personas, "Zebra crossing", "Quokka.")
    [got] = smtp.messages
    assert "help articles might" not in got.text()
    assert "What happens next" in got.text()


def test_a_broken_search_never_stops_the_acknowledgement(
    personas: Personas,
    articles: dict[str, Article],
    smtp: SmtpSink,
    commit: Commit,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Take the search index away, as a damaged database would (rolled back after the test).
    sqlite = connection.vendor == "sqlite"
    table = "knowledge_article_fts" if sqlite else "knowledge_articledocument"
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_gone")
    with commit():
        ticket = open_ticket(personas, "Printer jams", "The printer jams.")
    [got] = smtp.messages
    assert f"#{ticket.pk}" in got.text()
    assert "help articles might" not in got.text()
    # SQLite's search shrugs the error off itself; on PostgreSQL the failed query would
    # spoil the transaction the mail is recorded in, had it not been in a savepoint.
    logged = "FTS5 rejected an article search" if sqlite else "Could not suggest help articles"
    assert logged in caplog.text


def test_a_failing_search_is_logged_and_the_mail_still_goes(
    personas: Personas,
    articles: dict[str, Article],
    smtp: SmtpSink,
    commit: Commit,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: object, **kwargs: object) -> list[object]:
        raise RuntimeError("search engine on fire")

    monkeypatch.setattr("deskside.knowledge.selectors.search_articles_each", broken)
    with commit():
        ticket = open_ticket(personas, "Printer jams", "The printer jams.")
    [got] = smtp.messages
    assert f"#{ticket.pk}" in got.text()
    assert "help articles might" not in got.text()
    assert f"Could not suggest help articles for the acknowledgement of #{ticket.pk}" in caplog.text
