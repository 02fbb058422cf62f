from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from deskside.accounts import selectors, services
from deskside.accounts.models import Role, User
from deskside.testing import Personas

pytestmark = pytest.mark.django_db


def test_person_list_applies_the_gate(personas: Personas) -> None:
    assert list(selectors.person_list(user=personas.requester)) == [personas.requester]
    assert selectors.person_list(user=personas.agent).count() == User.objects.count()
    assert selectors.person_list(user=AnonymousUser()).count() == 0


def test_person_list_is_ordered_by_name_then_id(personas: Personas) -> None:
    # Same name in another case: only the ID can keep their order stable between pages.
    twin = services.person_create(email="ada2@example.com", full_name="ADA REQUESTER")
    people = list(selectors.person_list(user=personas.admin))
    assert people[:2] == [personas.requester, twin]
    assert people[-1] == personas.other_agent  # Yuri Agent


def test_person_search_does_not_repeat_people(personas: Personas) -> None:
    services.person_add_email(user=personas.requester, email="ada.r@example.com")
    found = list(selectors.person_list(user=personas.agent, search="ada"))
    assert found == [personas.requester]


def test_short_digit_runs_do_not_search_phones(personas: Personas) -> None:
    assert list(selectors.person_list(user=personas.agent, search="0001")) == [personas.requester]
    assert list(selectors.person_list(user=personas.agent, search="001")) == []


def test_person_list_filters_by_role_within_the_gate(personas: Personas) -> None:
    assert list(selectors.person_list(user=personas.requester, role=Role.AGENT)) == []
    admins = selectors.person_list(user=personas.it_manager, role=Role.ADMIN)
    assert list(admins) == [personas.admin]


def test_person_get_hides_what_the_gate_hides(personas: Personas) -> None:
    with pytest.raises(Http404):
        selectors.person_get(user=personas.other_requester, person_id=personas.requester.pk)
    assert selectors.person_get(user=personas.requester, person_id=personas.requester.pk)


def test_teams_shown_on_a_person_follow_the_gate(personas: Personas) -> None:
    seen_by_agent = selectors.person_get(user=personas.other_agent, person_id=personas.agent.pk)
    assert list(seen_by_agent.teams.all()) == [personas.team]


def test_team_selectors_apply_the_gate(personas: Personas) -> None:
    assert selectors.team_list(user=personas.requester).count() == 0
    with pytest.raises(Http404):
        selectors.team_get(user=personas.requester, team_id=personas.team.pk)
    team = selectors.team_get(user=personas.agent, team_id=personas.team.pk)
    assert list(team.members.all()) == [personas.team_lead, personas.agent]


def test_inactive_callers_see_nothing(personas: Personas) -> None:
    personas.agent.is_active = False
    personas.agent.save(update_fields=["is_active"])
    assert selectors.person_list(user=personas.agent).count() == 0
    assert selectors.team_list(user=personas.agent).count() == 0
