"""Reading rarely-changing rows once per unit of work instead of once per use.

A batch of incoming mail applies 25 messages in one write transaction, and each message
asks the same questions: which status is the default for new tickets, which version the
SLA configuration is at, what the ticket settings are, which addresses are the desk's
own. Each question is a query (a few hundred microseconds through the ORM), asked
again for every message although the answer cannot change inside the transaction that
asks it, except by the transaction itself.

Inside :func:`memo_scope`, :func:`memoized` answers each such question once and then
from memory; outside a scope it simply asks every time, so code that uses it behaves
exactly as before wherever no scope is open. A scope lives for one block of one thread
(a ``ContextVar``), never longer: nothing here is a cache that must be invalidated
across processes. Code that changes one of the memoized rows inside a scope calls
:func:`memo_forget` (the configuration-version bump does), or :func:`memo_set` when it
knows the new answer (the intake does, for a requester it has just created).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

_scope: ContextVar[dict[Hashable, Any] | None] = ContextVar("deskside_memo", default=None)


@contextmanager
def memo_scope() -> Iterator[None]:
    """Remember answers from :func:`memoized` until the block ends (nested: the outer one)."""
    if _scope.get() is not None:
        yield
        return
    token = _scope.set({})
    try:
        yield
    finally:
        _scope.reset(token)


def memoized(key: Hashable, read: Callable[[], T]) -> T:
    """``read()``, once per scope for each ``key``; every time when no scope is open."""
    scope = _scope.get()
    if scope is None:
        return read()
    try:
        value: T = scope[key]
    except KeyError:
        value = scope[key] = read()
    return value


def memo_set(key: Hashable, value: object) -> None:
    """Record the answer for ``key`` in the open scope (nothing happens outside one)."""
    scope = _scope.get()
    if scope is not None:
        scope[key] = value


def memo_forget(key: Hashable) -> None:
    """Drop the remembered answer for ``key`` in the open scope, if any."""
    scope = _scope.get()
    if scope is not None:
        scope.pop(key, None)


def memo_clear() -> None:
    """Forget every answer in the open scope (after a rolled-back savepoint, say)."""
    scope = _scope.get()
    if scope is not None:
        scope.clear()


def memo_open() -> bool:
    """Whether a scope is open (a caller may then prefetch answers with :func:`memo_set`)."""
    return _scope.get() is not None
