from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from deskside.accounts import permissions
from deskside.accounts.models import Department, Team, User
from deskside.testing import Personas

pytestmark = pytest.mark.django_db


def test_requester_sees_only_themselves(personas: Personas) -> None:
    visible = permissions.visible(personas.requester, User)
    assert list(visible) == [personas.requester]
    assert not permissions.can_view(personas.requester, personas.other_requester)


def test_requester_b_gets_404_for_requester_a(personas: Personas) -> None:
    with pytest.raises(Http404):
        permissions.get_visible_or_404(personas.other_requester, User, pk=personas.requester.pk)


def test_agents_see_all_people_and_teams(personas: Personas) -> None:
    assert permissions.visible(personas.agent, User).count() == User.objects.count()
    assert set(permissions.visible(personas.agent, Team)) == {personas.team, personas.other_team}


def test_requesters_see_no_teams(personas: Personas) -> None:
    assert permissions.visible(personas.requester, Team).count() == 0


def test_requester_sees_only_own_department(personas: Personas) -> None:
    assert list(permissions.visible(personas.requester, Department)) == [personas.department]


def test_anonymous_and_inactive_see_nothing(personas: Personas) -> None:
    from django.contrib.auth.models import AnonymousUser

    assert permissions.visible(AnonymousUser(), User).count() == 0
    personas.agent.is_active = False
    personas.agent.save()
    assert permissions.visible(personas.agent, User).count() == 0


def test_change_rules(personas: Personas) -> None:
    assert permissions.can_change(personas.requester, personas.requester)
    assert not permissions.can_change(personas.agent, personas.requester)
    assert permissions.can_change(personas.admin, personas.requester)
    assert permissions.can_change(personas.team_lead, personas.team)
    assert not permissions.can_change(personas.team_lead, personas.other_team)


def test_require_change_hides_with_404_then_forbids_with_403(personas: Personas) -> None:
    with pytest.raises(Http404):
        permissions.require_change(personas.other_requester, personas.requester)
    with pytest.raises(PermissionDenied):
        permissions.require_change(personas.agent, personas.other_team)


def test_unregistered_model_is_an_error(personas: Personas) -> None:
    from deskside.system.models import Heartbeat

    with pytest.raises(LookupError):
        permissions.visible(personas.admin, Heartbeat)
