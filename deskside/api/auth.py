"""How API callers prove who they are: an API token, or the browser's signed-in session.

Both are tried on every endpoint, token first. Integrations send
``Authorization: Bearer <token>``; the web UI's own scripts ride on the session cookie and
must then send the CSRF token on unsafe methods, exactly as a form post would.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie
from ninja.utils import check_csrf

from deskside.accounts.models import User
from deskside.accounts.services import ApiTokenRejected, api_token_authenticate
from deskside.api.errors import csrf_failed, not_authenticated

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <token>`` with a token made by ``api_token_create``."""

    def authenticate(self, request: HttpRequest, token: str) -> User:
        try:
            user = api_token_authenticate(raw_token=token.strip())
        except ApiTokenRejected as exc:
            # A wrong token is a definite answer: falling through to the session would turn
            # it into a vaguer message, or quietly act as someone else.
            raise not_authenticated(exc.message) from None
        # Code further down (services recording who acted) reads request.user, as for the UI.
        request.user = user
        return user


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
