"""Articles linked to the tickets they helped: services, gate, ticket page card, counts."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404
from django.test import Client
from django.urls import reverse

from deskside.accounts.permissions import can_change, visible
from deskside.knowledge import selectors, services
from deskside.knowledge.models import TicketArticle
from deskside.knowledge.tests.conftest import Library
from deskside.testing import Personas
from deskside.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_linking_is_idempotent_and_counts_tickets(
    personas: Personas, library: Library, ticket: Ticket, hidden: Ticket
) -> None:
    first = services.ticket_article_link(
        ticket=ticket, article=library.public, actor=personas.agent
    )
    again = services.ticket_article_link(
        ticket=ticket, article=library.public, actor=personas.team_lead
    )
    assert first.pk == again.pk
    assert again.linked_by == personas.agent  # the first link is kept as it was
    assert not again.source
    # The manager sees the restricted team's ticket and links the same article to it.
    services.ticket_article_link(ticket=hidden, article=library.public, actor=personas.it_manager)
    assert selectors.helped_counts([library.public.pk, library.draft.pk]) == {library.public.pk: 2}
    with pytest.raises(IntegrityError), transaction.atomic():
        TicketArticle.objects.create(ticket=ticket, article=library.public)


def test_linking_needs_the_ticket_and_the_article(
    personas: Personas, library: Library, ticket: Ticket, hidden: Ticket
) -> None:
    # A requester sees their ticket but may not change it: forbidden.
    with pytest.raises(PermissionDenied):
        services.ticket_article_link(
            ticket=ticket, article=library.public, actor=personas.requester
        )
    # An agent outside the restricted team does not see its ticket: not found.
    with pytest.raises(Http404):
        services.ticket_article_link(ticket=hidden, article=library.public, actor=personas.agent)
    with pytest.raises(Http404):
        services.ticket_article_unlink(ticket=hidden, article=library.public, actor=personas.agent)
    assert not TicketArticle.objects.exists()


def test_link_many_skips_what_cannot_be_linked(
    personas: Personas, library: Library, ticket: Ticket
) -> None:
    links = services.ticket_articles_link_many(
        ticket=ticket,
        article_ids=[library.public.pk, str(library.internal.pk), "nonsense", 999_999, -4, None],
        actor=personas.agent,
    )
    assert {link.article for link in links} == {library.public, library.internal}
    # Nothing new, nothing doubled, the second time.
    services.ticket_articles_link_many(
        ticket=ticket, article_ids=[library.public.pk], actor=personas.agent
    )
    assert TicketArticle.objects.count() == 2
    assert (
        services.ticket_articles_link_many(ticket=ticket, article_ids=[], actor=personas.agent)
        == []
    )
    with pytest.raises(PermissionDenied):
        services.ticket_articles_link_many(
            ticket=ticket, article_ids=[library.public.pk], actor=personas.requester
        )


def test_unlink(personas: Personas, library: Library, ticket: Ticket) -> None:
    services.ticket_article_link(ticket=ticket, article=library.public, actor=personas.agent)
    assert services.ticket_article_unlink(
        ticket=ticket, article=library.public, actor=personas.agent
    )
    assert not services.ticket_article_unlink(
        ticket=ticket, article=library.public, actor=personas.agent
    )
    assert not TicketArticle.objects.exists()


def test_gate_shows_links_with_their_ticket_and_article(
    personas: Personas, library: Library, ticket: Ticket, hidden: Ticket
) -> None:
    public = services.ticket_article_link(
        ticket=ticket, article=library.public, actor=personas.agent
    )
    internal = services.ticket_article_link(
        ticket=ticket, article=library.internal, actor=personas.agent
    )
    on_hidden = services.ticket_article_link(
        ticket=hidden, article=library.public, actor=personas.it_manager
    )
    assert set(visible(personas.it_manager, TicketArticle)) == {public, internal, on_hidden}
    assert set(visible(personas.agent, TicketArticle)) == {public, internal}
    # The requester sees their ticket's link to a public article, never an internal title.
    assert set(visible(personas.requester, TicketArticle)) == {public, on_hidden}
    assert set(visible(personas.other_requester, TicketArticle)) == set()
    assert can_change(personas.agent, public)
    assert not can_change(personas.requester, public)
    assert not can_change(personas.agent, on_hidden)


def test_ticket_page_card_lists_links_and_offers_linking(
    client: Client, personas: Personas, library: Library, ticket: Ticket
) -> None:
    services.ticket_article_link(ticket=ticket, article=library.internal, actor=personas.agent)
    client.force_login(personas.agent)
    page = client.get(reverse("tickets:ticket", kwargs={"pk": ticket.pk})).content.decode()
    card = page[page.index('<section id="articles"') :]
    card = card[: card.index("</section>")]
    assert library.internal.title in card
    assert "IT staff only" in card  # the internal article is labelled
    assert reverse("knowledge:ticket_unlink", kwargs={"pk": ticket.pk}) in card
    assert f'hx-get="{reverse("knowledge:ticket_search", kwargs={"pk": ticket.pk})}"' in card
    assert 'aria-live="polite"' in card
    assert 'name="article"' in card  # linking by number works without JavaScript


def test_search_then_link_without_javascript(
    client: Client, personas: Personas, library: Library, ticket: Ticket
) -> None:
    client.force_login(personas.agent)
    address = reverse("knowledge:ticket_search", kwargs={"pk": ticket.pk})
    page = client.get(address, {"q": "email"})
    assert page.status_code == 200
    assert b"<h1>" in page.content  # a page of its own, with the console around it
    assert library.public.title.encode() in page.content
    assert library.draft.title.encode() in page.content  # staff may link drafts
    assert library.archived.title.encode() not in page.content
    fragment = client.get(address, {"q": "email"}, headers={"HX-Request": "true"})
    assert b"<h1>" not in fragment.content
    assert b'value="%d"' % library.public.pk in fragment.content
    hint = client.get(address, headers={"HX-Request": "true"})
    assert b"Type a few words" in hint.content
    none = client.get(address, {"q": "zebra"}, headers={"HX-Request": "true"})
    assert "No articles match “zebra”".encode() in none.content

    response = client.post(
        reverse("knowledge:ticket_link", kwargs={"pk": ticket.pk}),
        {"article": str(library.public.pk)},
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"/console/tickets/{ticket.pk}/#articles")
    assert TicketArticle.objects.get().article == library.public
    already = client.get(address, {"q": "email"}, headers={"HX-Request": "true"})
    assert b"Already linked" in already.content


@pytest.mark.parametrize("how", ["number", "hash", "slug", "link"])
def test_link_by_number_address_or_link(
    client: Client, personas: Personas, library: Library, ticket: Ticket, how: str
) -> None:
    article = library.public
    named = {
        "number": str(article.pk),
        "hash": f"#{article.pk}",
        "slug": article.slug,
        "link": f"https://help.example.com/portal/help/{article.slug}/",
    }[how]
    client.force_login(personas.agent)
    response = client.post(
        reverse("knowledge:ticket_link", kwargs={"pk": ticket.pk}), {"article": named}, follow=True
    )
    assert TicketArticle.objects.get().article == article
    assert b"is linked to this ticket" in response.content


def test_link_view_refuses_unknown_archived_and_hidden(
    client: Client, personas: Personas, library: Library, ticket: Ticket, hidden: Ticket
) -> None:
    client.force_login(personas.agent)
    address = reverse("knowledge:ticket_link", kwargs={"pk": ticket.pk})
    response = client.post(address, {"article": "no-such-article"}, follow=True)
    assert "No article matches “no-such-article”".encode() in response.content
    client.post(address, {"article": str(library.archived.pk)})
    assert not TicketArticle.objects.exists()
    hidden_address = reverse("knowledge:ticket_link", kwargs={"pk": hidden.pk})
    assert client.post(hidden_address, {"article": str(library.public.pk)}).status_code == 404
    client.force_login(personas.requester)  # requesters never reach the console
    assert client.post(address, {"article": str(library.public.pk)}).status_code == 302
    assert not TicketArticle.objects.exists()


def test_unlink_view(client: Client, personas: Personas, library: Library, ticket: Ticket) -> None:
    services.ticket_article_link(ticket=ticket, article=library.public, actor=personas.agent)
    client.force_login(personas.agent)
    address = reverse("knowledge:ticket_unlink", kwargs={"pk": ticket.pk})
    response = client.post(address, {"article": str(library.public.pk)}, follow=True)
    assert b"is no longer linked" in response.content
    assert not TicketArticle.objects.exists()
    again = client.post(address, {"article": str(library.public.pk)}, follow=True)
    assert b"That article was not linked to this ticket." in again.content


def test_helped_count_is_shown_to_staff(
    client: Client, personas: Personas, library: Library, ticket: Ticket, hidden: Ticket
) -> None:
    for on in (ticket, hidden):
        services.ticket_article_link(ticket=on, article=library.public, actor=personas.admin)
    client.force_login(personas.agent)
    listing = client.get(reverse("knowledge:list")).content.decode()
    row = listing[listing.index(library.public.title) :]
    row = row[: row.index("</tr>")]
    assert "<td>2</td>" in row
    editor = client.get(reverse("knowledge:edit", args=[library.public.pk]))
    assert b"Helped with 2 tickets" in editor.content
    searched = client.get(reverse("knowledge:list"), {"q": "phone"}).content.decode()
    assert "<td>2</td>" in searched
    portal = client.get(reverse("help:article", args=[library.public.slug]))
    assert b"Helped with 2 tickets" in portal.content
    client.force_login(personas.requester)
    portal = client.get(reverse("help:article", args=[library.public.slug]))
    assert b"Helped with" not in portal.content
