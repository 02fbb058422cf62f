from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from deskside.accounts import services
from deskside.accounts.models import ApiToken, TokenScope, hash_token
from deskside.testing import Personas

pytestmark = pytest.mark.django_db


def test_token_is_returned_once_and_stored_only_as_a_hash(personas: Personas) -> None:
    token, raw = services.api_token_create(user=personas.agent, name="  Monitoring ")
    assert raw.startswith(services.API_TOKEN_PREFIX)
    assert len(raw) > 40
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.name == "Monitoring"
    assert stored.token_hash == hash_token(raw)
    assert raw not in {stored.token_hash, stored.prefix}
    assert raw.startswith(stored.prefix)
    assert services.api_token_authenticate(raw_token=raw) == personas.agent


def test_every_token_is_different(personas: Personas) -> None:
    _first, one = services.api_token_create(user=personas.agent, name="One")
    _second, two = services.api_token_create(user=personas.agent, name="Two")
    assert one != two


def test_token_needs_a_name(personas: Personas) -> None:
    with pytest.raises(ValidationError) as caught:
        services.api_token_create(user=personas.agent, name="   ")
    assert "name" in caught.value.message_dict


def test_token_cannot_expire_in_the_past(personas: Personas) -> None:
    with pytest.raises(ValidationError) as caught:
        services.api_token_create(
            user=personas.agent, name="Late", expires_at=timezone.now() - timedelta(minutes=1)
        )
    assert "expires_at" in caught.value.message_dict


@pytest.mark.parametrize(
    ("make_unusable", "words"),
    [
        ("revoke", "not recognised"),
        ("expire", "expired"),
        ("switch_off", "switched off"),
    ],
)
def test_unusable_tokens_are_rejected_in_plain_words(
    personas: Personas, make_unusable: str, words: str
) -> None:
    token, raw = services.api_token_create(user=personas.agent, name="Script")
    if make_unusable == "revoke":
        services.api_token_revoke(token=token)
    elif make_unusable == "expire":
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now())
    else:
        personas.agent.is_active = False
        personas.agent.save(update_fields=["is_active"])
    with pytest.raises(services.ApiTokenRejected, match=words):
        services.api_token_authenticate(raw_token=raw)


def test_tokens_are_read_only_unless_asked(personas: Personas) -> None:
    token, _raw = services.api_token_create(user=personas.agent, name="Report")
    assert token.scope == TokenScope.READ
    token, _raw = services.api_token_create(
        user=personas.agent, name="Sync", scope=TokenScope.WRITE
    )
    assert ApiToken.objects.get(pk=token.pk).scope == TokenScope.WRITE


def test_unknown_scope_is_refused(personas: Personas) -> None:
    with pytest.raises(ValidationError) as caught:
        services.api_token_create(user=personas.agent, name="Odd", scope="admin")
    assert "scope" in caught.value.message_dict
    assert not ApiToken.objects.exists()


def test_check_returns_the_token_with_its_scope(personas: Personas) -> None:
    token, raw = services.api_token_create(user=personas.agent, name="Sync", scope=TokenScope.WRITE)
    found = services.api_token_check(raw_token=raw)
    assert found.pk == token.pk
    assert found.scope == TokenScope.WRITE
    assert found.user == personas.agent
