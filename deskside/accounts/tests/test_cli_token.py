"""'deskside token': create prints a working token once; list and revoke manage them."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.test import Client

from deskside.accounts.models import ApiToken, TokenScope
from deskside.cli import CommandFailed
from deskside.testing import Personas

pytestmark = pytest.mark.django_db


def token(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_prints_only_a_working_token(personas: Personas) -> None:
    out, err = token("create", "--user", "XENA@example.com", "--scope", "write", "--name", "Sync")
    raw = out.strip()
    assert re.fullmatch(r"dsk_[A-Za-z0-9_\-]{40,}", raw), out
    assert "cannot be shown again" in err
    assert raw not in err

    stored = ApiToken.objects.get()
    assert (stored.user, stored.name, stored.scope) == (personas.agent, "Sync", TokenScope.WRITE)
    assert stored.expires_at is None
    assert raw not in {stored.token_hash, stored.prefix}

    client = Client(headers={"Authorization": f"Bearer {raw}"})
    assert client.get("/api/v1/me").json()["email"] == personas.agent.email
    response = client.post(
        "/api/v1/tickets",
        {"subject": "From a script", "description": "Nightly check failed."},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()


def test_read_scope_and_expiry(personas: Personas) -> None:
    out, err = token("create", "--user", personas.agent.email, "--scope", "read",
                     "--expires-days", "30")  # fmt: skip
    stored = ApiToken.objects.get()
    assert stored.scope == TokenScope.READ
    assert stored.expires_at is not None
    assert "until" in err
    client = Client(headers={"Authorization": f"Bearer {out.strip()}"})
    assert client.get("/api/v1/tickets").status_code == 200
    response = client.post(
        "/api/v1/tickets", {"subject": "x", "description": "y"}, content_type="application/json"
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--user", "nobody@example.com", "--scope", "read"], "Nobody has the email address"),
        (["--user", "ada@example.com", "--scope", "read"], "is a requester"),
        (["--user", "xena@example.com", "--scope", "read", "--expires-days", "0"], "between 1"),
        (["--user", "xena@example.com", "--scope", "read", "--name", "  "], "Say what will use"),
    ],
)
def test_create_refuses_in_plain_words(personas: Personas, args: list[str], words: str) -> None:
    with pytest.raises(CommandFailed, match=words):
        token("create", *args)
    assert not ApiToken.objects.exists()


def test_scope_must_be_given(personas: Personas) -> None:
    with pytest.raises(Exception, match="scope"):
        token("create", "--user", personas.agent.email)


def test_list_shows_tokens_but_never_the_secret(personas: Personas) -> None:
    out, _err = token("list", "--user", personas.agent.email)
    assert "has no API tokens" in out
    raw, _err = token("create", "--user", personas.agent.email, "--scope", "read", "--name", "CI")
    listing, _err = token("list", "--user", personas.agent.email)
    stored = ApiToken.objects.get()
    assert "CI" in listing
    assert "read" in listing
    assert stored.prefix in listing
    assert raw.strip() not in listing


def test_revoke_stops_the_token(personas: Personas) -> None:
    raw, _err = token("create", "--user", personas.agent.email, "--scope", "read")
    stored = ApiToken.objects.get()
    out, _err = token("revoke", "--id", str(stored.pk))
    assert "Revoked token" in out
    client = Client(headers={"Authorization": f"Bearer {raw.strip()}"})
    assert client.get("/api/v1/me").status_code == 401
    with pytest.raises(CommandFailed, match="There is no token"):
        token("revoke", "--id", str(stored.pk))
