"""The current transaction's after-commit hooks: finding one, and one no savepoint drops.

Both reach into Django's ``connection.run_on_commit`` (a list of ``(savepoint ids, hook,
robust)``), which has no public API; they are kept here so the rest of the code does not
depend on its shape. Used to gather everything one transaction asks for into one job
(the search index, the notifications): the gathering object is itself a hook, so it
lives and dies with the transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db import transaction

H = TypeVar("H")


def registered_hook(kind: type[H]) -> H | None:
    """The first after-commit hook of type ``kind`` the current transaction holds."""
    connection = transaction.get_connection()
    return next(
        (hook for _ids, hook, _robust in connection.run_on_commit if isinstance(hook, kind)),
        None,
    )


def on_commit_outside_savepoints(hook: Callable[[], None]) -> None:
    """Run ``hook`` (robustly) once the current transaction commits, even when it is
    registered inside a savepoint that later rolls back (rolling back the whole
    transaction still drops it). Must be called inside a transaction."""
    connection = transaction.get_connection()
    # What transaction.on_commit records outside any savepoint: no savepoint ids.
    connection.run_on_commit.append((set(), hook, True))
