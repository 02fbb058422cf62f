"""The API's token lookup (hand-written SQL, once per process) answers exactly as the ORM."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from deskside.accounts.models import ApiToken, User, hash_token
from deskside.accounts.services import _token_with_person, api_token_check, api_token_create
from deskside.testing import Personas

pytestmark = pytest.mark.django_db


def _fields(instance: ApiToken | User) -> dict[str, object]:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_the_token_and_its_person_are_the_ones_the_orm_reads(personas: Personas) -> None:
    token, raw = api_token_create(user=personas.agent, name="sync", scope="write")
    ApiToken.objects.filter(pk=token.pk).update(
        expires_at=timezone.now() + timedelta(days=3), last_used_at=timezone.now()
    )
    expected = ApiToken.objects.select_related("user").get(pk=token.pk)

    found = _token_with_person(hash_token(raw))

    assert found is not None
    assert _fields(found) == _fields(expected)
    assert _fields(found.user) == _fields(expected.user)
    assert found.expires_at is not None
    assert found.expires_at.tzinfo is not None
    assert not found._state.adding
    assert not found.user._state.adding
    # The person came with the token: reading it asks nothing more of the database.
    assert ApiToken.user.is_cached(found)


def test_an_unknown_token_finds_nothing(personas: Personas) -> None:
    api_token_create(user=personas.agent, name="sync", scope="read")
    assert _token_with_person(hash_token("not-a-real-token")) is None


def test_the_check_uses_it_and_still_refuses_a_switched_off_person(personas: Personas) -> None:
    from deskside.accounts.services import ApiTokenRejected

    _token, raw = api_token_create(user=personas.agent, name="sync", scope="read")
    assert api_token_check(raw_token=raw).user == personas.agent
    User.objects.filter(pk=personas.agent.pk).update(is_active=False)
    with pytest.raises(ApiTokenRejected):
        api_token_check(raw_token=raw)
