from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from deskside.accounts import services
from deskside.accounts.models import ApiToken
from deskside.api.testing import assert_error, token_client
from deskside.testing import PASSWORD, Personas

pytestmark = pytest.mark.django_db


def bearer(raw: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {raw}"})


def test_no_credentials_get_401_in_the_error_shape(personas: Personas) -> None:
    response = Client().get("/api/v1/me")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_token_signs_the_caller_in(personas: Personas) -> None:
    response = token_client(personas.agent).get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["email"] == personas.agent.email


def test_unknown_token_is_refused(personas: Personas) -> None:
    error = assert_error(bearer("dsk_not-a-real-token").get("/api/v1/me"), 401, "not_authenticated")
    assert "not recognised" in error["message"]


def test_expired_token_is_refused(personas: Personas) -> None:
    token, raw = services.api_token_create(
        user=personas.agent, name="Monitoring", expires_at=timezone.now() + timedelta(hours=1)
    )
    assert bearer(raw).get("/api/v1/me").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    error = assert_error(bearer(raw).get("/api/v1/me"), 401, "not_authenticated")
    assert "expired" in error["message"]


def test_token_of_a_switched_off_account_is_refused(personas: Personas) -> None:
    client = token_client(personas.agent)
    personas.agent.is_active = False
    personas.agent.save(update_fields=["is_active"])
    assert_error(client.get("/api/v1/me"), 401, "not_authenticated")


def test_revoked_token_stops_working(personas: Personas) -> None:
    token, raw = services.api_token_create(user=personas.agent, name="Script")
    services.api_token_revoke(token=token)
    assert_error(bearer(raw).get("/api/v1/me"), 401, "not_authenticated")


def test_a_bad_token_is_not_rescued_by_a_session(personas: Personas) -> None:
    client = Client(headers={"Authorization": "Bearer dsk_wrong"})
    client.force_login(personas.agent)
    assert_error(client.get("/api/v1/me"), 401, "not_authenticated")


def test_last_use_is_recorded_at_most_once_a_minute(personas: Personas) -> None:
    token, raw = services.api_token_create(user=personas.agent, name="Sync")
    client = bearer(raw)
    client.get("/api/v1/me")
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None

    client.get("/api/v1/me")
    token.refresh_from_db()
    assert token.last_used_at == first_use

    long_ago = timezone.now() - timedelta(minutes=5)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=long_ago)
    client.get("/api/v1/me")
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token.last_used_at > long_ago


def test_session_signs_the_caller_in(personas: Personas) -> None:
    client = Client()
    assert client.login(username=personas.requester.email, password=PASSWORD)
    response = client.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["id"] == personas.requester.pk


def test_session_of_a_switched_off_account_is_refused(personas: Personas) -> None:
    client = Client()
    client.force_login(personas.agent)
    personas.agent.is_active = False
    personas.agent.save(update_fields=["is_active"])
    assert_error(client.get("/api/v1/me"), 401, "not_authenticated")


def test_each_token_is_rate_limited_with_retry_after(personas: Personas) -> None:
    client = token_client(personas.agent)
    with override_settings(API_RATE_LIMIT=3):
        for _attempt in range(3):
            assert client.get("/api/v1/me").status_code == 200
        response = client.get("/api/v1/me")
        error = assert_error(response, 429, "too_many_requests")
        wait = int(response["Retry-After"])
        assert 1 <= wait <= 60
        assert error["details"] == {"retry_after_seconds": wait}
        assert f"{wait} seconds" in error["message"]
        # Writes are counted and refused the same way, before they do anything.
        response = client.post(
            "/api/v1/tickets", {"subject": "a", "description": "b"}, content_type="application/json"
        )
        assert_error(response, 429, "too_many_requests")

        # Another token, even of the same person, has its own allowance; so has a session.
        assert token_client(personas.agent).get("/api/v1/me").status_code == 200
        session = Client()
        session.force_login(personas.agent)
        for _attempt in range(5):
            assert session.get("/api/v1/me").status_code == 200


def test_rate_limit_default_is_generous(personas: Personas) -> None:
    client = token_client(personas.agent)
    for _attempt in range(20):
        assert client.get("/api/v1/me").status_code == 200
