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
from django.urls import reverse
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
from deskside.tickets import selectors as ticket_selectors
from deskside.tickets.models import Ticket

PAGE_SIZE = 20
SUGGEST_LIMIT = 5
# Articles offered by the ticket page's search and the reply box's picker.
PICK_LIMIT = 8


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
    if user.uses_console:
        selectors.attach_helped_counts([article])
    return render(
        request,
        "knowledge/help_article.html",
        {
            "article": article,
            "staff": user.uses_console,
            "my_feedback": selectors.article_feedback_of(user, article),
        },
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
    answered_before = selectors.article_feedback_of(user, article) is not None
    services.article_feedback_record(
        article=article,
        user=user,
        helpful=answer == "yes",
        comment=request.POST.get("comment", ""),
    )
    if answered_before:
        messages.success(request, _("Thank you. Your new answer replaces your earlier one."))
    else:
        messages.success(request, _("Thank you for telling us. It helps us improve our articles."))
    return redirect("help:article", slug=article.slug)


# The new-request form sends what has been typed so far under these names.
SUGGEST_FIELDS = ("subject", "description", "trying", "happened")


def _suggest_queries(request: HttpRequest) -> list[str]:
    """What to search for: ``q`` if given, else what the new-request form holds so far."""
    query = _query(request)
    if query:
        return [query]
    subject, *more = (request.GET.get(name, "") for name in SUGGEST_FIELDS)
    return selectors.suggestion_queries(subject, *more)


@portal_required
@require_GET
def help_suggest(request: HttpRequest) -> HttpResponse:
    """Up to five matching articles as an HTML fragment, for htmx while someone types."""
    user = _user(request)
    queries = _suggest_queries(request)
    hits = selectors.articles_suggested(user, queries, SUGGEST_LIMIT)
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
    due = request.GET.get("due", "")
    if due not in (selectors.DUE_MINE, selectors.DUE_ALL):
        due = ""
    review_scope = due or selectors.review_scope_default(user)
    if query and not due:
        hits = search_articles(user, query, MAX_RESULTS)
        items: Any = [
            hit
            for hit in hits
            if (state not in ArticleState.values or hit.article.state == state)
            and (visibility not in Visibility.values or hit.article.visibility == visibility)
        ]
    else:
        query = "" if due else query
        items = selectors.console_articles(user, state=state, visibility=visibility, due=due)
    context = _page_context(
        request, items, {"q": query, "state": state, "visibility": visibility, "due": due}
    )
    searching = bool(query)
    selectors.attach_helped_counts(
        item.article if searching else item for item in context["page"].object_list
    )
    context.update(
        {
            "query": query,
            "searching": searching,
            "state": state,
            "visibility": visibility,
            "due": due,
            "review_scope": review_scope,
            "review_count": selectors.review_count(user, review_scope),
            "DUE_MINE": selectors.DUE_MINE,
            "DUE_ALL": selectors.DUE_ALL,
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
    selectors.attach_helped_counts([article])
    return render(
        request,
        "knowledge/console_edit.html",
        {
            "form": form,
            "article": article,
            "revisions": selectors.article_revisions(user, article).select_related("editor"),
            "source_tickets": selectors.article_source_tickets(user, article),
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


# --- Articles on the console's ticket page ---------------------------------------------------


def _ticket_articles_url(ticket: Ticket) -> str:
    return reverse("tickets:ticket", kwargs={"pk": ticket.pk}) + "#articles"


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


@console_required
@require_GET
def ticket_search(request: HttpRequest, pk: int) -> HttpResponse:
    """Articles to link to the ticket: a fragment for htmx, or a page of its own without JS."""
    user = _user(request)
    ticket = ticket_selectors.ticket_get(user, pk)
    query = _query(request)
    panel = selectors.ticket_kb_panel(user, ticket)
    context = {
        "ticket": ticket,
        "query": query,
        "hits": selectors.article_hits_for_staff(user, query, PICK_LIMIT) if query else [],
        "linked": {link.article_id for link in panel.links} if panel else set(),
        "can_change": bool(panel and panel.can_change),
    }
    if _is_htmx(request):
        return render(request, "knowledge/_ticket_search_results.html", context)
    return render(request, "knowledge/ticket_search.html", context)


@console_required
@require_POST
def ticket_link(request: HttpRequest, pk: int) -> HttpResponse:
    """Link the article named by ``article`` (its number, address or link) to the ticket."""
    user = _user(request)
    ticket = ticket_selectors.ticket_get(user, pk)
    named = request.POST.get("article", "").strip()
    article = selectors.article_find(user, named)
    if article is None:
        messages.error(
            request,
            _(
                "No article matches “%(text)s”. Type the article's number, or search for it "
                "by words."
            )
            % {"text": named[:100]},
        )
    else:
        services.ticket_article_link(ticket=ticket, article=article, actor=user)
        messages.success(
            request, _("“%(title)s” is linked to this ticket.") % {"title": article.title}
        )
    return redirect(_ticket_articles_url(ticket))


@console_required
@require_POST
def ticket_unlink(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    ticket = ticket_selectors.ticket_get(user, pk)
    article_id = _int_or_none(request.POST.get("article"))
    article = selectors.articles_for(user).filter(pk=article_id).first() if article_id else None
    if article is not None and services.ticket_article_unlink(
        ticket=ticket, article=article, actor=user
    ):
        messages.success(
            request, _("“%(title)s” is no longer linked to this ticket.") % {"title": article.title}
        )
    else:
        messages.error(request, _("That article was not linked to this ticket."))
    return redirect(_ticket_articles_url(ticket))


@console_required
@require_POST
def from_ticket(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Turn into a help article": draft an article from the ticket's resolution note."""
    user = _user(request)
    ticket = ticket_selectors.ticket_get(user, pk)
    try:
        article, created = services.article_from_ticket(ticket=ticket, actor=user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect(reverse("tickets:ticket", kwargs={"pk": ticket.pk}) + "#resolve")
    if created:
        messages.success(
            request,
            _(
                "A draft article is ready, made from the resolution. Check the words make "
                "sense to someone who never saw the ticket, then publish it."
            ),
        )
    else:
        messages.info(request, _("An article was already drafted from this ticket. Here it is."))
    return redirect("knowledge:edit", pk=article.pk)


# --- The reply box's article picker ----------------------------------------------------------


@console_required
@require_GET
def pick(request: HttpRequest) -> HttpResponse:
    """Articles to insert into a reply, as an HTML fragment (the composer's script asks).

    Only articles a requester can open (published, for everyone) offer a link; any other
    may be inserted as text, and says who can read it.
    """
    user = _user(request)
    query = _query(request)
    hits = selectors.article_hits_for_staff(user, query, PICK_LIMIT) if query else []
    items = [
        {
            "article": hit.article,
            "title_html": hit.title_html,
            "url": selectors.article_portal_url(hit.article),
            "linkable": hit.article.state == ArticleState.PUBLISHED
            and hit.article.visibility == Visibility.PUBLIC,
        }
        for hit in hits
    ]
    return render(request, "knowledge/_pick_results.html", {"query": query, "items": items})
