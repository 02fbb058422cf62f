"""Knowledge base fixtures: a few articles in every state, indexed as after a commit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from deskside.knowledge import services
from deskside.knowledge.models import Article, ArticleCategory, Visibility
from deskside.testing import Personas
from deskside.tickets import services as ticket_services
from deskside.tickets.models import Channel, Ticket

# pytest-django's django_capture_on_commit_callbacks: runs on_commit hooks inside a test.
Capture = Callable[..., Any]


@dataclass(frozen=True)
class Library:
    category: ArticleCategory
    public: Article
    internal: Article
    draft: Article
    archived: Article


@pytest.fixture
def library(personas: Personas, django_capture_on_commit_callbacks: Capture) -> Library:
    with django_capture_on_commit_callbacks(execute=True):
        category = ArticleCategory.objects.create(name="Email")
        public = services.article_create(
            actor=personas.agent,
            title="Set up email on your phone",
            summary="Read your work email on an iPhone or Android phone.",
            body="Open the **Outlook** app and sign in with your work email address.",
            category=category,
            tags=["email", "mobile"],
        )
        public = services.article_publish(article=public, actor=personas.agent)
        internal = services.article_create(
            actor=personas.agent,
            title="Mailbox restore runbook",
            body="Restore a deleted mailbox from the email backup console.",
            category=category,
            visibility=Visibility.INTERNAL,
        )
        internal = services.article_publish(article=internal, actor=personas.agent)
        draft = services.article_create(
            actor=personas.agent,
            title="Email quota changes",
            body="Draft: new email quotas arrive next month.",
            category=category,
        )
        archived = services.article_create(
            actor=personas.agent, title="Old webmail address", body="Webmail email moved."
        )
        archived = services.article_publish(article=archived, actor=personas.agent)
        archived = services.article_archive(article=archived, actor=personas.agent)
    return Library(category, public, internal, draft, archived)


RESOLUTION = (
    "Your saved password was out of date after last week's change. We removed it and "
    "Outlook signs in by itself again. Next time, restart Outlook after a password change."
)


@pytest.fixture
def ticket(personas: Personas) -> Ticket:
    """Requester A's open email ticket, in the service desk team (team X)."""
    return ticket_services.ticket_create(
        actor=personas.requester,
        requester=personas.requester,
        subject="Outlook keeps asking for my password",
        body="Since this morning Outlook asks for my password every few minutes.",
        channel=Channel.PORTAL,
        team=personas.team,
    )


@pytest.fixture
def resolved(personas: Personas, ticket: Ticket) -> Ticket:
    """The same ticket, resolved by the agent with a resolution note."""
    return ticket_services.ticket_resolve(ticket=ticket, actor=personas.agent, note=RESOLUTION)


@pytest.fixture
def hidden(personas: Personas) -> Ticket:
    """A ticket of a restricted team the agent (team X) is not in."""
    personas.other_team.is_restricted = True
    personas.other_team.save()
    return ticket_services.ticket_create(
        actor=personas.requester,
        requester=personas.requester,
        subject="Payroll access for HR",
        body="Please grant access.",
        channel=Channel.PORTAL,
        team=personas.other_team,
    )
