"""Reads from the knowledge base, always through the permission gate."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from deskside.accounts import permissions
from deskside.accounts.models import Role, User
from deskside.knowledge.models import (
    Article,
    ArticleCategory,
    ArticleFeedback,
    ArticleRevision,
    ArticleState,
    TicketArticle,
    Visibility,
)
from deskside.knowledge.policies import may_write_articles
from deskside.knowledge.search import ArticleHit, search_articles, search_articles_each
from deskside.search.query import MAX_QUERY_LENGTH
from deskside.system.memo import memoized
from deskside.tickets.models import Ticket


def articles_for(user: User) -> QuerySet[Article]:
    """Every article ``user`` may see."""
    return permissions.visible(user, Article).select_related("category", "owner")


def portal_articles(user: User, *, category: int | None = None) -> QuerySet[Article]:
    """What the portal lists: published articles written for everyone, newest first.

    Staff use the portal to see what requesters see, so the list is the same for them.
    """
    queryset = articles_for(user).filter(state=ArticleState.PUBLISHED, visibility=Visibility.PUBLIC)
    if category is not None:
        queryset = queryset.filter(category_id=category)
    return queryset.order_by("-published_at", "-pk")


def portal_categories(user: User) -> QuerySet[ArticleCategory]:
    """Categories holding at least one article the portal lists, with that count."""
    listed = Q(articles__state=ArticleState.PUBLISHED, articles__visibility=Visibility.PUBLIC)
    return (
        permissions.visible(user, ArticleCategory)
        .annotate(article_count=Count("articles", filter=listed))
        .filter(article_count__gt=0)
    )


def article_get(user: User, slug: str) -> Article:
    """One article by its address; anything the user may not see is "not found"."""
    return permissions.get_visible_or_404(user, articles_for(user), slug=slug)


def article_by_pk(user: User, pk: int) -> Article:
    return permissions.get_visible_or_404(user, articles_for(user), pk=pk)


DUE_MINE = "mine"
DUE_ALL = "all"


def console_articles(
    user: User, *, state: str = "", visibility: str = "", due: str = ""
) -> QuerySet[Article]:
    """The console's list; ``due`` ("mine" or "all") keeps only articles due for review."""
    reviewing = due in (DUE_MINE, DUE_ALL)
    if reviewing:
        # Ordered by review date, so the longest overdue comes first.
        queryset = due_for_review(user, owner=user if due == DUE_MINE else None)
    else:
        queryset = articles_for(user).order_by("-updated_at", "-pk")
    if state in ArticleState.values:
        queryset = queryset.filter(state=state)
    if visibility in Visibility.values:
        queryset = queryset.filter(visibility=visibility)
    return queryset


def feedback_for_owner(user: User, limit: int = 20) -> QuerySet[ArticleFeedback]:
    """Readers' comments on the articles ``user`` owns, newest first."""
    return (
        permissions.visible(user, ArticleFeedback)
        .filter(article__owner=user)
        .exclude(comment="")
        .select_related("article", "user")[:limit]
    )


def article_revisions(user: User, article: Article) -> QuerySet[ArticleRevision]:
    return permissions.visible(user, ArticleRevision).filter(article=article)


def article_portal_url(article: Article) -> str:
    """The article's full address in the portal, for links sent to requesters."""
    return str(settings.BASE_URL) + reverse("help:article", args=[article.slug])


def article_feedback_of(user: User, article: Article) -> ArticleFeedback | None:
    """The answer ``user`` gave to "Was this helpful?" on ``article``, if any."""
    return ArticleFeedback.objects.filter(article=article, user=user).first()


# --- Portal-style suggestions (new-request form, acknowledgement mail) ----------------------

# Words shorter than this are too common to suggest an article on their own.
SUGGEST_WORD_MIN = 4
SUGGEST_WORD_SEARCHES = 4


def suggestion_queries(subject: str, *more: str) -> list[str]:
    """What to search for to suggest articles for a request, most specific first.

    The subject and the other text together, then the subject alone, then a few of its
    longer words, since every search term must match.
    """
    parts = [text[:MAX_QUERY_LENGTH].strip() for text in (subject, *more)]
    combined = " ".join(part for part in parts if part)[:MAX_QUERY_LENGTH].strip()
    words = [word for word in parts[0].split() if len(word) >= SUGGEST_WORD_MIN]
    candidates = [combined, parts[0], *words[:SUGGEST_WORD_SEARCHES]]
    return list(dict.fromkeys(candidate for candidate in candidates if candidate))


def _portal_listed(article: Article) -> bool:
    return article.state == ArticleState.PUBLISHED and article.visibility == Visibility.PUBLIC


# The memo key for portal_lists_articles(); knowledge.services forgets it on every write.
PORTAL_LISTS_ARTICLES = "knowledge_portal_lists_articles"


def _read_portal_lists_articles() -> bool:
    return Article.objects.filter(
        state=ArticleState.PUBLISHED, visibility=Visibility.PUBLIC
    ).exists()


def portal_lists_articles() -> bool:
    """Whether any article is published for everyone, so that there is anything to suggest.

    One cheap query, read once per :func:`~deskside.system.memo.memo_scope`: a batch of
    acknowledgements on a desk without a knowledge base searches nothing at all.
    """
    return memoized(PORTAL_LISTS_ARTICLES, _read_portal_lists_articles)


def articles_suggested(user: User, queries: Sequence[str], limit: int) -> list[ArticleHit]:
    """Up to ``limit`` articles the portal lists for ``user`` matching the queries in turn.

    Published public articles only, even for staff, since suggestions are what a
    requester would be shown; when there are none at all, nothing is searched.
    """
    hits: list[ArticleHit] = []
    if not queries or not portal_lists_articles():
        return hits
    seen: set[int] = set()
    for found in search_articles_each(user, queries, limit * 4):
        for hit in found:
            if _portal_listed(hit.article) and hit.article.pk not in seen:
                seen.add(hit.article.pk)
                hits.append(hit)
                if len(hits) >= limit:
                    return hits
    return hits


# --- Articles and the tickets they helped ---------------------------------------------------


def helped_counts(article_ids: Iterable[int]) -> dict[int, int]:
    """How many tickets each article helped with (linked to), by article id.

    A count of every linked ticket, including tickets the reader may not open: it says
    how useful the article is and names no ticket.
    """
    rows = (
        TicketArticle.objects.filter(article_id__in=list(article_ids))
        .values("article_id")
        .annotate(tickets=Count("ticket_id", distinct=True))
        .order_by()
    )
    return {row["article_id"]: row["tickets"] for row in rows}


def attach_helped_counts(articles: Iterable[Article]) -> None:
    """Set ``helped_tickets`` on each article, with one query for them all."""
    listed = list(articles)
    counts = helped_counts(article.pk for article in listed)
    for article in listed:
        article.helped_tickets = counts.get(article.pk, 0)  # type: ignore[attr-defined]


def article_hits_for_staff(user: User, query: str, limit: int = 8) -> list[ArticleHit]:
    """Articles ``user`` may see that match ``query``, archived ones left out."""
    return [
        hit
        for hit in search_articles(user, query, limit * 2)
        if hit.article.state != ArticleState.ARCHIVED
    ][:limit]


_ARTICLE_NUMBER = re.compile(r"#?\s*(\d{1,18})")
_HELP_PATH = re.compile(r"/help/([-\w]+)/?$")


def article_find(user: User, text: str) -> Article | None:
    """The article ``text`` names, if ``user`` may see it and it is not archived.

    ``text`` may be the article's number ("12" or "#12"), its address name ("reset-your-
    password") or its portal link, as pasted from the browser.
    """
    text = text.strip()[:500]
    if not text:
        return None
    queryset = articles_for(user).exclude(state=ArticleState.ARCHIVED)
    number = _ARTICLE_NUMBER.fullmatch(text)
    if number:
        return queryset.filter(pk=int(number.group(1))).first()
    path = _HELP_PATH.search(urlsplit(text).path) if "/" in text else None
    slug = path.group(1) if path else text
    return queryset.filter(slug=slug).first()


def article_source_tickets(user: User, article: Article) -> list[Ticket]:
    """The tickets ``user`` may see whose resolution this article was drafted from."""
    return [
        link.ticket
        for link in permissions.visible(user, TicketArticle)
        .filter(article=article, source=True)
        .select_related("ticket")
    ]


@dataclass(frozen=True)
class KbPanel:
    """What the ticket page's "Help articles" card and resolution button show."""

    ticket: Ticket
    links: list[TicketArticle]
    # The article drafted from this ticket's resolution, if any.
    source: Article | None
    # May link and unlink articles (may change the ticket).
    can_change: bool
    # May turn the resolution into a new article.
    can_write: bool


def ticket_kb_panel(user: User, ticket: Ticket) -> KbPanel | None:
    """The ticket's linked articles for the console's ticket page; None if not for ``user``.

    ``ticket`` is the one the page read through ``tickets.selectors.ticket_get``, so it is
    visible; the links still come through the gate, which checks the ticket and each
    article again in the same query.
    """
    if not user.uses_console:
        return None
    links = list(
        permissions.visible(user, TicketArticle)
        .filter(ticket=ticket)
        .select_related("article", "linked_by")
        .order_by("linked_at", "pk")
    )
    source = next((link.article for link in links if link.source), None)
    # The ticket policy's own answer: the gate's can_change would check visibility again.
    can_change = permissions.policy_for(Ticket).may_change(user, ticket)
    return KbPanel(
        ticket=ticket,
        links=links,
        source=source,
        can_change=can_change,
        can_write=can_change and may_write_articles(user),
    )


# --- Review dates --------------------------------------------------------------------------


# Leads and managers look after the whole knowledge base; agents after their own articles.
REVIEW_ALL_ROLES = frozenset({Role.ADMIN, Role.IT_MANAGER, Role.TEAM_LEAD})


def due_for_review(
    user: User, *, owner: User | None = None, today: date | None = None
) -> QuerySet[Article]:
    """Articles whose review date has come (and are not archived), oldest date first.

    Only those ``owner`` owns, if given.
    """
    today = today or timezone.localdate()
    queryset = (
        articles_for(user)
        .exclude(state=ArticleState.ARCHIVED)
        .filter(review_by__isnull=False, review_by__lte=today)
    )
    if owner is not None:
        queryset = queryset.filter(owner=owner)
    return queryset.order_by("review_by", "pk")


def review_scope_default(user: User) -> str:
    """Whose articles the "Due for review" list shows ``user`` first."""
    return DUE_ALL if user.role in REVIEW_ALL_ROLES else DUE_MINE


def review_count(user: User, scope: str) -> int:
    """How many articles are due for review in ``scope`` ("mine" or "all")."""
    return due_for_review(user, owner=user if scope == DUE_MINE else None).count()
