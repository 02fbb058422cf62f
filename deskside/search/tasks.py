"""Background work that keeps the search index fresh."""

from __future__ import annotations

from django.db import transaction
from huey.contrib.djhuey import db_task

from deskside.search.interface import index_ticket


@db_task(retries=3, retry_delay=10)  # type: ignore[untyped-decorator]  # huey is untyped
def index_ticket_task(ticket_id: int) -> None:
    index_ticket(ticket_id)


def search_queue_reindex(ticket_id: int) -> None:
    """Re-index ``ticket_id`` once the current transaction commits.

    After commit, so the worker reads what was actually saved (and nothing is queued for a
    write that rolled back). ``robust``: a queue that is down must not turn a saved reply
    into an error page; ``deskside reindex`` repairs anything missed.
    """
    transaction.on_commit(lambda: index_ticket_task(ticket_id), robust=True)
