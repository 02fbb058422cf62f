"""Background work that keeps the search index fresh."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from huey.contrib.djhuey import db_task

from deskside.lib.oncommit import registered_hook
from deskside.search.interface import index_ticket, index_tickets


@db_task(retries=3, retry_delay=10)  # type: ignore[untyped-decorator]  # huey is untyped
def index_ticket_task(ticket_id: int) -> None:
    """One ticket (kept for jobs queued before :func:`index_tickets_task` existed)."""
    index_ticket(ticket_id)


@db_task(retries=3, retry_delay=10)  # type: ignore[untyped-decorator]  # huey is untyped
def index_tickets_task(ticket_ids: Sequence[int]) -> None:
    index_tickets(ticket_ids)


class _Waiting:
    """The tickets one transaction touched, queued as one job when it commits."""

    def __init__(self) -> None:
        self.ids: set[int] = set()

    def __call__(self) -> None:
        ids, self.ids = self.ids, set()
        if ids:
            index_tickets_task(sorted(ids))


def search_queue_reindex(ticket_id: int) -> None:
    """Re-index ``ticket_id`` once the current transaction commits.

    After commit, so the worker reads what was actually saved (and nothing is queued for a
    write that rolled back). ``robust``: a queue that is down must not turn a saved reply
    into an error page; ``deskside reindex`` repairs anything missed.

    Every ticket a transaction touches goes into one job: a batch of 25 incoming emails
    queues one index job, not 25 (or 50: a new ticket asks twice). The list of waiting
    tickets is the after-commit hook itself, found among the transaction's hooks, so it
    lives and dies with the transaction. Each call registers it again, so a registration
    dropped with a rolled-back savepoint loses nothing: the first to run takes every
    waiting id (a rolled-back one included, which is harmless: indexing reads the saved
    ticket) and the others find none.
    """
    waiting = registered_hook(_Waiting) or _Waiting()
    waiting.ids.add(ticket_id)
    transaction.on_commit(waiting, robust=True)
