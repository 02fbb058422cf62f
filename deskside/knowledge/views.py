"""Help articles in the portal (read, search, say if it helped) and the console's list.

Views are thin: they parse the request, call a selector or service, and render.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskside.accounts.decorators import console_required, portal_required
from deskside.accounts.models import User
from deskside.accounts.permissions import require_change
from deskside.knowledge import selectors, services
from deskside.knowledge.forms import ArticleForm
from deskside.knowledge.models import Article, ArticleState, Visibility
from deskside.knowledge.search import MAX_RESULTS, search_articles
from deskside.search.query import MAX_QUERY_LENGTH

PAGE_SIZE = 20
SUGGEST_LIMIT = 5


def _user(request: HttpRequest) -> User:
    # portal_required / console_required have already sent anyone else to sign in.
    assert isinstance(request.user, User)
    return request.user


def _query(request: HttpRequest) -> str:
    return request.GET.get("q", "")[:MAX_QUERY_LENGTH].strip()


def _page_context(request: HttpRequest, items: Any, params: dict[str, str]) -> dict[str, Any]:
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    kept = {key: value for key, value in params.items() if value}
    return {
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number),
        "params": urlencode(kept) + "&" if kept else "",
    }


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@portal_required
@require_GET
def help_home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    query = _query(request)
    category = _int_or_none(request.GET.get("category"))
    if query:
        # Search hits are shown as the portal lists articles: public and published only.
        hits = [
            hit
            for hit in search_articles(user, query, MAX_RESULTS)
            if hit.article.state == ArticleState.PUBLISHED
            and hit.article.visibility == Visibility.PUBLIC
        ]
        items: Any = hits
    else:
        items = selectors.portal_articles(user, category=category)
    context = _page_context(
        request, items, {"q": query, "category": str(category) if category else ""}
    )
    context.update(
        {
            "query": query,
            "searching": bool(query),
            "category": category,
            "categories": selectors.portal_categories(user),
        }
    )
    return render(request, "knowledge/help_home.html", context)


@portal_required
@require_GET
def help_article(request: HttpRequest, slug: str) -> HttpResponse:
    user = _user(request)
    article = selectors.article_get(user, slug)
    services.article_view_count(article=article)
    article.views += 1  # shown including this reading; the database was updated with F()
    return render(
        request,
        "knowledge/help_article.html",
        {"article": article, "staff": user.uses_console},
    )


@portal_required
@require_POST
def help_feedback(request: HttpRequest, slug: str) -> HttpResponse:
    user = _user(request)
    article = selectors.article_get(user, slug)
    answer = request.POST.get("helpful")
    if answer not in ("yes", "no"):
        messages.error(request, _("Please choose Yes or No."))
        return redirect("help:article", slug=article.slug)
    services.article_feedback_record(
        article=article,
        user=user,
        helpful=answer == "yes",
        comment=request.POST.get("comment", ""),
    )
    messages.success(request, _("Thank you for telling us. It helps us improve our articles."))
    return redirect("help:article", slug=article.slug)


# The new-request form sends what has been typed so far under these names.
SUGGEST_FIELDS = ("subject", "description", "trying", "happened")
# Words shorter than this are too common to suggest an article on their own.
SUGGEST_WORD_MIN = 4
SUGGEST_WORD_SEARCHES = 4


def _suggest_queries(request: HttpRequest) -> list[str]:
    """What to search for, most specific first.

    ``q`` if given; otherwise the form's subject and description together, then the
    subject alone, then a few of its longer words, since every search term must match.
    """
    query = _query(request)
    if query:
        return [query]
    parts = [request.GET.get(name, "")[:MAX_QUERY_LENGTH].strip() for name in SUGGEST_FIELDS]
    combined = " ".join(part for part in parts if part)[:MAX_QUERY_LENGTH].strip()
    subject = parts[0]
    words = [word for word in subject.split() if len(word) >= SUGGEST_WORD_MIN]
    candidates = [combined, subject, *words[:SUGGEST_WORD_SEARCHES]]
    return list(dict.fromkeys(candidate for candidate in candidates if candidate))


def _portal_hits(user: User, query: str, limit: int) -> list[Any]:
    return [
        hit
        for hit in search_articles(user, query, limit * 4)
        if hit.article.state == ArticleState.PUBLISHED
        and hit.article.visibility == Visibility.PUBLIC
    ][:limit]


@portal_required
@require_GET
def help_suggest(request: HttpRequest) -> HttpResponse:
    """Up to five matching articles as an HTML fragment, for htmx while someone types."""
    user = _user(request)
    queries = _suggest_queries(request)
    hits: list[Any] = []
    seen: set[int] = set()
    for query in queries:
        for hit in _portal_hits(user, query, SUGGEST_LIMIT):
            if hit.article.pk not in seen and len(hits) < SUGGEST_LIMIT:
                seen.add(hit.article.pk)
                hits.append(hit)
        if len(hits) >= SUGGEST_LIMIT:
            break
    return render(
        request,
        "knowledge/_suggestions.html",
        {"hits": hits, "query": queries[0] if queries else ""},
    )


@portal_required
@require_http_methods(["GET", "POST"])
def help_solved(request: HttpRequest, slug: str) -> HttpResponse:
    """The "This solved it" button: count a request that did not need to be made, and say thanks.

    A GET only shows the confirming button, so following a link never counts anything.
    """
    user = _user(request)
    article = selectors.article_get(user, slug)
    if article.state != ArticleState.PUBLISHED or article.visibility != Visibility.PUBLIC:
        raise Http404
    if request.method == "POST":
        services.article_deflection_record(article=article)
        return render(request, "knowledge/help_solved.html", {"article": article, "done": True})
    return render(request, "knowledge/help_solved.html", {"article": article, "done": False})


@console_required
@require_GET
def console_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    query = _query(request)
    state = request.GET.get("state", "")
    visibility = request.GET.get("visibility", "")
    if query:
        hits = search_articles(user, query, MAX_RESULTS)
        items: Any = [
            hit
            for hit in hits
            if (state not in ArticleState.values or hit.article.state == state)
            and (visibility not in Visibility.values or hit.article.visibility == visibility)
        ]
    else:
        items = selectors.console_articles(user, state=state, visibility=visibility)
    context = _page_context(request, items, {"q": query, "state": state, "visibility": visibility})
    context.update(
        {
            "query": query,
            "searching": bool(query),
            "state": state,
            "visibility": visibility,
            "states": ArticleState.choices,
            "visibilities": Visibility.choices,
            "feedback": selectors.feedback_for_owner(user),
        }
    )
    return render(request, "knowledge/console_list.html", context)


def _show_errors(form: ArticleForm, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            for message in errors:
                form.add_error(field if field in form.fields else None, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


@console_required
@require_http_methods(["GET", "POST"])
def console_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = ArticleForm(request.POST or None, initial={"visibility": Visibility.PUBLIC})
    if request.method == "POST" and form.is_valid():
        try:
            article = services.article_create(actor=user, **form.changes())
        except ValidationError as error:
            _show_errors(form, error)
        else:
            messages.success(request, _("Draft saved. Publish it when it is ready."))
            return redirect("knowledge:edit", pk=article.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "knowledge/console_edit.html", {"form": form, "article": None}, status=status
    )


def _article_for_change(request: HttpRequest, pk: int) -> Article:
    user = _user(request)
    article = selectors.article_by_pk(user, pk)
    require_change(user, article)
    return article


@console_required
@require_http_methods(["GET", "POST"])
def console_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    article = _article_for_change(request, pk)
    if request.method == "POST":
        form = ArticleForm(request.POST)
        if form.is_valid():
            try:
                services.article_update(article=article, actor=user, **form.changes())
            except ValidationError as error:
                _show_errors(form, error)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("knowledge:edit", pk=article.pk)
    else:
        form = ArticleForm.for_article(article)
    return render(
        request,
        "knowledge/console_edit.html",
        {
            "form": form,
            "article": article,
            "revisions": selectors.article_revisions(user, article).select_related("editor"),
        },
        status=400 if request.method == "POST" else 200,
    )


_STATE_ACTIONS = {
    ArticleState.PUBLISHED.value: (services.article_publish, gettext_lazy("Published.")),
    ArticleState.DRAFT.value: (services.article_unpublish, gettext_lazy("Returned to draft.")),
    ArticleState.ARCHIVED.value: (services.article_archive, gettext_lazy("Archived.")),
}


@console_required
@require_POST
def console_state(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    article = _article_for_change(request, pk)
    action = _STATE_ACTIONS.get(request.POST.get("state", ""))
    if action is None:
        messages.error(request, _("Choose publish, draft or archive."))
    else:
        change, done = action
        change(article=article, actor=user)
        messages.success(request, str(done))
    return redirect("knowledge:edit", pk=article.pk)
