"""'Turn into a help article': a resolved ticket's note becomes a draft article."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from deskside.knowledge import services
from deskside.knowledge.models import Article, ArticleState, TicketArticle, Visibility
from deskside.knowledge.search import search_articles
from deskside.knowledge.tests.conftest import RESOLUTION, Capture
from deskside.testing import Personas
from deskside.tickets.models import Ticket

pytestmark = pytest.mark.django_db

BUTTON = b"Turn into a help article"


def _resolve_section(client: Client, ticket: Ticket) -> str:
    page = client.get(reverse("tickets:ticket", kwargs={"pk": ticket.pk})).content.decode()
    section = page[page.index('<section id="resolve"') :]
    return section[: section.index("</section>")]


def test_button_drafts_a_linked_article_and_opens_the_editor(
    client: Client,
    personas: Personas,
    resolved: Ticket,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    client.force_login(personas.agent)
    section = _resolve_section(client, resolved)
    assert BUTTON.decode() in section
    assert 'name="csrfmiddlewaretoken"' in section
    # The button comes after the resolution note.
    assert section.index("blockquote") < section.index(BUTTON.decode())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("knowledge:from_ticket", kwargs={"pk": resolved.pk}))
    article = Article.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("knowledge:edit", kwargs={"pk": article.pk})
    assert article.title == resolved.subject
    assert article.body == RESOLUTION
    assert article.owner == personas.agent
    assert (article.state, article.visibility) == (ArticleState.DRAFT, Visibility.PUBLIC)
    assert article.revisions.get().editor == personas.agent
    link = TicketArticle.objects.get()
    assert (link.ticket, link.article, link.source) == (resolved, article, True)
    # Drafts stay away from requesters; staff find it.
    assert search_articles(personas.requester, "Outlook password") == []
    assert [hit.article for hit in search_articles(personas.agent, "Outlook password")] == [article]
    editor = client.get(response["Location"])
    assert b"A draft article is ready" in editor.content
    assert f"{resolved.number} {resolved.subject}".encode() in editor.content  # drafted from

    # Now the ticket links to its article instead of offering the button again.
    section = _resolve_section(client, resolved)
    assert BUTTON.decode() not in section
    assert reverse("knowledge:edit", kwargs={"pk": article.pk}) in section


def test_a_second_press_opens_the_same_article(personas: Personas, resolved: Ticket) -> None:
    first, created = services.article_from_ticket(ticket=resolved, actor=personas.agent)
    again, created_again = services.article_from_ticket(ticket=resolved, actor=personas.team_lead)
    assert created
    assert not created_again
    assert first == again
    assert Article.objects.count() == 1
    other = services.article_create(actor=personas.agent, title="Other", body="Text.")
    with pytest.raises(ValidationError):
        services.ticket_article_link(
            ticket=resolved, article=other, actor=personas.agent, source=True
        )


def test_only_resolved_tickets_with_a_note(
    client: Client, personas: Personas, ticket: Ticket
) -> None:
    with pytest.raises(ValidationError) as error:
        services.article_from_ticket(ticket=ticket, actor=personas.agent)
    assert "Resolve the ticket first" in str(error.value)
    client.force_login(personas.agent)
    assert BUTTON not in client.get(reverse("tickets:ticket", kwargs={"pk": ticket.pk})).content
    response = client.post(reverse("knowledge:from_ticket", kwargs={"pk": ticket.pk}), follow=True)
    assert b"Resolve the ticket first" in response.content
    assert not Article.objects.exists()


def test_requesters_and_hidden_tickets(
    client: Client, personas: Personas, resolved: Ticket, hidden: Ticket
) -> None:
    with pytest.raises(PermissionDenied):
        services.article_from_ticket(ticket=resolved, actor=personas.requester)
    client.force_login(personas.requester)
    response = client.post(reverse("knowledge:from_ticket", kwargs={"pk": resolved.pk}))
    assert response.status_code == 302
    assert "/portal/" in response["Location"]
    client.force_login(personas.agent)
    assert client.post(reverse("knowledge:from_ticket", kwargs={"pk": hidden.pk})).status_code == (
        404
    )
    assert not Article.objects.exists()
