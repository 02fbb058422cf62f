"""The one search interface. Everything else (console, portal, API, tasks) calls this.

Writes: :func:`index_ticket`, :func:`index_tickets`, :func:`remove_ticket`,
:func:`reindex_all`.
Reads, always permission-filtered: :func:`search_tickets`, :class:`SearchResults` (a lazy
sequence any paginator can slice), and :func:`ticket_for_number`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, overload

from django.db import transaction
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString

from deskside.accounts import permissions
from deskside.accounts.models import User
from deskside.search.backends import RawHit, current_backend
from deskside.search.models import TicketDocument
from deskside.search.query import (
    Terms,
    clean_text,
    has_match,
    marked_html,
    parse_terms,
    strip_marks,
    ticket_number,
)
from deskside.tickets.models import Message, MessageKind, Ticket

# More than enough to find a ticket by its words, and it keeps every tsvector far below
# PostgreSQL's 1 MB limit however long an email thread grows.
MAX_COLUMN_CHARS = 100_000
REINDEX_BATCH = 500

SnippetSource = Literal["reply", "note", "none"]


# --- Writing the index ------------------------------------------------------------------


def _join(parts: Iterable[str]) -> str:
    return clean_text("\n\n".join(parts))[:MAX_COLUMN_CHARS]


def _documents(ticket_ids: Sequence[int]) -> list[TicketDocument]:
    tickets = Ticket.objects.filter(pk__in=ticket_ids).select_related("requester")
    replies: dict[int, list[str]] = defaultdict(list)
    notes: dict[int, list[str]] = defaultdict(list)
    messages = (
        Message.objects.filter(
            ticket_id__in=ticket_ids, kind__in=(MessageKind.PUBLIC, MessageKind.NOTE)
        )
        .order_by("ticket_id", "created_at", "id")
        .values_list("ticket_id", "kind", "body")
    )
    for ticket_id, kind, body in messages:
        # System events ("merged into #12") are left out: every such ticket would match.
        (replies if kind == MessageKind.PUBLIC else notes)[ticket_id].append(body)
    now = timezone.now()
    return [
        TicketDocument(
            ticket=ticket,
            subject=clean_text(ticket.subject),
            requester_name=clean_text(ticket.requester.full_name),
            public_text=_join(replies[ticket.pk]),
            note_text=_join(notes[ticket.pk]),
            indexed_at=now,
        )
        for ticket in tickets
    ]


def _write(ticket_ids: Sequence[int]) -> int:
    documents = _documents(ticket_ids)
    _save(documents)
    return len(documents)


def _save(documents: list[TicketDocument]) -> None:
    TicketDocument.objects.bulk_create(
        documents,
        update_conflicts=True,
        unique_fields=["ticket"],
        update_fields=["subject", "requester_name", "public_text", "note_text", "indexed_at"],
    )


@transaction.atomic
def index_ticket(ticket_id: int) -> None:
    """Bring one ticket's search entry up to date (or drop it if the ticket is gone)."""
    if _write([ticket_id]) == 0:
        remove_ticket(ticket_id)


@transaction.atomic
def index_tickets(ticket_ids: Sequence[int]) -> None:
    """:func:`index_ticket` for several tickets, in one transaction and three queries."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return
    documents = _documents(ids)
    _save(documents)
    gone = set(ids) - {document.ticket_id for document in documents}
    if gone:
        TicketDocument.objects.filter(ticket_id__in=gone).delete()


def remove_ticket(ticket_id: int) -> None:
    TicketDocument.objects.filter(ticket_id=ticket_id).delete()


def reindex_all(
    *, batch: int = REINDEX_BATCH, progress: Callable[[int], None] | None = None
) -> int:
    """Rebuild every ticket's entry, in batches by id. Returns how many were indexed."""
    done = 0
    last = 0
    while True:
        ids = list(
            Ticket.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return done
        with transaction.atomic():
            done += _write(ids)
        last = ids[-1]
        if progress is not None:
            progress(done)


# --- Reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchHit:
    """One ticket found by a search, with HTML-safe highlighted subject and excerpt."""

    ticket: Ticket
    match: Literal["number", "text"]
    rank: float
    subject_html: SafeString
    snippet_html: SafeString
    snippet_source: SnippetSource


@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit]
    count: int


def ticket_for_number(user: User, query: str) -> Ticket | None:
    """The ticket a query such as ``#1042`` names, if the user may see it."""
    number = ticket_number(query)
    if number is None:
        return None
    return permissions.visible(user, Ticket).filter(pk=number).first()


def _subject_html(highlighted: str, subject: str) -> SafeString:
    # PostgreSQL's headline drops anything shaped like an HTML tag; a subject must never be
    # shown altered, so it is then shown whole and unhighlighted instead.
    if strip_marks(highlighted) != clean_text(subject):
        return escape(subject)
    return marked_html(highlighted)


def _hit(raw: RawHit, ticket: Ticket) -> SearchHit:
    source: SnippetSource = "reply"
    snippet = raw.public_snippet
    if not has_match(snippet) and has_match(raw.note_snippet):
        source, snippet = "note", raw.note_snippet
    elif not snippet.strip():
        source = "none"
    return SearchHit(
        ticket=ticket,
        match="text",
        rank=raw.rank,
        subject_html=_subject_html(raw.subject, ticket.subject),
        snippet_html=marked_html(snippet),
        snippet_source=source,
    )


def _number_hit(ticket: Ticket) -> SearchHit:
    return SearchHit(
        ticket=ticket,
        match="number",
        rank=0.0,
        subject_html=escape(ticket.subject),
        snippet_html=SafeString(""),
        snippet_source="none",
    )


class SearchResults(Sequence[SearchHit]):
    """A user's search, evaluated lazily: ``len()`` counts, slicing fetches one page.

    Django's Paginator and the API's pagination both work on it unchanged. A ticket named
    by number (``#1042``) that the user may see comes first; text matches follow.
    """

    def __init__(self, user: User, query: str) -> None:
        self.user = user
        self.terms: Terms = parse_terms(query)
        self.numbered = ticket_for_number(user, query)
        self._ids: list[int] | None = None

    def _candidates(self) -> list[int]:
        # One query serves the count and every page of this search.
        if self._ids is None:
            exclude = self.numbered.pk if self.numbered is not None else None
            self._ids = (
                current_backend().candidates(self.user, self.terms, exclude=exclude)
                if self.terms
                else []
            )
        return self._ids

    def __len__(self) -> int:
        return len(self._candidates()) + (1 if self.numbered is not None else 0)

    @overload
    def __getitem__(self, index: int) -> SearchHit: ...

    @overload
    def __getitem__(self, index: slice) -> list[SearchHit]: ...

    def __getitem__(self, index: int | slice) -> SearchHit | list[SearchHit]:
        if isinstance(index, int):
            found = self[index : index + 1] if index >= 0 else []
            if not found:
                raise IndexError(index)
            return found[0]
        start, stop, step = index.indices(len(self))
        if step != 1:
            raise ValueError("Search results can only be sliced in order.")
        return self._fetch(offset=start, limit=max(0, stop - start))

    def __iter__(self) -> Iterator[SearchHit]:
        return iter(self[0 : len(self)])

    def _fetch(self, *, offset: int, limit: int) -> list[SearchHit]:
        hits: list[SearchHit] = []
        if limit <= 0:
            return hits
        if self.numbered is not None:
            if offset == 0:
                hits.append(_number_hit(self.numbered))
                limit -= 1
            else:
                offset -= 1
        if limit <= 0 or not self.terms:
            return hits
        raw = current_backend().page(
            self.user, self.terms, candidates=self._candidates(), limit=limit, offset=offset
        )
        # Loaded again through the gate: a ticket moved out of reach since the search ran is
        # simply left out, never shown.
        tickets = (
            permissions.visible(self.user, Ticket)
            .select_related("requester", "status", "team", "assignee")
            .in_bulk([item.ticket_id for item in raw])
        )
        hits += [_hit(item, tickets[item.ticket_id]) for item in raw if item.ticket_id in tickets]
        return hits


def search_tickets(user: User, query: str, *, limit: int = 20, offset: int = 0) -> SearchPage:
    """One page of the tickets ``user`` may see that match ``query``, best first."""
    results = SearchResults(user, query)
    return SearchPage(hits=results[offset : offset + limit], count=len(results))
