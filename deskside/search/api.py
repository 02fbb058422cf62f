"""``GET /api/v1/search``: ticket search for integrations and the web UI's scripts."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from deskside.api.auth import caller
from deskside.api.pagination import paginated
from deskside.search.interface import SearchResults
from deskside.search.query import MAX_QUERY_LENGTH
from deskside.tickets.models import StatusKind, Ticket

router = Router()

ALLOWED_PARAMETERS = frozenset({"q", "page", "page_size"})


class SearchTicketOut(Schema):
    id: int
    number: str = Field(description="The number people see and quote, such as #1042.")
    subject: str
    status: str = Field(description="The status as agents name it.")
    status_kind: StatusKind
    requester_name: str
    updated_at: datetime

    @staticmethod
    def resolve_status(obj: Ticket) -> str:
        return obj.status.name

    @staticmethod
    def resolve_requester_name(obj: Ticket) -> str:
        return obj.requester.full_name


class SearchHitOut(Schema):
    ticket: SearchTicketOut
    match: Literal["number", "text"] = Field(
        description="'number' when the query was this ticket's number; it then comes first."
    )
    rank: float = Field(description="Higher is better; compare only within one search.")
    subject_html: str = Field(
        description="The subject, HTML-escaped, with matching words inside <mark>."
    )
    snippet_html: str = Field(
        description="An excerpt around the matches, HTML-escaped, matches inside <mark>."
    )
    snippet_source: Literal["reply", "note", "none"] = Field(
        description="Where the excerpt comes from. Notes are only ever shown to IT staff."
    )


class SearchParams(Schema):
    q: str = Field(
        max_length=MAX_QUERY_LENGTH,
        description=(
            "Words to find in subjects, conversations and requester names (all must match; "
            "the last may be unfinished), or a ticket number such as #1042."
        ),
    )


@router.get(
    "/search",
    response=list[SearchHitOut],
    operation_id="search_tickets",
    summary="Search tickets",
    tags=["search"],
)
@paginated
def search_tickets(request: HttpRequest, params: Query[SearchParams]) -> SearchResults:
    """Tickets the caller may see that match ``q``, best first, with highlighted excerpts."""
    unknown = sorted(set(request.GET) - ALLOWED_PARAMETERS)
    if unknown:
        # As for the tickets list: a misspelt parameter must not silently widen a search.
        raise ValidationError({name: _("This parameter does not exist.") for name in unknown})
    return SearchResults(caller(request), params.q)
