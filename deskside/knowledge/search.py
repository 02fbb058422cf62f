"""Full-text search over help articles, on the same two engines as ticket search.

SQLite uses FTS5 (bm25 rank, ``snippet()`` excerpts); PostgreSQL uses the weighted
``tsvector`` and its GIN index (``ts_rank_cd``, ``ts_headline``). Input is parsed by
``deskside.search.query`` so nothing typed reaches either engine's query syntax, and the
permission gate is part of the query, so requesters only ever match published articles
written for everyone.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import DatabaseError, connection, models, transaction
from django.db.models.expressions import RawSQL
from django.utils.html import escape, strip_tags
from django.utils.safestring import SafeString
from huey.contrib.djhuey import db_task

from deskside.accounts import permissions
from deskside.accounts.models import User
from deskside.knowledge.models import Article, ArticleDocument
from deskside.search.query import (
    MARK_START,
    MARK_STOP,
    Terms,
    clean_text,
    marked_html,
    parse_terms,
    strip_marks,
)

logger = logging.getLogger("deskside.search")

Params = list[Any]
# About the ``noqa: S608`` below: every piece of SQL assembled here is a constant of this
# module or the permission gate's own compiled query; what a person typed travels only as
# a bound parameter.

MAX_RESULTS = 200
MAX_COLUMN_CHARS = 100_000
SNIPPET_WORDS = 24


# --- Writing the index ------------------------------------------------------------------


@transaction.atomic
def index_article(article_id: int) -> None:
    """Bring one article's search entry up to date (or drop it if the article is gone)."""
    article = Article.objects.filter(pk=article_id).first()
    if article is None:
        ArticleDocument.objects.filter(article_id=article_id).delete()
        return
    ArticleDocument.objects.update_or_create(
        article=article,
        defaults={
            "title": clean_text(article.title),
            "summary": clean_text(article.summary),
            # The rendered text, not the Markdown, so excerpts read as the page does.
            "body": clean_text(html.unescape(strip_tags(article.body_html)))[:MAX_COLUMN_CHARS],
            "tags": clean_text(" ".join(str(tag) for tag in article.tags)),
        },
    )


@db_task(retries=3, retry_delay=10)  # type: ignore[untyped-decorator]  # huey is untyped
def index_article_task(article_id: int) -> None:
    index_article(article_id)


def article_queue_reindex(article_id: int) -> None:
    """Re-index the article once the current transaction commits (see search.tasks)."""
    transaction.on_commit(lambda: index_article_task(article_id), robust=True)


def reindex_articles() -> int:
    done = 0
    for article_id in Article.objects.order_by("pk").values_list("pk", flat=True).iterator():
        index_article(article_id)
        done += 1
    return done


# --- Reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArticleHit:
    """One article found by a search, with HTML-safe highlighted title and excerpt."""

    article: Article
    rank: float
    title_html: SafeString
    snippet_html: SafeString


def _visible_exists(user: User, outer_id: str) -> tuple[str, Params]:
    """``EXISTS (...)``: the article whose id is ``outer_id`` passes the permission gate."""
    queryset = (
        permissions.visible(user, Article)
        # outer_id is a column name from this module, never input.
        .filter(pk=RawSQL(outer_id, (), output_field=models.BigIntegerField()))  # noqa: S611
        .order_by()
        .values("pk")
    )
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:
        return "1 = 0", []
    return f"EXISTS ({sql})", list(params)


# The article id column each engine's query checks against the permission gate.
_SQLITE_ARTICLE_ID = "knowledge_article_fts.rowid"
_POSTGRES_ARTICLE_ID = "d.article_id"


def _sqlite(visible: tuple[str, Params], terms: Terms, limit: int) -> list[tuple[Any, ...]]:
    visible_sql, visible_params = visible
    marks = "char(57344), char(57345)"  # MARK_START and MARK_STOP
    sql = (
        "SELECT knowledge_article_fts.rowid, "  # noqa: S608
        "-bm25(knowledge_article_fts, 10.0, 4.0, 1.0, 4.0) AS score, "
        f"highlight(knowledge_article_fts, 0, {marks}), "
        f"snippet(knowledge_article_fts, 2, {marks}, '…', {SNIPPET_WORDS}) "
        "FROM knowledge_article_fts WHERE knowledge_article_fts MATCH %s "
        f"AND {visible_sql} "
        "ORDER BY score DESC, knowledge_article_fts.rowid DESC LIMIT %s"
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, [terms.fts5(), *visible_params, limit])
            return list(cursor.fetchall())
    except DatabaseError:
        logger.warning("FTS5 rejected an article search", exc_info=True)
        return []


def _postgres(visible: tuple[str, Params], terms: Terms, limit: int) -> list[tuple[Any, ...]]:
    plain, prefix = terms.postgres()
    query = "plainto_tsquery('deskside_search', %s)"
    query_params: Params = [plain]
    if prefix is not None:
        query = f"({query} && to_tsquery('deskside_search', %s))"
        query_params.append(prefix)
    visible_sql, visible_params = visible
    title_options = f"StartSel={MARK_START}, StopSel={MARK_STOP}, HighlightAll=true"
    snippet_options = (
        f"StartSel={MARK_START}, StopSel={MARK_STOP}, MaxWords={SNIPPET_WORDS}, "
        'MinWords=10, ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "'
    )
    sql = (
        "WITH ranked AS (SELECT d.article_id, "  # noqa: S608
        f"ts_rank_cd('{{0.1, 0.2, 0.5, 1.0}}', d.document, {query}, 1) AS score "
        f"FROM knowledge_articledocument d WHERE d.document @@ {query} AND {visible_sql} "
        "ORDER BY score DESC, d.article_id DESC LIMIT %s) "
        "SELECT r.article_id, r.score, "
        f"ts_headline('deskside_search', d.title, {query}, %s), "
        f"ts_headline('deskside_search', d.body, {query}, %s) "
        "FROM ranked r JOIN knowledge_articledocument d ON d.article_id = r.article_id "
        "ORDER BY r.score DESC, r.article_id DESC"
    )
    params: Params = [
        *query_params,
        *query_params,
        *visible_params,
        limit,
        *query_params,
        title_options,
        *query_params,
        snippet_options,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _title_html(highlighted: str, title: str) -> SafeString:
    # ts_headline drops anything shaped like an HTML tag; a title is never shown altered.
    if strip_marks(highlighted) != clean_text(title):
        return escape(title)
    return marked_html(highlighted)


def search_articles(user: User, query: str, limit: int = 20) -> list[ArticleHit]:
    """The articles ``user`` may see that match ``query``, best match first."""
    return next(search_articles_each(user, [query], limit))


def search_articles_each(
    user: User, queries: Iterable[str], limit: int = 20
) -> Iterator[list[ArticleHit]]:
    """:func:`search_articles` for each query in turn, as the caller asks for the next.

    For several searches as one person (article suggestions try a few): the permission
    gate is built and compiled once for them all, and a caller that has found enough
    simply stops asking, so the remaining searches never run.
    """
    if connection.vendor == "postgresql":
        engine, article_id = _postgres, _POSTGRES_ARTICLE_ID
    elif connection.vendor == "sqlite":
        engine, article_id = _sqlite, _SQLITE_ARTICLE_ID
    else:
        raise RuntimeError(f"Search does not support the {connection.vendor} database.")
    limit = max(0, min(limit, MAX_RESULTS))
    visible: tuple[str, Params] | None = None
    loading: models.QuerySet[Article] | None = None
    for query in queries:
        terms = parse_terms(query)
        if not terms:
            yield []
            continue
        if visible is None:
            visible = _visible_exists(user, article_id)
        rows = engine(visible, terms, limit)
        if not rows:
            yield []
            continue
        if loading is None:
            loading = permissions.visible(user, Article).select_related("category")
        # Loaded again through the gate: an article moved out of reach since is left out.
        articles = loading.in_bulk([int(row[0]) for row in rows])
        yield [
            ArticleHit(
                article=articles[int(row[0])],
                rank=float(row[1]),
                title_html=_title_html(row[2] or "", articles[int(row[0])].title),
                snippet_html=marked_html(row[3] or ""),
            )
            for row in rows
            if int(row[0]) in articles
        ]
