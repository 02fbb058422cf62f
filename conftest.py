"""Test set-up shared by every app: fast hashing, jobs run inline, personas."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import override_settings

from deskside.browser_testing import browser, page, phone_page  # noqa: F401  (fixtures)
from deskside.testing import (  # noqa: F401  (fixtures)
    Personas,
    commit,
    make_personas,
    personas,
    redis_cache,
    redis_url,
)


@pytest.fixture(autouse=True)
def _fast_passwords() -> Iterator[None]:
    # Real hashing is slow on purpose; tests do not need that strength.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True, scope="session")
def _jobs_inline() -> None:
    # Run background jobs in the test process so their effects can be asserted directly.
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
