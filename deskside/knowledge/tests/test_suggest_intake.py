"""Help articles suggested on the new-request form, and "This solved it" deflections."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from deskside.knowledge.models import Article
from deskside.knowledge.tests.conftest import Library
from deskside.testing import Personas
from deskside.tickets.models import Category, Ticket

SOLVED_TEXT = "Glad that helped. If it happens again, you can always ask us."


def _solved(article: Article) -> str:
    return reverse("help:solved", args=[article.slug])


def test_new_request_page_has_the_suggestions_region(client: Client, personas: Personas) -> None:
    client.force_login(personas.requester)
    category = Category.objects.get(name="Printing")
    page = client.get(reverse("portal:ticket_new"), {"category": category.pk}).content.decode()
    assert 'aria-live="polite"' in page
    assert "Articles that might help" in page
    assert f'hx-get="{reverse("help:suggest")}"' in page
    assert "input changed delay:400ms from:#id_subject" in page
    assert 'hx-include="#id_subject, #id_trying, #id_happened"' in page
    assert 'id="kb-solved-form"' in page


def test_suggest_from_subject_and_description_shows_only_public_articles(
    client: Client, personas: Personas, library: Library
) -> None:
    client.force_login(personas.requester)
    response = client.get(
        reverse("help:suggest"),
        {"subject": "Email on my phone", "description": "I cannot read my email anywhere"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert library.public.title in html or "phone" in html
    assert _solved(library.public) in html
    assert "This solved it — no need to ask IT" in html
    for hidden in (library.internal, library.draft, library.archived):
        assert hidden.title not in html
        assert _solved(hidden) not in html
    # The form's own field names work as well, and very long text is cut short.
    response = client.get(
        reverse("help:suggest"),
        {"subject": "mailbox restore " + "x" * 5000, "trying": "email backup", "happened": "?"},
    )
    assert response.status_code == 200
    assert library.internal.title not in response.content.decode()


def test_staff_never_get_internal_or_draft_suggestions(
    client: Client, personas: Personas, library: Library
) -> None:
    client.force_login(personas.agent)
    html = client.get(reverse("help:suggest"), {"subject": "email"}).content.decode()
    assert _solved(library.public) in html
    for hidden in (library.internal, library.draft, library.archived):
        assert _solved(hidden) not in html


def test_solved_counts_a_deflection_and_creates_no_ticket(
    client: Client, personas: Personas, library: Library
) -> None:
    client.force_login(personas.requester)
    tickets = Ticket.objects.count()
    response = client.post(_solved(library.public))
    assert response.status_code == 200
    assert SOLVED_TEXT in response.content.decode()
    assert reverse("portal:home") in response.content.decode()
    library.public.refresh_from_db()
    assert library.public.deflections == 1
    assert Ticket.objects.count() == tickets


def test_solved_get_only_asks_to_confirm(
    client: Client, personas: Personas, library: Library
) -> None:
    client.force_login(personas.requester)
    response = client.get(_solved(library.public))
    assert response.status_code == 200
    assert SOLVED_TEXT not in response.content.decode()
    library.public.refresh_from_db()
    assert library.public.deflections == 0


def test_solved_needs_csrf(personas: Personas, library: Library) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.requester)
    assert client.post(_solved(library.public)).status_code == 403
    library.public.refresh_from_db()
    assert library.public.deflections == 0


def test_no_deflection_on_articles_out_of_reach(
    client: Client, personas: Personas, library: Library
) -> None:
    client.force_login(personas.other_requester)
    for article in (library.internal, library.draft, library.archived):
        assert client.post(_solved(article)).status_code == 404
        assert client.get(_solved(article)).status_code == 404
    # Staff may read internal articles, but they are never "solved" from the portal form.
    client.force_login(personas.agent)
    assert client.post(_solved(library.internal)).status_code == 404
    for article in (library.internal, library.draft, library.archived):
        article.refresh_from_db()
        assert article.deflections == 0


def test_staff_see_the_deflection_count(
    client: Client, personas: Personas, library: Library
) -> None:
    Article.objects.filter(pk=library.public.pk).update(deflections=3)
    client.force_login(personas.agent)
    html = client.get(reverse("help:article", args=[library.public.slug])).content.decode()
    assert "Solved 3 requests before they were sent" in html
    client.force_login(personas.requester)
    html = client.get(reverse("help:article", args=[library.public.slug])).content.decode()
    assert "before they were sent" not in html
