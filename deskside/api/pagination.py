"""Page-numbered pagination, used by every list in the API.

A list endpoint declares ``response=list[ItemOut]`` and is decorated with
:data:`paginated`; clients then receive
``{"items": [...], "count": N, "page": P, "page_size": S, "pages": T}``.

A page past the end is not an error: it comes back with no items (and the true count and
number of pages), so a client that reads until it gets an empty page stops cleanly even if
records were removed while it was reading.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, cast, get_type_hints

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import PaginationBase, paginate

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class PagePagination(PaginationBase):
    """``?page=1&page_size=50``; sizes above :data:`MAX_PAGE_SIZE` are reduced to it."""

    class Input(Schema):
        page: int = Field(1, ge=1, description="Which page to return, starting at 1.")
        page_size: int = Field(
            DEFAULT_PAGE_SIZE,
            ge=1,
            description=f"How many items per page. Larger values are reduced to {MAX_PAGE_SIZE}.",
        )

    class Output(Schema):
        items: list[Any]
        count: int = Field(description="How many items there are across all pages.")
        page: int = Field(description="The page returned.")
        page_size: int = Field(description="The page size used (after any reduction).")
        pages: int = Field(description="How many pages there are; at least 1.")

    def paginate_queryset(
        self,
        queryset: QuerySet[Any] | list[Any],
        pagination: PagePagination.Input,
        request: HttpRequest,
        **params: Any,
    ) -> dict[str, Any]:
        size = min(pagination.page_size, MAX_PAGE_SIZE)
        if isinstance(queryset, QuerySet) and not queryset.ordered:
            # Without an order the database may return rows differently for each page,
            # so items would repeat or go missing between pages.
            queryset = queryset.order_by("pk")
        count = queryset.count() if isinstance(queryset, QuerySet) else len(queryset)
        offset = (pagination.page - 1) * size
        # Skip the query past the end: a huge page number would otherwise reach the
        # database as an OFFSET too large for it.
        items = list(queryset[offset : offset + size]) if offset < count else []
        return {
            "items": items,
            "count": count,
            "page": pagination.page,
            "page_size": size,
            "pages": max(1, math.ceil(count / size)),
        }


_paginate_pages = paginate(PagePagination)


def paginated(endpoint: Callable[P, R]) -> Callable[P, R]:
    """Paginate a list endpoint; use as ``@paginated`` under the router decorator."""
    # ninja reads the endpoint's parameters through its own wrapper, whose module does not
    # know the endpoint's names, so string annotations (from __future__ import annotations)
    # would not resolve there. Resolve them here, where the endpoint's module is known.
    endpoint.__annotations__ = get_type_hints(endpoint, include_extras=True)
    return cast("Callable[P, R]", _paginate_pages(endpoint))
