"""The console's ticket search: one box in the header, one results page."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from deskside.accounts.decorators import console_required
from deskside.accounts.models import User
from deskside.search.interface import SearchResults, ticket_for_number
from deskside.search.query import MAX_QUERY_LENGTH

PAGE_SIZE = 25


@console_required
def search(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)  # console_required let only signed-in staff through
    query = request.GET.get("q", "")[:MAX_QUERY_LENGTH].strip()
    # A typed number goes straight to the ticket; while typing (htmx) it is listed first
    # instead, so the page does not jump away under the agent's fingers.
    if not request.headers.get("HX-Request"):
        ticket = ticket_for_number(user, query)
        if ticket is not None:
            return redirect("tickets:ticket", pk=ticket.pk)
    results = SearchResults(user, query)
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    template = (
        "tickets/_search_results.html"
        if request.headers.get("HX-Request")
        else ("tickets/search.html")
    )
    return render(
        request,
        template,
        {
            "query": query,
            "page": page,
            "page_range": page.paginator.get_elided_page_range(page.number),
        },
    )
