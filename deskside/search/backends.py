"""The two engines behind the search interface: SQLite FTS5 and PostgreSQL full-text.

Both answer in two steps. First the candidates: the ids of matching tickets the user may
see (the permission gate is inside that query), newest first, at most
:data:`MAX_CANDIDATES`; their number is the result count, so counts never include what the
user may not see. Then one page: only those candidates are ranked, and only the page gets
excerpts. A very common word therefore costs about the same as a rare one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from django.core.exceptions import EmptyResultSet
from django.db import DatabaseError, connection, models
from django.db.models.expressions import RawSQL

from deskside.accounts import permissions
from deskside.accounts.models import User
from deskside.search.query import MARK_START, MARK_STOP, Terms
from deskside.tickets.models import Ticket

logger = logging.getLogger("deskside.search")

# Query parameters as the database cursor takes them.
Params = list[Any]

# About the ``noqa: S608`` below: every piece of SQL assembled here is a constant of this
# module or the permission gate's own compiled query; everything a person typed travels
# only as a bound parameter.

# Beyond this many matches a search asks for more words rather than ranking everything.
MAX_CANDIDATES = 200
# How many of the newest documents a staff search reads before asking the GIN index.
RECENT_WINDOW = 20_000
SNIPPET_WORDS = 24
# ts_headline re-parses the text it is given; a long thread is cut so a page stays fast.
HEADLINE_CHARS = 50_000


@dataclass(frozen=True)
class RawHit:
    """One ranked match as the engine returned it, before tickets are loaded."""

    ticket_id: int
    rank: float
    subject: str
    public_snippet: str
    note_snippet: str


class Backend(Protocol):
    def candidates(self, user: User, terms: Terms, *, exclude: int | None) -> list[int]:
        """Ids of matching tickets the user may see, newest first, at most MAX_CANDIDATES."""
        ...

    def page(
        self, user: User, terms: Terms, *, candidates: list[int], limit: int, offset: int
    ) -> list[RawHit]:
        """One page of ``candidates``, best match first, with highlighted excerpts."""
        ...


def _sees_notes(user: User) -> bool:
    # Mirrors the Message policy: internal notes are for the people working in the console.
    return user.uses_console


def _visible_exists(user: User, outer_id: str) -> tuple[str, Params]:
    """``EXISTS (...)``: the ticket whose id is ``outer_id`` passes the permission gate.

    Built from the gate's own queryset, so search can never disagree with the queues.
    """
    queryset = (
        permissions.visible(user, Ticket)
        # outer_id is a column name from this module, never input.
        .filter(pk=RawSQL(outer_id, (), output_field=models.BigIntegerField()))  # noqa: S611
        .order_by()
        .values("pk")
    )
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:
        # The gate said "nothing" outright (a signed-out or switched-off person).
        return "1 = 0", []
    return f"EXISTS ({sql})", list(params)


class SqliteBackend:
    """FTS5 over ``search_ticket_fts``; bm25 for rank, highlight()/snippet() for excerpts."""

    # bm25 column weights: subject, requester name, public replies, internal notes.
    STAFF_WEIGHTS = "10.0, 4.0, 1.0, 1.0"
    # Zero for notes, so what is in a note cannot even change a requester's ordering.
    REQUESTER_WEIGHTS = "10.0, 4.0, 1.0, 0.0"
    REQUESTER_COLUMNS = "{subject requester_name public_text}"

    def _match(self, user: User, terms: Terms) -> str:
        expression = terms.fts5()
        if _sees_notes(user):
            return expression
        return f"{self.REQUESTER_COLUMNS} : ({expression})"

    def candidates(self, user: User, terms: Terms, *, exclude: int | None) -> list[int]:
        visible_sql, visible_params = _visible_exists(user, "search_ticket_fts.rowid")
        sql = (
            "SELECT search_ticket_fts.rowid FROM search_ticket_fts "  # noqa: S608
            f"WHERE search_ticket_fts MATCH %s AND {visible_sql}"
        )
        params: Params = [self._match(user, terms), *visible_params]
        if exclude is not None:
            sql += " AND search_ticket_fts.rowid <> %s"
            params.append(exclude)
        sql += " ORDER BY search_ticket_fts.rowid DESC LIMIT %s"
        params.append(MAX_CANDIDATES)
        return [int(row[0]) for row in self._run(sql, params)]

    def page(
        self, user: User, terms: Terms, *, candidates: list[int], limit: int, offset: int
    ) -> list[RawHit]:
        if not candidates:
            return []
        weights = self.STAFF_WEIGHTS if _sees_notes(user) else self.REQUESTER_WEIGHTS
        marks = "char(57344), char(57345)"  # MARK_START and MARK_STOP
        notes = (
            f"snippet(search_ticket_fts, 3, {marks}, '…', {SNIPPET_WORDS})"
            if _sees_notes(user)
            else "''"
        )
        # bm25() and snippet() only work inside a MATCH query, so the match runs again,
        # narrowed to the candidates already checked against the permission gate.
        ids = ", ".join(["%s"] * len(candidates))
        sql = (
            f"SELECT search_ticket_fts.rowid, -bm25(search_ticket_fts, {weights}) AS score, "  # noqa: S608
            f"highlight(search_ticket_fts, 0, {marks}), "
            f"snippet(search_ticket_fts, 2, {marks}, '…', {SNIPPET_WORDS}), {notes} "
            "FROM search_ticket_fts WHERE search_ticket_fts MATCH %s "
            f"AND search_ticket_fts.rowid IN ({ids}) "
            "ORDER BY score DESC, search_ticket_fts.rowid DESC LIMIT %s OFFSET %s"
        )
        rows = self._run(sql, [self._match(user, terms), *candidates, limit, offset])
        return [RawHit(int(r[0]), float(r[1]), r[2] or "", r[3] or "", r[4] or "") for r in rows]

    def _run(self, sql: str, params: Params) -> list[tuple[Any, ...]]:
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return list(cursor.fetchall())
        except DatabaseError:
            # Input is quoted, so this should not happen; if FTS5 still rejects something
            # (a script its tokenizer does not know), the answer is "nothing found".
            # On SQLite a failed SELECT leaves the surrounding transaction usable.
            logger.warning("FTS5 rejected a search query", exc_info=True)
            return []


class PostgresBackend:
    """``document @@ query`` on the GIN index; ts_rank_cd for rank, ts_headline for excerpts."""

    CONFIG = "deskside_search"
    # ts_rank_cd weights for D (notes), C (replies), B (requester name), A (subject).
    WEIGHTS = "{0.05, 0.1, 0.4, 1.0}"
    # Normalisation 1: divide by 1 + log(length), so long threads do not drown subjects.
    NORMALISATION = 1
    PUBLIC_WEIGHTS = "{a,b,c}"
    SNIPPET_OPTIONS = (
        f"StartSel={MARK_START}, StopSel={MARK_STOP}, MaxWords={SNIPPET_WORDS}, "
        'MinWords=10, ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "'
    )
    SUBJECT_OPTIONS = f"StartSel={MARK_START}, StopSel={MARK_STOP}, HighlightAll=true"

    def _tsquery(self, terms: Terms) -> tuple[str, Params]:
        plain, prefix = terms.postgres()
        sql = f"plainto_tsquery('{self.CONFIG}', %s)"
        params: Params = [plain]
        if prefix is not None:
            sql = f"({sql} && to_tsquery('{self.CONFIG}', %s))"
            params.append(prefix)
        return sql, params

    def _vector(self, user: User, column: str) -> str:
        if _sees_notes(user):
            return column
        return f"ts_filter({column}, '{self.PUBLIC_WEIGHTS}')"

    def candidates(self, user: User, terms: Terms, *, exclude: int | None) -> list[int]:
        query, query_params = self._tsquery(terms)
        visible_sql, visible_params = _visible_exists(user, "d.ticket_id")
        where = f"d.document @@ {query} AND {visible_sql}"
        params: Params = [*query_params, *visible_params]
        if exclude is not None:
            where += " AND d.ticket_id <> %s"
            params.append(exclude)
        if _sees_notes(user):
            return self._staff_candidates(where, params)
        # A requester must not match on internal notes, so matches are re-checked on the
        # public weights only. That check unpacks each document, so it runs after the
        # permission gate (OFFSET 0 keeps the planner from doing it first), on the
        # requester's few tickets rather than on every match in the desk.
        sql = (
            "SELECT m.ticket_id FROM (SELECT d.ticket_id, d.document "  # noqa: S608
            f"FROM search_ticketdocument d WHERE {where} OFFSET 0) m "
            f"WHERE {self._vector(user, 'm.document')} @@ {query} "
            "ORDER BY m.ticket_id DESC LIMIT %s"
        )
        return self._ids(sql, [*params, *query_params, MAX_CANDIDATES])

    def _staff_candidates(self, where: str, params: Params) -> list[int]:
        """The newest matches, found by whichever of two plans suits the word.

        A common word ("printer", in a few per cent of tickets) is found fastest by reading
        the newest documents until enough match; the GIN index would first list every one
        of its tens of thousands of matches and sort them. A rare word is the opposite:
        reading newest-first could walk the whole desk. So the newest RECENT_WINDOW
        documents are read first; only if they hold too few matches does the GIN index
        answer for the whole desk. Both give the same answer: the newest matches.
        """
        recent = (
            "SELECT d.ticket_id FROM (SELECT ticket_id, document FROM search_ticketdocument "  # noqa: S608
            f"ORDER BY ticket_id DESC LIMIT %s) d WHERE {where} "
            "ORDER BY d.ticket_id DESC LIMIT %s"
        )
        found = self._ids(recent, [RECENT_WINDOW, *params, MAX_CANDIDATES])
        if len(found) >= MAX_CANDIDATES:
            return found
        # "+ 0" keeps the planner on the GIN index; walking the primary key backwards
        # testing every row is ruinous for a rare word.
        everywhere = (
            f"SELECT d.ticket_id FROM search_ticketdocument d WHERE {where} "  # noqa: S608
            "ORDER BY d.ticket_id + 0 DESC LIMIT %s"
        )
        return self._ids(everywhere, [*params, MAX_CANDIDATES])

    def _ids(self, sql: str, params: Params) -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [int(row[0]) for row in cursor.fetchall()]

    def page(
        self, user: User, terms: Terms, *, candidates: list[int], limit: int, offset: int
    ) -> list[RawHit]:
        if not candidates:
            return []
        query, query_params = self._tsquery(terms)
        rank = (
            f"ts_rank_cd('{self.WEIGHTS}', {self._vector(user, 'd.document')}, {query}, "
            f"{self.NORMALISATION})"
        )
        notes = (
            f"ts_headline('{self.CONFIG}', left(d.note_text, {HEADLINE_CHARS}), {query}, %s)"
            if _sees_notes(user)
            else "''"
        )
        # Only the candidates are ranked, and headlines (costly) are made only for the page.
        sql = (
            f"WITH ranked AS (SELECT d.ticket_id, {rank} AS score "  # noqa: S608
            "FROM search_ticketdocument d WHERE d.ticket_id = ANY(%s) "
            "ORDER BY score DESC, d.ticket_id DESC LIMIT %s OFFSET %s) "
            "SELECT r.ticket_id, r.score, "
            f"ts_headline('{self.CONFIG}', d.subject, {query}, %s), "
            f"ts_headline('{self.CONFIG}', left(d.public_text, {HEADLINE_CHARS}), {query}, %s), "
            f"{notes} "
            "FROM ranked r JOIN search_ticketdocument d ON d.ticket_id = r.ticket_id "
            "ORDER BY r.score DESC, r.ticket_id DESC"
        )
        params: Params = [
            *query_params,
            candidates,
            limit,
            offset,
            *query_params,
            self.SUBJECT_OPTIONS,
            *query_params,
            self.SNIPPET_OPTIONS,
        ]
        if _sees_notes(user):
            params += [*query_params, self.SNIPPET_OPTIONS]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return [RawHit(int(r[0]), float(r[1]), r[2] or "", r[3] or "", r[4] or "") for r in rows]


def current_backend() -> Backend:
    if connection.vendor == "postgresql":
        return PostgresBackend()
    if connection.vendor == "sqlite":
        return SqliteBackend()
    raise RuntimeError(f"Search does not support the {connection.vendor} database.")
