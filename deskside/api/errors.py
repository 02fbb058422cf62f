"""The API's one error shape, and the handlers that turn every failure into it.

Every error a client can receive looks like::

    {"error": {"code": "not_found", "message": "...", "details": {...} | null}}

``code`` is stable and meant for programs; ``message`` is written for a person and says
what to do next; ``details`` carries structured extras (field errors, a retry delay, a
reference to quote to IT) or is null. Routers raise :class:`ApiError` for their own
failures, or simply let the permission gate's Http404 and a service's ValidationError
propagate: both are translated here.
"""

from __future__ import annotations

import json
import logging
import math
import uuid
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Schema
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

if TYPE_CHECKING:
    from ninja import NinjaAPI

logger = logging.getLogger("deskside.api")

E = TypeVar("E", bound=Exception)

# Field errors not tied to one field (Django's convention, kept so forms and the API agree).
WHOLE_REQUEST = NON_FIELD_ERRORS


class ErrorBody(Schema):
    code: str
    message: str
    details: dict[str, Any] | None = None


class ErrorOut(Schema):
    """The body of every error response."""

    error: ErrorBody


class ApiError(Exception):
    """An error a router wants to report in the one shape, with its own code and words."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}


def _unauthenticated_message() -> str:
    return _(
        "Sign in first, or send an API token in the Authorization header as "
        "'Bearer <token>'. An administrator can create a token for you."
    )


def not_authenticated(message: str | None = None) -> ApiError:
    # RFC 9110 requires a 401 to name the scheme the client should use.
    return ApiError(
        401,
        "not_authenticated",
        message or _unauthenticated_message(),
        headers={"WWW-Authenticate": 'Bearer realm="deskside"'},
    )


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    """Build an error response without going through an API object (used for bare URLs)."""
    body = ErrorOut(error=ErrorBody(code=code, message=message, details=details))
    response = HttpResponse(
        json.dumps(body.model_dump(), cls=DjangoJSONEncoder),
        status=status,
        content_type="application/json; charset=utf-8",
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _from_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)


# Pydantic's messages are accurate but technical; these say the same in everyday words.
_FRIENDLY_FIELD_MESSAGES: dict[str, Callable[[dict[str, Any]], str]] = {
    "missing": lambda ctx: _("This is required."),
    "int_parsing": lambda ctx: _("Enter a whole number, such as 1 or 25."),
    "int_type": lambda ctx: _("Enter a whole number, such as 1 or 25."),
    "bool_parsing": lambda ctx: _("Enter true or false."),
    "greater_than_equal": lambda ctx: _("Enter a number of at least %(ge)s.") % ctx,
    "greater_than": lambda ctx: _("Enter a number above %(gt)s.") % ctx,
    "less_than_equal": lambda ctx: _("Enter a number no bigger than %(le)s.") % ctx,
    "less_than": lambda ctx: _("Enter a number below %(lt)s.") % ctx,
    "string_too_long": lambda ctx: _("Shorten this to at most %(max_length)s characters.") % ctx,
    "string_too_short": lambda ctx: _("Make this at least %(min_length)s characters long.") % ctx,
    "enum": lambda ctx: _("Choose one of: %(expected)s.") % ctx,
    "literal_error": lambda ctx: _("Choose one of: %(expected)s.") % ctx,
    "extra_forbidden": lambda ctx: _("There is no such field here. Remove it and try again."),
    "string_type": lambda ctx: _("Enter text, in quotes."),
    "list_type": lambda ctx: _("Send a list, such as [1, 2]."),
    "bool_type": lambda ctx: _("Enter true or false."),
}


def _friendly(error: dict[str, Any]) -> str:
    maker = _FRIENDLY_FIELD_MESSAGES.get(str(error.get("type", "")))
    if maker is not None:
        try:
            return maker(dict(error.get("ctx") or {}))
        except (KeyError, TypeError, ValueError):
            pass
    return str(error.get("msg", _("This value is not valid.")))


def _from_ninja_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields: dict[str, list[dict[str, str]]] = {}
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", ())]
        # The first part says where the value came from (query, path, body); clients want
        # the name they sent.
        name = ".".join(location[1:]) or WHOLE_REQUEST
        fields.setdefault(name, []).append(
            {"code": str(error.get("type", "invalid")), "message": _friendly(error)}
        )
    if any(error.get("type") == "extra_forbidden" for error in exc.errors):
        # A field the endpoint does not know is usually a typo or a guess at a feature that
        # does not exist; ignoring it would let the caller believe it took effect.
        return error_response(
            400,
            "unknown_field",
            _(
                "Some of the fields sent do not exist for this request. Remove or correct "
                "the fields listed and try again."
            ),
            {"fields": fields},
        )
    return error_response(
        422,
        "validation_failed",
        _("Some of the values sent are not valid. Correct the fields listed and try again."),
        {"fields": fields},
    )


def _from_django_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    fields: dict[str, list[dict[str, str]]] = {}
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            for error in errors:
                fields.setdefault(name, []).extend(_django_error_items(error))
    else:
        fields[WHOLE_REQUEST] = _django_error_items(exc)
    # A service's single plain-words message is the best summary a person can get.
    only = [item for items in fields.values() for item in items]
    message = (
        only[0]["message"]
        if len(only) == 1
        else _("The change could not be made. Correct the problems listed and try again.")
    )
    return error_response(400, "invalid", message, {"fields": fields})


def _django_error_items(exc: DjangoValidationError) -> list[dict[str, str]]:
    items = []
    for error in exc.error_list:
        text = error.message % error.params if error.params else error.message
        items.append({"code": error.code or "invalid", "message": str(text)})
    return items


def _from_authentication(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _from_api_error(request, not_authenticated())


def _from_throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    wait = math.ceil(exc.wait) if exc.wait is not None else None
    if wait is None:
        message = _("Too many requests were sent. Wait a minute and try again.")
    else:
        message = _("Too many requests were sent. Wait %(seconds)s seconds and try again.") % {
            "seconds": wait
        }
    # Retry-After lets HTTP clients and proxies back off without reading the body.
    headers = {"Retry-After": str(wait)} if wait is not None else None
    return error_response(429, "too_many_requests", message, {"retry_after_seconds": wait}, headers)


def _from_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400 and exc.message.startswith("Cannot parse request body"):
        return error_response(
            400,
            "unreadable_body",
            _("The request body could not be read. Send it as valid JSON and try again."),
        )
    if exc.status_code == 403 and exc.message.startswith("CSRF"):
        return _from_api_error(request, csrf_failed())
    code = _code_for_status(exc.status_code)
    return error_response(exc.status_code, code, exc.message)


def csrf_failed() -> ApiError:
    return ApiError(
        403,
        "csrf_failed",
        _(
            "This request was sent without the page's security token. Reload the page and "
            "try again; scripts should use an API token instead of a browser session."
        ),
    )


def _code_for_status(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def _from_404(request: HttpRequest, exc: Http404) -> HttpResponse:
    return not_found_response()


def not_found_response() -> HttpResponse:
    # Also the answer for objects the caller may not see, so it must not hint either way.
    return error_response(
        404,
        "not_found",
        _(
            "Nothing was found here. Check the address and the ID; "
            "if you were sent this link, ask the sender to check you have access."
        ),
    )


def _from_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error_response(
        403,
        "forbidden",
        _(
            "You can see this, but you are not allowed to do that to it. "
            "Ask a team lead or an administrator if you need to."
        ),
    )


def _from_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    # The reference lets a person quote one short string that finds the full trace in the log.
    reference = uuid.uuid4().hex[:12]
    logger.exception(
        "Unexpected error in %s %s (reference %s)", request.method, request.path, reference
    )
    return error_response(
        500,
        "server_error",
        _(
            "Something went wrong on our side and nothing was changed. Try again in a minute; "
            "if it keeps happening, tell IT and quote reference %(reference)s."
        )
        % {"reference": reference},
        {"reference": reference},
    )


def method_not_allowed_response(allowed: str) -> HttpResponse:
    return error_response(
        405,
        "method_not_allowed",
        _("This address does not accept that kind of request. It accepts: %(allowed)s.")
        % {"allowed": allowed},
        {"allowed": [method.strip() for method in allowed.split(",") if method.strip()]},
        {"Allow": allowed},
    )


def _register(
    api: NinjaAPI, exc_class: type[E], handler: Callable[[HttpRequest, E], HttpResponse]
) -> None:
    def adapter(request: HttpRequest, exc: E | type[E]) -> HttpResponse:
        # ninja's type allows an exception class here, but it only ever passes instances.
        return handler(request, cast("E", exc))

    api.add_exception_handler(exc_class, adapter)


def install_error_handlers(api: NinjaAPI) -> None:
    """Replace ninja's default handlers so that every failure uses the one error shape."""
    _register(api, ApiError, _from_api_error)
    _register(api, NinjaValidationError, _from_ninja_validation)
    _register(api, DjangoValidationError, _from_django_validation)
    _register(api, AuthenticationError, _from_authentication)
    _register(api, Throttled, _from_throttled)
    _register(api, HttpError, _from_http_error)
    _register(api, Http404, _from_404)
    _register(api, PermissionDenied, _from_permission_denied)
    _register(api, Exception, _from_unexpected)
