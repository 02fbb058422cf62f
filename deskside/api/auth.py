"""How API callers prove who they are: an API token, or the browser's signed-in session.

Both are tried on every endpoint, token first. Integrations send
``Authorization: Bearer <token>``; the web UI's own scripts ride on the session cookie and
must then send the CSRF token on unsafe methods, exactly as a form post would.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import Throttled
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie
from ninja.utils import check_csrf

from deskside.accounts.models import ApiToken, TokenScope, User
from deskside.accounts.services import ApiTokenRejected, api_token_check
from deskside.api.errors import ApiError, csrf_failed, not_authenticated
from deskside.system import ratelimit

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# The rate limit is counted per token in windows of this many seconds.
RATE_WINDOW_SECONDS = 60


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <token>`` with a token made by ``api_token_create``.

    Besides finding the caller it applies what belongs to the token rather than to the
    person: the per-token rate limit, and the read-only scope.
    """

    def authenticate(self, request: HttpRequest, token: str) -> User:
        try:
            found = api_token_check(raw_token=token.strip())
        except ApiTokenRejected as exc:
            # A wrong token is a definite answer: falling through to the session would turn
            # it into a vaguer message, or quietly act as someone else.
            raise not_authenticated(exc.message) from None
        _check_rate(found)
        if found.scope != TokenScope.WRITE and request.method not in _SAFE_METHODS:
            raise read_only_token()
        # Code further down (services recording who acted) reads request.user, as for the UI.
        request.user = found.user
        return found.user


def _check_rate(token: ApiToken) -> None:
    limit = settings.API_RATE_LIMIT
    if not ratelimit.hit("api", str(token.pk), limit=limit, window=RATE_WINDOW_SECONDS):
        # Windows are fixed, so the wait is until the current one ends (at least a second).
        wait = RATE_WINDOW_SECONDS - int(time.time() % RATE_WINDOW_SECONDS)
        raise Throttled(wait=max(1, wait))


def read_only_token() -> ApiError:
    return ApiError(
        403,
        "read_only_token",
        _(
            "This API token can only read. To make changes, use a token with the write "
            "scope; an administrator can create one."
        ),
    )


class SessionAuth(APIKeyCookie):
    """The signed-in browser session, with Django's CSRF check on unsafe methods.

    Unlike ninja's own SessionAuth, the CSRF check only runs once a session user is
    found, so a script with a bad token gets "not signed in" rather than a CSRF error.
    """

    param_name = "sessionid"

    def __init__(self) -> None:
        # Named after the real cookie, so the OpenAPI document describes it correctly.
        self.param_name = settings.SESSION_COOKIE_NAME
        super().__init__(csrf=True)

    def __call__(self, request: HttpRequest) -> User | None:
        user = getattr(request, "user", None)
        if not isinstance(user, User) or not user.is_active:
            return None
        if (
            request.method not in _SAFE_METHODS
            and not getattr(request, "_ninja_csrf_exempt", False)
            and check_csrf(request) is not None
        ):
            raise csrf_failed()
        return user

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        # Never reached: __call__ decides from request.user, which Django already resolved.
        return None


def default_auth() -> list[TokenAuth | SessionAuth]:
    return [TokenAuth(), SessionAuth()]


def caller(request: HttpRequest) -> User:
    """The person making this request; every authenticated endpoint may rely on it."""
    person = getattr(request, "auth", None)
    if not isinstance(person, User):
        # Only reachable if an endpoint was declared with auth=None by mistake.
        raise not_authenticated()
    return person
