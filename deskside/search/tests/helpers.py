"""Ticket builders for the search tests: real services, with the after-commit hooks run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest

from deskside.accounts.models import Team, User
from deskside.tickets import services
from deskside.tickets.models import Ticket

# pytest-django's django_capture_on_commit_callbacks: runs on_commit hooks inside a test.
Capture = Callable[..., AbstractContextManager[Any]]


class Desk:
    """Creates tickets through the services so indexing happens the way it does live."""

    def __init__(self, capture: Capture) -> None:
        self._capture = capture

    @contextmanager
    def committed(self) -> Iterator[None]:
        with self._capture(execute=True):
            yield

    def ticket(
        self, requester: User, subject: str, body: str = "Please help.", *, team: Team | None = None
    ) -> Ticket:
        with self.committed():
            return services.ticket_create(
                actor=requester,
                requester=requester,
                subject=subject,
                body=body,
                channel="portal",
                team=team,
            )

    def reply(self, ticket: Ticket, actor: User, body: str) -> None:
        with self.committed():
            services.ticket_reply(ticket=ticket, actor=actor, body=body)

    def note(self, ticket: Ticket, actor: User, body: str) -> None:
        with self.committed():
            services.ticket_add_note(ticket=ticket, actor=actor, body=body)


@pytest.fixture
def desk(django_capture_on_commit_callbacks: Capture) -> Desk:
    return Desk(django_capture_on_commit_callbacks)
