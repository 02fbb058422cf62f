"""Writes to the knowledge base. Each is transactional and keeps the search index fresh.

Every save of an article's words records an :class:`ArticleRevision`, re-renders the
sanitised HTML and queues the article for re-indexing once the transaction commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from deskside.accounts import permissions
from deskside.accounts.models import User
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
from deskside.knowledge.search import article_queue_reindex
from deskside.knowledge.selectors import PORTAL_LISTS_ARTICLES
from deskside.lib.markdown import render_markdown
from deskside.system.memo import memo_forget
from deskside.tickets.models import StatusKind, Ticket

COMMENT_MAX = 2000
TITLE_MAX = 200  # Article.title
TAG_MAX = 60


def _unique_slug(text: str, *, exclude: int | None = None) -> str:
    base = slugify(text)[:200] or "article"
    slug, n = base, 2
    taken = Article.objects.exclude(pk=exclude) if exclude else Article.objects.all()
    while taken.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _clean_tags(tags: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for tag in tags:
        cleaned = str(tag).strip()[:TAG_MAX]
        if cleaned and cleaned.lower() not in (t.lower() for t in seen):
            seen.append(cleaned)
    return seen


def _check(title: str, body: str) -> None:
    errors = {}
    if not title.strip():
        errors["title"] = _("Give the article a title.")
    if not body.strip():
        errors["body"] = _("Write the article's text.")
    if errors:
        raise ValidationError(errors)


def _changed(article: Article) -> None:
    """After any write to an article: re-index it, and forget what this unit of work
    remembered about whether the portal lists any article (it may have just changed)."""
    article_queue_reindex(article.pk)
    memo_forget(PORTAL_LISTS_ARTICLES)


def _record_revision(article: Article, editor: User | None) -> ArticleRevision:
    return ArticleRevision.objects.create(
        article=article,
        editor=editor,
        edited_at=article.updated_at,
        title=article.title,
        summary=article.summary,
        body=article.body,
    )


@transaction.atomic
def article_create(
    *,
    actor: User | None,
    title: str,
    body: str,
    summary: str = "",
    category: ArticleCategory | None = None,
    tags: Iterable[str] = (),
    visibility: str = Visibility.PUBLIC,
    owner: User | None = None,
    review_by: date | None = None,
    slug: str = "",
) -> Article:
    """A new draft article, owned by ``owner`` (or its author)."""
    _check(title, body)
    now = timezone.now()
    article = Article.objects.create(
        title=title.strip(),
        slug=_unique_slug(slug or title),
        summary=summary.strip(),
        body=body,
        body_html=render_markdown(body),
        category=category,
        tags=_clean_tags(tags),
        visibility=visibility,
        owner=owner or actor,
        review_by=review_by,
        created_at=now,
        updated_at=now,
    )
    _record_revision(article, actor)
    _changed(article)
    return article


EDITABLE = {"title", "summary", "body", "category", "tags", "visibility", "owner", "review_by"}


@transaction.atomic
def article_update(*, article: Article, actor: User | None, **changes: object) -> Article:
    """Change an article's words or settings; records a revision of the result."""
    unknown = set(changes) - EDITABLE
    if unknown:
        raise TypeError(f"article_update cannot change {', '.join(sorted(unknown))}")
    article = Article.objects.select_for_update().get(pk=article.pk)
    for name, value in changes.items():
        if name == "tags":
            value = _clean_tags(value)  # type: ignore[arg-type]
        elif name in ("title", "summary") and isinstance(value, str):
            value = value.strip()
        setattr(article, name, value)
    _check(article.title, article.body)
    article.body_html = render_markdown(article.body)
    article.updated_at = timezone.now()
    article.save()
    _record_revision(article, actor)
    _changed(article)
    return article


@transaction.atomic
def article_publish(*, article: Article, actor: User | None) -> Article:
    """Make the article readable (by everyone, if its visibility is public)."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    article.state = ArticleState.PUBLISHED
    if article.published_at is None:
        article.published_at = timezone.now()
    article.updated_at = timezone.now()
    article.save(update_fields=["state", "published_at", "updated_at"])
    _changed(article)
    return article


@transaction.atomic
def article_archive(*, article: Article, actor: User | None) -> Article:
    """Take the article out of the portal, keeping it and its history for staff."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    article.state = ArticleState.ARCHIVED
    article.updated_at = timezone.now()
    article.save(update_fields=["state", "updated_at"])
    _changed(article)
    return article


@transaction.atomic
def article_unpublish(*, article: Article, actor: User | None) -> Article:
    """Return the article to draft: staff still see it, requesters no longer do."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    article.state = ArticleState.DRAFT
    article.updated_at = timezone.now()
    article.save(update_fields=["state", "updated_at"])
    _changed(article)
    return article


@transaction.atomic
def article_feedback_record(
    *, article: Article, user: User | None, helpful: bool, comment: str = ""
) -> ArticleFeedback:
    """Count a reader's "Was this helpful?" answer; a person's new answer replaces their last.

    Answering again moves the person's one vote (the counters change with ``F()`` in this
    transaction, so it is never counted twice) and replaces their comment, unless the new
    answer comes without one. A comment reaches the article's owner through the "Feedback
    on your articles" list in the console's knowledge base page.
    """
    comment = comment.strip()[:COMMENT_MAX]
    counter = "helpful_yes" if helpful else "helpful_no"
    if user is not None:
        # Locking the article makes two quick answers from one person take turns, so the
        # second finds the first instead of tripping the one-answer-per-person constraint.
        Article.objects.select_for_update().filter(pk=article.pk).values_list("pk").first()
        earlier = (
            ArticleFeedback.objects.select_for_update().filter(article=article, user=user).first()
        )
        if earlier is not None:
            if earlier.helpful != helpful:
                was = "helpful_yes" if earlier.helpful else "helpful_no"
                Article.objects.filter(pk=article.pk).update(
                    **{was: F(was) - 1, counter: F(counter) + 1}
                )
            earlier.helpful = helpful
            earlier.comment = comment or earlier.comment
            earlier.created_at = timezone.now()
            earlier.save(update_fields=["helpful", "comment", "created_at"])
            return earlier
    feedback = ArticleFeedback.objects.create(
        article=article, user=user, helpful=helpful, comment=comment
    )
    Article.objects.filter(pk=article.pk).update(**{counter: F(counter) + 1})
    return feedback


def article_deflection_record(*, article: Article) -> None:
    """Count one request that was not needed because the article solved it, atomically."""
    Article.objects.filter(pk=article.pk).update(deflections=F("deflections") + 1)


def article_view_count(*, article: Article) -> None:
    """Count one reading, atomically, without touching ``updated_at`` or the index."""
    Article.objects.filter(pk=article.pk).update(views=F("views") + 1)


# --- Articles and the tickets they helped ---------------------------------------------------


def _require_ticket_change(actor: User, ticket: Ticket) -> None:
    # 404 for a ticket the actor may not see, 403 for one they see but may not change.
    permissions.require_change(actor, ticket)


def _require_article_view(actor: User, article: Article) -> None:
    if not permissions.can_view(actor, article):
        raise Http404


@transaction.atomic
def ticket_article_link(
    *, ticket: Ticket, article: Article, actor: User, source: bool = False
) -> TicketArticle:
    """Record that ``article`` helped with ``ticket``. Linking again changes nothing.

    The actor must be able to change the ticket and to see the article. ``source`` marks
    the article drafted from this ticket; a ticket has at most one.
    """
    _require_ticket_change(actor, ticket)
    _require_article_view(actor, article)
    if (
        source
        and TicketArticle.objects.filter(ticket=ticket, source=True)
        .exclude(article=article)
        .exists()
    ):
        raise ValidationError(
            _("An article has already been drafted from this ticket."), code="has_source"
        )
    link, _created = TicketArticle.objects.get_or_create(
        ticket=ticket,
        article=article,
        defaults={"linked_by": actor, "linked_at": timezone.now(), "source": source},
    )
    if source and not link.source:
        link.source = True
        link.save(update_fields=["source"])
    return link


@transaction.atomic
def ticket_article_unlink(*, ticket: Ticket, article: Article, actor: User) -> bool:
    """Remove the article from the ticket's list. Returns False if it was not linked."""
    _require_ticket_change(actor, ticket)
    deleted, _rows = (
        permissions.visible(actor, TicketArticle).filter(ticket=ticket, article=article).delete()
    )
    return deleted > 0


def _ids(values: Iterable[object]) -> list[int]:
    found: list[int] = []
    for value in values:
        try:
            number = int(str(value).strip())
        except ValueError:
            continue
        if number > 0 and number not in found:
            found.append(number)
    return found


@transaction.atomic
def ticket_articles_link_many(
    *, ticket: Ticket, article_ids: Iterable[object], actor: User
) -> list[TicketArticle]:
    """Link every article in ``article_ids`` (numbers, or text holding them) to ``ticket``.

    For a reply that used articles: ids that are not numbers, do not exist or name an
    article the actor may not see are skipped without a word, since the reply itself must
    still be sent. The actor must be able to change the ticket (404/403 otherwise).
    """
    _require_ticket_change(actor, ticket)
    ids = _ids(article_ids)
    if not ids:
        return []
    articles = permissions.visible(actor, Article).in_bulk(ids)
    return [
        ticket_article_link(ticket=ticket, article=articles[pk], actor=actor)
        for pk in ids
        if pk in articles
    ]


DONE_KINDS = frozenset({StatusKind.RESOLVED, StatusKind.CLOSED})


@transaction.atomic
def article_from_ticket(*, ticket: Ticket, actor: User) -> tuple[Article, bool]:
    """Draft a help article from a resolved ticket's resolution note.

    The draft is public (once published), owned by ``actor``, titled with the ticket's
    subject and linked to the ticket as its source. If an article was already drafted
    from the ticket, that one is returned instead: ``(article, created)``.
    """
    _require_ticket_change(actor, ticket)
    if not may_write_articles(actor):
        raise PermissionDenied(_("Only the IT team can write help articles."))
    # Locked, so two clicks on the button cannot draft two articles.
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    existing = (
        TicketArticle.objects.filter(ticket=ticket, source=True).select_related("article").first()
    )
    if existing is not None:
        return existing.article, False
    if ticket.status_kind not in DONE_KINDS:
        raise ValidationError(
            _("Resolve the ticket first: the article is drafted from its resolution note.")
        )
    if not ticket.resolution_note.strip():
        raise ValidationError(_("This ticket has no resolution note to turn into an article."))
    article = article_create(
        actor=actor,
        title=ticket.subject[:TITLE_MAX],
        body=ticket.resolution_note,
        visibility=Visibility.PUBLIC,
        owner=actor,
    )
    ticket_article_link(ticket=ticket, article=article, actor=actor, source=True)
    return article, True
