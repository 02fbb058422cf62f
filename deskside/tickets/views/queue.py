"""The console's ticket queues: filters, sorting, pages, saved filters and bulk changes."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from deskside.accounts import permissions
from deskside.accounts.decorators import console_required
from deskside.accounts.models import Team, User
from deskside.tickets import selectors, services
from deskside.tickets.forms import BulkForm, SavedFilterForm, agents
from deskside.tickets.models import ACTIVE_KINDS, Category, Channel, Priority, Status, Ticket

PAGE_SIZE = 50
# Counting a million rows on every page view is slow; past these numbers "more than" is
# all an agent needs to know, and the count stays cheap.
# Counting visits every matching row; past 1,000 (20 pages) people narrow the filters.
COUNT_CAP = 1_000
QUEUE_COUNT_CAP = 999
NEW_COUNT_CAP = 99

SORT_LABELS = {
    "updated": gettext_lazy("Recently updated first"),
    "-updated": gettext_lazy("Least recently updated first"),
    "created": gettext_lazy("Newest first"),
    "-created": gettext_lazy("Oldest first"),
    "priority": gettext_lazy("Most urgent first"),
    "number": gettext_lazy("Highest number first"),
    "due": gettext_lazy("Soonest deadline first"),
}


ROW_FIELDS = (
    "id", "subject", "priority", "updated_at", "status_kind", "status_id", "team_id",
    "requester", "requester__full_name", "assignee", "assignee__full_name", "sla_due_at",
    "sla__paused_since",
)  # fmt: skip


def console_user(request: HttpRequest) -> User:
    # console_required has already sent everyone else away.
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


def forbidden(request: HttpRequest, error: PermissionDenied) -> HttpResponse:
    """A plain 403 page that says why, in the service's words."""
    reason = str(error) or _("Your account is not allowed to do that.")
    return render(request, "tickets/forbidden.html", {"reason": reason}, status=403)


class CappedPaginator(Paginator[Ticket]):
    """Django's paginator, but the total is counted only up to :data:`COUNT_CAP` rows."""

    @cached_property
    def count(self) -> int:
        queryset: Any = self.object_list
        return capped_count(queryset, COUNT_CAP)


def _params(query: QueryDict) -> dict[str, list[str]]:
    return {key: query.getlist(key) for key in query}


def _query_without(query: QueryDict, *names: str) -> str:
    copy = query.copy()
    for name in names:
        copy.pop(name, None)
    return copy.urlencode()


def capped_count(queryset: QuerySet[Ticket], cap: int) -> int:
    """How many rows, counting at most ``cap + 1`` (so "more than cap" can be shown)."""
    return int(queryset.order_by().values("pk")[: cap + 1].count())


def queue_counts(user: User) -> list[dict[str, Any]]:
    """Each queue with how many tickets it holds (capped so it stays quick)."""
    found = []
    for key, label in selectors.QUEUES.items():
        count = capped_count(
            selectors.ticket_query(user, selectors.TicketFilters(queue=key)), QUEUE_COUNT_CAP
        )
        found.append(
            {
                "key": key,
                "label": label,
                "count": min(count, QUEUE_COUNT_CAP),
                "more": count > QUEUE_COUNT_CAP,
            }
        )
    return found


def _filter_options(user: User) -> dict[str, Any]:
    statuses = list(Status.objects.order_by("position", "name"))
    return {
        "statuses": statuses,
        "priorities": Priority.choices,
        "teams": list(permissions.visible(user, Team).order_by("name")),
        # Names only: these fill two long lists of options on every queue page.
        "agents": list(agents().only("id", "full_name")),
        "categories": list(Category.objects.order_by("position", "name")),
        "channels": Channel.choices,
        "sorts": list(SORT_LABELS.items()),
        # The same rule as forms.working_statuses(), without asking the database again.
        "working_statuses": [status for status in statuses if status.kind in ACTIVE_KINDS],
    }


def _poll_seconds() -> int:
    return int(settings.CONSOLE_POLL_SECONDS)


@console_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    user = console_user(request)
    query = _query_without(request.GET, "page")
    error = ""
    try:
        filters = selectors.parse_filters(_params(request.GET))
    except ValidationError as exc:
        messages_found = [m for ms in exc.message_dict.values() for m in ms]
        error = " ".join(messages_found)
        filters = None
    page: Page[Ticket] | None = None
    newest_id = 0
    requester_names: list[str] = []
    if filters is not None:
        # Only what a row shows: building 50 full tickets and their people costs more
        # than the query itself.
        # Statuses and teams are few and already loaded for the filter form, so rows take
        # their names from there instead of joining them for every ticket.
        tickets = (
            selectors.ticket_query(user, filters)
            .select_related(None)
            # The SLA row is joined (not fetched per row) only to tell "paused" from "none".
            .select_related("requester", "assignee", "sla")
            .only(*ROW_FIELDS)
        )
        paginator = CappedPaginator(tickets, PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
        newest = tickets.order_by("-id").values_list("pk", flat=True).first()
        newest_id = newest or 0
        if filters.requester:
            requester_names = list(
                permissions.visible(user, User)
                .filter(pk__in=filters.requester)
                .values_list("full_name", flat=True)
            )
    context = {
        "filters": filters,
        "filter_error": error,
        "page": page,
        "page_range": (
            page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
            if page
            else []
        ),
        "count_capped": page is not None and page.paginator.count > COUNT_CAP,
        "count_cap": COUNT_CAP,
        "query": query,
        "query_without_sort": _query_without(request.GET, "page", "sort"),
        "queue_query": _query_without(request.GET, "page", "queue"),
        "queues": [{"key": key, "label": label} for key, label in selectors.QUEUES.items()],
        "counted": False,
        "current_queue": filters.queue if filters else (request.GET.get("queue") or "all"),
        "current_queue_label": selectors.QUEUES.get(
            filters.queue if filters else "all", selectors.QUEUES["all"]
        ),
        "newest_id": newest_id,
        "poll_seconds": _poll_seconds(),
        "saved_filters": list(selectors.saved_filters(user)),
        "saved_filter_form": SavedFilterForm(initial={"query": query}),
        "requester_names": requester_names,
        **_filter_options(user),
    }
    return render(request, "tickets/queue.html", context, status=400 if error else 200)


@console_required
@require_GET
def queue_poll(request: HttpRequest) -> HttpResponse:
    """How many tickets matching the current filters arrived after the newest one shown."""
    user = console_user(request)
    try:
        after = int(request.GET.get("after", "0"))
        filters = selectors.parse_filters(_params(QueryDict(_query_without(request.GET, "after"))))
    except (ValueError, ValidationError):
        return HttpResponse("")
    new_count = capped_count(
        selectors.ticket_query(user, filters).filter(pk__gt=after), NEW_COUNT_CAP
    )
    return render(
        request,
        "tickets/_queue_poll.html",
        {
            "new_count": new_count,
            "more": new_count > NEW_COUNT_CAP,
            "query": _query_without(request.GET, "after", "page"),
        },
    )


@console_required
@require_GET
def queue_counts_partial(request: HttpRequest) -> HttpResponse:
    """Queue counts: the console home's list, or (``?tabs=1``) the queue page's tabs."""
    queues = queue_counts(console_user(request))
    if request.GET.get("tabs"):
        current = request.GET.get("current", "all")
        context = {
            "queues": queues,
            "counted": True,
            "current_queue": current if current in selectors.QUEUES else "all",
            "queue_query": _query_without(request.GET, "tabs", "current", "page", "queue"),
        }
        return render(request, "tickets/_queue_tabs.html", context)
    return render(request, "tickets/_queue_counts.html", {"queues": queues})


def _back_to_queue(query: str) -> HttpResponse:
    # Re-encode so the redirect can only ever point at the queue, whatever was posted.
    clean = QueryDict(query).urlencode()
    return redirect(reverse("tickets:queue") + (f"?{clean}" if clean else ""))


@console_required
@require_POST
def bulk_update(request: HttpRequest) -> HttpResponse:
    user = console_user(request)
    form = BulkForm(request.POST)
    back = request.POST.get("next", "")
    if not form.is_valid():
        messages.error(request, _("Choose from the lists, then try again."))
        return _back_to_queue(back)
    data = form.cleaned_data
    numbers: list[int] = data["ticket"]
    if not numbers:
        messages.error(request, _("Tick at least one ticket first."))
        return _back_to_queue(back)
    changes: dict[str, Any] = {}
    if data["team"] != "":
        changes["team"] = (
            None
            if data["team"] == "none"
            else permissions.visible(user, Team).filter(pk=data["team"]).first()
        )
        if data["team"] != "none" and changes["team"] is None:
            messages.error(request, _("That team no longer exists."))
            return _back_to_queue(back)
    if data["assignee"] != "":
        changes["assignee"] = (
            None if data["assignee"] == "none" else agents().filter(pk=data["assignee"]).first()
        )
        if data["assignee"] != "none" and changes["assignee"] is None:
            messages.error(request, _("That person cannot take tickets."))
            return _back_to_queue(back)
    if data["status"] is not None:
        changes["status"] = data["status"]
    if data["priority"] is not None:
        changes["priority"] = data["priority"]
    if not changes:
        messages.error(request, _("Choose what to change: team, person, status or priority."))
        return _back_to_queue(back)
    tickets = list(selectors.ticket_query(user).filter(pk__in=numbers))
    try:
        count = services.tickets_bulk_update(actor=user, tickets=tickets, **changes)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _back_to_queue(back)
    except PermissionDenied as exc:
        return forbidden(request, exc)
    messages.success(
        request,
        ngettext("%(count)d ticket changed.", "%(count)d tickets changed.", count)
        % {"count": count},
    )
    return _back_to_queue(back)


@console_required
@require_POST
def saved_filter_save(request: HttpRequest) -> HttpResponse:
    user = console_user(request)
    form = SavedFilterForm(request.POST)
    query = request.POST.get("query", "")
    if not form.is_valid():
        messages.error(request, _("Give the filter a name of up to 80 characters."))
        return _back_to_queue(query)
    query = _query_without(QueryDict(form.cleaned_data["query"]), "page")
    try:
        # Only a filter that works may be saved, so a saved link never leads to an error.
        selectors.parse_filters(_params(QueryDict(query)))
        saved = services.saved_filter_create(
            owner=user, name=form.cleaned_data["name"], query=query
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _back_to_queue(query)
    messages.success(request, _("Saved as “%(name)s”.") % {"name": saved.name})
    return _back_to_queue(query)


@console_required
@require_POST
def saved_filter_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = console_user(request)
    saved = get_object_or_404(selectors.saved_filters(user), pk=pk)
    services.saved_filter_delete(owner=user, saved_filter=saved)
    messages.success(request, _("Removed the filter “%(name)s”.") % {"name": saved.name})
    return _back_to_queue(request.POST.get("next", ""))
