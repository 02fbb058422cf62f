"""Help articles over the API: list and search, read, write and publish.

Reads go through :mod:`deskside.knowledge.selectors` (and the search, which applies the
permission gate inside its SQL); writes through :mod:`deskside.knowledge.services`, so an
edit made here is revised, re-rendered and re-indexed like one made in the console.
Requesters see what the portal shows them (published articles written for everyone), and
never the owner or the counters.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict

from deskside.accounts import permissions
from deskside.accounts.api import PersonRef
from deskside.accounts.models import CONSOLE_ROLES, User
from deskside.api.auth import caller
from deskside.api.errors import ApiError
from deskside.api.pagination import paginated
from deskside.api.schemas import ObjectId, Ref
from deskside.knowledge import selectors, services
from deskside.knowledge.models import Article, ArticleCategory, ArticleState, Visibility
from deskside.knowledge.policies import may_write_articles
from deskside.knowledge.search import MAX_RESULTS, search_articles
from deskside.search.query import MAX_QUERY_LENGTH

router = Router(tags=["knowledge"])

# Enough for any real article; a bound keeps one request from storing thousands of tags.
MAX_TAGS = 20
LIST_FILTERS = frozenset({"q", "state", "visibility", "category", "page", "page_size"})


def _is_staff(context: dict[str, Any] | None) -> bool:
    person = getattr((context or {}).get("request"), "auth", None)
    return isinstance(person, User) and person.uses_console


class _Strict(Schema):
    model_config = ConfigDict(extra="forbid")


# --- Output ---------------------------------------------------------------------------------


class ArticleStatsOut(Schema):
    views: int = Field(description="How many times the article was read in the portal.")
    helpful_yes: int = Field(description='People who answered "Was this helpful?" with yes.')
    helpful_no: int
    deflections: int = Field(description="Requests not sent because this article solved them.")
    helped_tickets: int = Field(description="Tickets the article is linked to as an answer.")


class ArticleOut(Schema):
    """A help article. For requesters, ``owner``, ``review_by`` and ``stats`` are null."""

    id: int
    slug: str = Field(description="The article's address name in the portal.")
    url: str = Field(description="The article's full address in the portal.")
    title: str
    summary: str
    category: Ref | None
    tags: list[str]
    visibility: Visibility = Field(description="public (everyone) or internal (IT staff only).")
    state: ArticleState = Field(description="draft, published or archived.")
    owner: PersonRef | None = Field(description="Always null for requesters.")
    review_by: date | None = Field(description="Always null for requesters.")
    published_at: datetime | None
    updated_at: datetime
    stats: ArticleStatsOut | None = Field(description="Always null for requesters.")

    @staticmethod
    def resolve_url(obj: Article) -> str:
        return selectors.article_portal_url(obj)

    @staticmethod
    def resolve_owner(obj: Article, context: dict[str, Any]) -> User | None:
        return obj.owner if _is_staff(context) else None

    @staticmethod
    def resolve_review_by(obj: Article, context: dict[str, Any]) -> date | None:
        return obj.review_by if _is_staff(context) else None

    @staticmethod
    def resolve_stats(obj: Article, context: dict[str, Any]) -> dict[str, int] | None:
        if not _is_staff(context):
            return None
        helped = getattr(obj, "helped_tickets", None)
        if helped is None:
            helped = selectors.helped_counts([obj.pk]).get(obj.pk, 0)
        return {
            "views": obj.views,
            "helpful_yes": obj.helpful_yes,
            "helpful_no": obj.helpful_no,
            "deflections": obj.deflections,
            "helped_tickets": helped,
        }


class ArticleDetailOut(ArticleOut):
    body: str = Field(description="The text as written, in Markdown.")
    body_html: str = Field(description="The text as shown: sanitised HTML made from the body.")


# --- Input ----------------------------------------------------------------------------------


class ArticleListQuery(Schema):
    q: str | None = Field(
        None,
        max_length=MAX_QUERY_LENGTH,
        description="Words to search for; results come best match first.",
    )
    state: ArticleState | None = Field(None, description="draft, published or archived.")
    visibility: Visibility | None = Field(None, description="public or internal.")
    category: int | None = Field(None, ge=1, description="A category ID.")


class ArticleCreateIn(_Strict):
    title: str = Field(max_length=200)
    body: str = Field(description="The text, in Markdown.")
    summary: str = Field("", max_length=300, description="One sentence shown in lists.")
    category_id: int | None = None
    tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)
    visibility: Visibility = Visibility.PUBLIC
    owner_id: int | None = Field(None, description="A member of IT staff; default: you.")
    review_by: date | None = Field(None, description="When to check the article is still right.")
    state: ArticleState = Field(
        ArticleState.DRAFT, description="draft (the default), published or archived."
    )


class ArticleUpdateIn(_Strict):
    """Only the fields sent change."""

    title: str | None = Field(None, max_length=200)
    body: str | None = None
    summary: str | None = Field(None, max_length=300)
    category_id: int | None = None
    tags: list[str] | None = Field(None, max_length=MAX_TAGS)
    visibility: Visibility | None = None
    owner_id: int | None = None
    review_by: date | None = None
    state: ArticleState | None = None


# --- Helpers --------------------------------------------------------------------------------


def _missing(field: str) -> ValidationError:
    # The same words whether the object does not exist or is hidden, so IDs cannot be probed.
    return ValidationError(
        {field: _("Nothing with this ID exists that you can see. Check the ID.")},
        code="not_found",
    )


def _find_category(user: User, pk: int | None) -> ArticleCategory | None:
    if pk is None:
        return None
    found = permissions.visible(user, ArticleCategory).filter(pk=pk).first()
    if found is None:
        raise _missing("category_id")
    return found


def _find_owner(user: User, pk: int) -> User:
    found = (
        permissions.visible(user, User)
        .filter(pk=pk, is_active=True, role__in=CONSOLE_ROLES)
        .first()
    )
    if found is None:
        raise ValidationError(
            {"owner_id": _("Choose a member of IT staff you can see as the owner.")},
            code="not_found",
        )
    return found


def _require_writer(user: User) -> None:
    if not may_write_articles(user):
        raise ApiError(403, "forbidden", _("Only the IT team can write help articles."))


_STATE_CHANGES = {
    ArticleState.PUBLISHED: services.article_publish,
    ArticleState.DRAFT: services.article_unpublish,
    ArticleState.ARCHIVED: services.article_archive,
}


def _set_state(article: Article, actor: User, state: ArticleState | None) -> Article:
    if state is None or article.state == state:
        return article
    return _STATE_CHANGES[state](article=article, actor=actor)


def _reloaded(user: User, article: Article) -> Article:
    found = selectors.article_by_pk(user, article.pk)
    selectors.attach_helped_counts([found])
    return found


# --- Endpoints ------------------------------------------------------------------------------


@router.get(
    "/knowledge/articles",
    response=list[ArticleOut],
    operation_id="knowledge_articles_list",
    summary="List or search help articles",
)
@paginated
def articles_list(
    request: HttpRequest, filters: Query[ArticleListQuery]
) -> QuerySet[Article] | list[Article]:
    """Articles you may see, newest change first, or best match first with ``q``.

    Requesters see published articles written for everyone; IT staff see all. Unknown
    filters are refused with 400 rather than ignored.
    """
    unknown = sorted(set(request.GET) - LIST_FILTERS)
    if unknown:
        raise ValidationError({name: _("This filter does not exist.") for name in unknown})
    user = caller(request)
    query = (filters.q or "").strip()
    if query:
        articles = [
            hit.article
            for hit in search_articles(user, query, MAX_RESULTS)
            if (filters.state is None or hit.article.state == filters.state)
            and (filters.visibility is None or hit.article.visibility == filters.visibility)
            and (filters.category is None or hit.article.category_id == filters.category)
        ]
        # The search loads categories only; owners are shown to staff, so load them too.
        owners = User.objects.in_bulk({a.owner_id for a in articles if a.owner_id})
        for article in articles:
            if article.owner_id:
                article.owner = owners.get(article.owner_id)
        selectors.attach_helped_counts(articles)
        return articles
    queryset = selectors.console_articles(
        user,
        state=filters.state.value if filters.state else "",
        visibility=filters.visibility.value if filters.visibility else "",
    )
    if filters.category is not None:
        queryset = queryset.filter(category_id=filters.category)
    return queryset.annotate(helped_tickets=Count("ticket_links", distinct=True))


@router.get(
    "/knowledge/articles/{article_id}",
    response=ArticleDetailOut,
    operation_id="knowledge_articles_get",
    summary="Get a help article",
)
def articles_get(request: HttpRequest, article_id: ObjectId) -> Article:
    """One article, with its text as Markdown and as HTML. Reading it here is not counted."""
    user = caller(request)
    article = selectors.article_by_pk(user, article_id)
    selectors.attach_helped_counts([article])
    return article


@router.post(
    "/knowledge/articles",
    response={201: ArticleDetailOut},
    operation_id="knowledge_articles_create",
    summary="Write a help article",
)
def articles_create(request: HttpRequest, payload: ArticleCreateIn) -> Article:
    """A new article, a draft unless ``state`` says otherwise. IT staff only."""
    user = caller(request)
    _require_writer(user)
    with transaction.atomic():
        article = services.article_create(
            actor=user,
            title=payload.title,
            body=payload.body,
            summary=payload.summary,
            category=_find_category(user, payload.category_id),
            tags=payload.tags,
            visibility=payload.visibility,
            owner=_find_owner(user, payload.owner_id) if payload.owner_id is not None else user,
            review_by=payload.review_by,
        )
        article = _set_state(article, user, payload.state)
    return _reloaded(user, article)


@router.patch(
    "/knowledge/articles/{article_id}",
    response=ArticleDetailOut,
    operation_id="knowledge_articles_update",
    summary="Change a help article",
)
def articles_update(
    request: HttpRequest, article_id: ObjectId, payload: ArticleUpdateIn
) -> Article:
    """Change the fields sent, and publish, return to draft or archive with ``state``.

    Every change of the words records a revision, as in the console. All the changes are
    made, or none of them.
    """
    user = caller(request)
    article = selectors.article_by_pk(user, article_id)
    permissions.require_change(user, article)
    sent = payload.model_fields_set
    cannot_be_empty = {
        name: _("This cannot be empty. Leave it out instead.")
        for name in ("title", "body", "summary", "tags", "visibility", "owner_id", "state")
        if name in sent and getattr(payload, name) is None
    }
    if cannot_be_empty:
        raise ValidationError(cannot_be_empty)
    changes: dict[str, object] = {
        name: getattr(payload, name)
        for name in ("title", "body", "summary", "tags", "visibility", "review_by")
        if name in sent
    }
    with transaction.atomic():
        if "category_id" in sent:
            changes["category"] = _find_category(user, payload.category_id)
        if payload.owner_id is not None:
            changes["owner"] = _find_owner(user, payload.owner_id)
        if changes:
            article = services.article_update(article=article, actor=user, **changes)
        article = _set_state(article, user, payload.state)
    return _reloaded(user, article)
