"""The REST API object at /api/v1/. Each app adds its own router at the bottom of this file.

To add an app's endpoints: write ``deskside/<app>/api.py`` with a ``router = Router()``,
read through the app's selectors, decorate list endpoints with
``deskside.api.pagination.paginated``, and register the router below. Authentication,
the error shape and the OpenAPI entries come from :class:`DesksideAPI`; the schema test in
``deskside/api/tests/test_schema.py`` fails if a new endpoint skips them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponseBase, HttpResponseNotAllowed
from django.urls import URLPattern, URLResolver, re_path
from ninja import NinjaAPI
from ninja.errors import ValidationError as NinjaValidationError
from ninja.errors import ValidationErrorContext
from ninja.openapi.docs import Swagger

from deskside.accounts.api import router as accounts_router
from deskside.api.auth import default_auth
from deskside.api.errors import (
    ErrorOut,
    install_error_handlers,
    method_not_allowed_response,
    not_found_response,
)
from deskside.coach.api import router as coach_router
from deskside.knowledge.api import router as knowledge_router
from deskside.search.api import router as search_router
from deskside.sla.api import router as sla_router
from deskside.tickets.api import router as tickets_router

View = Callable[..., HttpResponseBase]

DESCRIPTION = """\
The Deskside REST API. Authenticate with `Authorization: Bearer <token>` (integrations) or
the signed-in browser session (the web UI; unsafe methods then need the CSRF token).
Tokens are scoped `read` (GET only) or `write`, and rate limited per token (429 with
Retry-After).
Every error has the shape `{"error": {"code", "message", "details"}}`, and every list is
paginated with `?page=` and `?page_size=` (at most 200). See docs/api.md.
"""


def _with_error_shape(view: View) -> View:
    """Give the plain-Django answers ninja leaves behind (404, 405) the API's error shape."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return not_found_response()
        if isinstance(response, HttpResponseNotAllowed):
            return method_not_allowed_response(response["Allow"])
        return response

    # ninja's views are exempt from the CSRF middleware and do the check in SessionAuth.
    wrapped.csrf_exempt = True  # type: ignore[attr-defined]
    return wrapped


def _unknown_path(request: HttpRequest, rest: str) -> HttpResponseBase:
    return not_found_response()


class DesksideAPI(NinjaAPI):
    """A NinjaAPI with Deskside's authentication, error shape and OpenAPI additions."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("auth", default_auth())
        # Swagger from ninja's own static files (ninja is in INSTALLED_APPS): no CDN.
        kwargs.setdefault("docs", Swagger())
        super().__init__(**kwargs)
        install_error_handlers(self)

    @property
    def urls(self) -> tuple[list[URLResolver | URLPattern], str, str]:
        patterns, app_name, namespace = super().urls
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                pattern.callback = _with_error_shape(pattern.callback)
        # Last, so an unknown address under the API answers in JSON, not Django's HTML page.
        patterns.append(re_path(r"^(?P<rest>.*)$", _with_error_shape(_unknown_path)))
        return patterns, app_name, namespace

    def validation_error_from_error_contexts(
        self, error_contexts: list[ValidationErrorContext[Any]]
    ) -> NinjaValidationError:
        error = super().validation_error_from_error_contexts(error_contexts)
        # A body that is one schema is read as if nested under the parameter's name, so
        # errors would say "payload.subject" when the client sent "subject". Drop that
        # name, so schema errors and service errors name fields the same way.
        wrappers = {
            getattr(context.model, "__read_from_single_attr__", None) for context in error_contexts
        } - {None}
        for item in error.errors:
            location = tuple(item.get("loc", ()))
            if len(location) > 2 and location[0] == "body" and location[1] in wrappers:
                item["loc"] = (location[0], *location[2:])
        return error

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(**kwargs)
        error_schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(error_schema.pop("$defs", {}))
        components["Error"] = error_schema
        error_response = {
            "description": "Any error, in the one error shape.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for operations in schema["paths"].values():
            for operation in operations.values():
                operation.setdefault("responses", {}).setdefault("default", error_response)
        return schema


api = DesksideAPI(
    title="Deskside API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
)

# --- Routers, one per app -------------------------------------------------------------------
api.add_router("", accounts_router)
api.add_router("", tickets_router)
api.add_router("", search_router)
api.add_router("", sla_router)
api.add_router("", coach_router)
api.add_router("", knowledge_router)
