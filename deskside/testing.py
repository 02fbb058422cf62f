"""Shared test fixtures: the named personas every test file can ask for.

``personas`` gives requester A, requester B (who must see nothing of A's), an agent of
team X, an agent of team Y, a team lead (of team X), an IT manager, an executive and an
administrator. Every persona's password is :data:`PASSWORD`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import pytest

from deskside.accounts import services
from deskside.accounts.models import Department, Location, Role, Team, TeamTier, User

PASSWORD = "correct horse battery staple"  # noqa: S105  (test-only, shared by personas)


@dataclass(frozen=True)
class Personas:
    requester: User
    other_requester: User
    agent: User
    other_agent: User
    team_lead: User
    it_manager: User
    executive: User
    admin: User
    team: Team
    other_team: Team
    department: Department
    other_department: Department


def make_personas() -> Personas:
    finance = Department.objects.create(name="Finance")
    sales = Department.objects.create(name="Sales")
    office = Location.objects.create(name="Head office")

    def person(email: str, name: str, role: str, **extra: object) -> User:
        return services.person_create(
            email=email,
            full_name=name,
            role=role,
            password=PASSWORD,
            **extra,  # type: ignore[arg-type]
        )

    requester = person(
        "ada@example.com",
        "Ada Requester",
        Role.REQUESTER,
        department=finance,
        location=office,
        phones=[("+44 20 7946 0001", "work")],
    )
    other_requester = person(
        "bob@example.com", "Bob Otherrequester", Role.REQUESTER, department=sales
    )
    agent = person("xena@example.com", "Xena Agent", Role.AGENT)
    other_agent = person("yuri@example.com", "Yuri Agent", Role.AGENT)
    team_lead = person("lena@example.com", "Lena Lead", Role.TEAM_LEAD)
    it_manager = person("mo@example.com", "Mo Manager", Role.IT_MANAGER)
    executive = person("eve@example.com", "Eve Executive", Role.EXECUTIVE)
    admin = person("root@example.com", "Ari Admin", Role.ADMIN)
    team = services.team_create(
        name="Service Desk", tier=TeamTier.SERVICE_DESK, lead=team_lead, members=[agent]
    )
    other_team = services.team_create(
        name="Infrastructure", tier=TeamTier.SPECIALIST, members=[other_agent]
    )
    return Personas(
        requester=requester,
        other_requester=other_requester,
        agent=agent,
        other_agent=other_agent,
        team_lead=team_lead,
        it_manager=it_manager,
        executive=executive,
        admin=admin,
        team=team,
        other_team=other_team,
        department=finance,
        other_department=sales,
    )


@pytest.fixture
def personas(db: None) -> Personas:
    return make_personas()


# --- A real Redis ---------------------------------------------------------------------------

# Tests that exercise the Redis paths use this server and database (emptied before and
# after each test); DESKSIDE_TEST_REDIS_URL points them elsewhere.
TEST_REDIS_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A real, empty Redis database. Skipped when none answers, except in CI (CI=true),
    where the suite must not pass without having run the Redis paths."""
    import os

    import redis

    url = os.environ.get("DESKSIDE_TEST_REDIS_URL", TEST_REDIS_URL)
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is required in CI and did not answer at {url}: {exc}")
        pytest.skip(f"no Redis at {url} ({exc}); set DESKSIDE_TEST_REDIS_URL")
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


@pytest.fixture
def redis_cache(redis_url: str, settings: Any) -> str:
    """Django's cache in that Redis, and ``REDIS_URL`` set, as with ``DESKSIDE_REDIS_URL``."""
    settings.REDIS_URL = redis_url
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": "deskside",
        }
    }
    return redis_url


# --- After commit ---------------------------------------------------------------------------

# ``with commit():`` runs the after-commit hooks of what happens inside (so the jobs they
# queue, which run inline in tests) when the block ends, as a real commit would.
Commit = Callable[[], AbstractContextManager[Any]]


@pytest.fixture
def commit(
    django_capture_on_commit_callbacks: Callable[..., AbstractContextManager[Any]],
) -> Commit:
    """Run the after-commit hooks (and so the jobs) of what happens inside, at its end."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
