"""'deskside demo': a realistic company, the same after any number of runs."""

from __future__ import annotations

import io

import phonenumbers
import pytest
from django.core.management import call_command

from deskside.accounts.models import (
    Department,
    Location,
    PhoneNumber,
    Role,
    Team,
    TeamMembership,
    TeamTier,
    TechnicalComfort,
    User,
)
from deskside.cli import CommandFailed
from deskside.demo import DEMO_PASSWORD, DemoContext, demo_modules, populate_all
from deskside.testing import Personas

pytestmark = pytest.mark.django_db


def demo(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, int]:
    return {
        "people": User.objects.count(),
        "teams": Team.objects.count(),
        "memberships": TeamMembership.objects.count(),
        "departments": Department.objects.count(),
        "locations": Location.objects.count(),
        "phones": PhoneNumber.objects.count(),
    }


def test_demo_builds_the_company_once() -> None:
    said = demo()
    first = snapshot()
    again = demo()
    assert snapshot() == first
    assert "nothing new was added" in again

    assert "Demo data added:" in said
    assert DEMO_PASSWORD in said
    assert "Never use demo accounts" in said
    for address in ("sam.taylor@example.com", "emily.clarke@example.com", "laura.bennett@"):
        assert address in said

    requesters = User.objects.filter(role=Role.REQUESTER)
    assert 35 <= requesters.count() <= 45
    assert requesters.filter(is_vip=True).count() >= 5
    assert requesters.filter(technical_comfort=TechnicalComfort.TECHNICAL).count() >= 3
    assert not requesters.filter(job_title="").exists()
    assert not requesters.filter(department=None).exists()
    assert User.objects.filter(role=Role.ADMIN).count() == 1
    assert User.objects.filter(role=Role.IT_MANAGER).count() == 1
    assert User.objects.filter(role=Role.EXECUTIVE).count() == 1
    assert User.objects.filter(role=Role.AGENT).count() >= 6
    assert not User.objects.exclude(email__endswith="@example.com").exists()


def test_every_team_has_a_lead_and_agents() -> None:
    demo()
    desk = Team.objects.get(name="Service Desk")
    assert desk.tier == TeamTier.SERVICE_DESK
    specialists = set(Team.objects.filter(tier=TeamTier.SPECIALIST).values_list("name", flat=True))
    assert {"Infrastructure", "Business Applications", "Security"} <= specialists
    for team in Team.objects.all():
        assert team.lead is not None, team
        assert team.lead.role == Role.TEAM_LEAD
        members = set(team.members.all())
        assert team.lead in members
        assert any(member.role == Role.AGENT for member in members), team


def test_departments_have_heads_and_people_have_numbers() -> None:
    demo()
    names = set(Department.objects.values_list("name", flat=True))
    assert {"Finance", "Human Resources", "Sales", "Operations", "Legal", "Marketing"} <= names
    assert not Department.objects.filter(head=None).exists()
    chief = Department.objects.get(name="Executive office").head
    assert chief is not None
    assert chief.role == Role.EXECUTIVE

    numbers = list(PhoneNumber.objects.values_list("number", flat=True))
    assert len(numbers) == User.objects.count()
    assert len(set(numbers)) == len(numbers), "two people share a number"
    for number in numbers:
        assert phonenumbers.is_valid_number(phonenumbers.parse(number)), number


def test_demo_accounts_sign_in_with_the_password() -> None:
    demo("--password", "a different demo password")
    for email in (
        "sam.taylor@example.com",
        "emily.clarke@example.com",
        "laura.bennett@example.com",
    ):
        assert User.objects.get(email=email).check_password("a different demo password")


def test_demo_fits_around_existing_data(personas: Personas) -> None:
    before = User.objects.count()
    demo()
    # The personas' Finance and Sales departments are reused, not duplicated.
    assert Department.objects.filter(name="Finance").count() == 1
    assert User.objects.count() > before
    assert User.objects.get(pk=personas.admin.pk).role == Role.ADMIN


def test_a_weak_demo_password_is_refused() -> None:
    with pytest.raises(CommandFailed, match="too short"):
        demo("--password", "demo")
    assert not User.objects.exists()


def test_apps_add_demo_data_in_app_order() -> None:
    names = [module.__name__ for module in demo_modules()]
    assert names[0] == "deskside.accounts.demo"
    assert all(name.startswith("deskside.") for name in names)
    ctx = populate_all(DemoContext(password=DEMO_PASSWORD))
    # Later apps find the cast by their part in the story.
    for key in ("admin", "agent", "other_agent", "requester", "other_requester", "team_lead"):
        assert ctx.people[key].pk is not None
    assert ctx.people["agent"].teams.get().name == "Service Desk"
