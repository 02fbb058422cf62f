"""Helpers for API tests in every app: a client holding a token, and the error shape."""

from __future__ import annotations

from typing import Any, Protocol

from django.test import Client

from deskside.accounts.models import TokenScope, User
from deskside.accounts.services import api_token_create


class JsonResponse(Protocol):
    """What the test client's responses offer (its own class is private to the stubs)."""

    status_code: int

    def json(self) -> Any: ...

    def __getitem__(self, header: str) -> str: ...


def token_client(user: User, *, name: str = "Tests", scope: str = TokenScope.WRITE) -> Client:
    """A test client that sends a fresh API token of ``user`` with every request.

    The token may write unless ``scope`` says otherwise, so tests exercise what the person
    may do; the read-only scope has tests of its own.
    """
    _token, raw = api_token_create(user=user, name=name, scope=scope)
    return Client(headers={"Authorization": f"Bearer {raw}"})


def assert_error(response: JsonResponse, status: int, code: str) -> dict[str, Any]:
    """Check ``response`` is an error in the one shape; return its ``error`` object."""
    assert response["Content-Type"].startswith("application/json"), response.status_code
    body = response.json()
    assert response.status_code == status, body
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert error["code"] == code, error
    assert isinstance(error["message"], str)
    assert error["message"].strip()
    return error
