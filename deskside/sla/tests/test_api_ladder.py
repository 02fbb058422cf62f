"""The escalation ladder over the API: rules with their steps, for administrators only."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from deskside.api.testing import assert_error, token_client
from deskside.sla.models import EscalationNotice, EscalationRule, EscalationStep
from deskside.testing import Personas
from deskside.tickets import services
from deskside.tickets.models import Category, Channel

pytestmark = pytest.mark.django_db

URL = "/api/v1/sla/escalation-rules"


def rule_payload(personas: Personas, **change: Any) -> dict[str, Any]:
    return {
        "name": "Business-critical",
        "priorities": [1, 2],
        "vip_only": False,
        "steps": [
            {
                "after_minutes": 30,
                "notify_roles": ["team_lead"],
                "reason": "No first response after 30 minutes",
            },
            {
                "on_breach": True,
                "notify_roles": ["it_managers"],
                "notify_person_id": personas.executive.pk,
                "webhook_url": "https://hooks.example.com/desk",
                "raise_priority_to": 1,
                "reassign_team_id": personas.other_team.pk,
            },
        ],
        **change,
    }


def make_rule(name: str, position: int = 0) -> EscalationRule:
    rule = EscalationRule.objects.create(name=name, position=position, priorities=[1])
    EscalationStep.objects.create(rule=rule, position=1, after_minutes=60, notify_roles=["admins"])
    return rule


def test_list_and_get_show_rules_in_order_with_their_steps(personas: Personas) -> None:
    later = make_rule("Later", position=5)
    first = make_rule("First", position=1)
    EscalationStep.objects.create(rule=first, position=2, on_breach=True, notify_roles=["admins"])
    client = token_client(personas.admin)

    listed = client.get(URL).json()
    assert listed["count"] == 2
    assert [item["name"] for item in listed["items"]] == ["First", "Later"]
    assert [step["position"] for step in listed["items"][0]["steps"]] == [1, 2]

    body = client.get(f"{URL}/{later.pk}").json()
    assert set(body) == {
        "id", "name", "is_active", "position", "priorities", "category_ids", "vip_only",
        "steps", "created_at",
    }  # fmt: skip
    assert body["steps"] == [
        {
            "id": later.steps.get().pk,
            "position": 1,
            "after_minutes": 60,
            "on_breach": False,
            "notify_roles": ["admins"],
            "notify_person_id": None,
            "notify_department_head": False,
            "webhook_url": "",
            "raise_priority_to": None,
            "reassign_team_id": None,
            "reason": "",
        }
    ]
    assert_error(client.get(f"{URL}/999999"), 404, "not_found")


def test_create_a_rule_with_its_steps(personas: Personas) -> None:
    printers = Category.objects.create(name="Printers")
    client = token_client(personas.admin)
    created = client.post(
        URL,
        rule_payload(personas, category_ids=[printers.pk], position=3),
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["name"] == "Business-critical"
    assert body["position"] == 3
    assert body["priorities"] == [1, 2]
    assert body["category_ids"] == [printers.pk]
    assert [step["position"] for step in body["steps"]] == [1, 2]
    second = body["steps"][1]
    assert second["on_breach"] is True
    assert second["after_minutes"] is None
    assert second["notify_person_id"] == personas.executive.pk
    assert second["reassign_team_id"] == personas.other_team.pk
    assert second["raise_priority_to"] == 1
    rule = EscalationRule.objects.get(pk=body["id"])
    assert [step.after_minutes for step in rule.steps.order_by("position")] == [30, None]


def test_patch_changes_only_what_is_sent_and_steps_replace_the_old_ones(
    personas: Personas,
) -> None:
    client = token_client(personas.admin)
    body = client.post(URL, rule_payload(personas), content_type="application/json").json()
    first_step_id = body["steps"][0]["id"]

    renamed = client.patch(
        f"{URL}/{body['id']}", {"name": "P1 and P2"}, content_type="application/json"
    ).json()
    assert renamed["name"] == "P1 and P2"
    assert renamed["steps"] == body["steps"]  # not sent, so kept

    response = client.patch(
        f"{URL}/{body['id']}",
        {"steps": [{"after_minutes": 15, "notify_department_head": True}]},
        content_type="application/json",
    )
    assert response.status_code == 200, response.json()
    steps = response.json()["steps"]
    assert len(steps) == 1
    assert steps[0]["after_minutes"] == 15
    assert steps[0]["notify_department_head"] is True
    assert steps[0]["notify_roles"] == []
    assert steps[0]["reason"] == ""
    # The first position keeps its row, so what it already fired for is still known.
    assert steps[0]["id"] == first_step_id
    assert EscalationStep.objects.filter(rule_id=body["id"]).count() == 1

    emptied = client.patch(f"{URL}/{body['id']}", {"steps": []}, content_type="application/json")
    assert emptied.json()["steps"] == []


def test_delete_removes_the_rule_and_its_steps(personas: Personas) -> None:
    rule = make_rule("Old")
    ticket = services.ticket_create(
        actor=personas.requester,
        requester=personas.requester,
        subject="Payroll down",
        body="Nobody can run the payroll.",
        channel=Channel.PORTAL,
        priority=1,
        team=personas.team,
    )
    EscalationNotice.objects.create(ticket=ticket, step=rule.steps.get())
    client = token_client(personas.admin)
    assert client.delete(f"{URL}/{rule.pk}").status_code == 204
    assert not EscalationRule.objects.exists()
    assert not EscalationStep.objects.exists()
    assert_error(client.get(f"{URL}/{rule.pk}"), 404, "not_found")
    assert_error(client.delete(f"{URL}/{rule.pk}"), 404, "not_found")


def _step(**change: Any) -> dict[str, Any]:
    return {"after_minutes": 30, "notify_roles": ["team_lead"], **change}


@pytest.mark.parametrize(
    ("steps", "field", "words"),
    [
        ([_step(notify_roles=[])], "steps.0.notify_roles", "at least one person or role"),
        ([_step(notify_roles=["janitors"])], "steps.0.notify_roles", "List roles from"),
        ([_step(), _step(after_minutes=None)], "steps.1.after_minutes", "at least one minute"),
        ([_step(), _step(after_minutes=0)], "steps.1.after_minutes", "at least one minute"),
        ([_step(after_minutes=2**40)], "steps.0.after_minutes", "too long"),
        ([_step(webhook_url="ftp://hooks.example.com/x")], "steps.0.webhook_url", "https://"),
        ([_step(notify_person_id=999999)], "steps.0.notify_person_id", "no person"),
        ([_step(reassign_team_id=999999)], "steps.0.reassign_team_id", "no team"),
    ],
)
def test_step_mistakes_name_the_field(
    personas: Personas, steps: list[dict[str, Any]], field: str, words: str
) -> None:
    response = token_client(personas.admin).post(
        URL, rule_payload(personas, steps=steps), content_type="application/json"
    )
    error = assert_error(response, 400, "invalid")
    assert field in error["details"]["fields"], error
    assert words in error["details"]["fields"][field][0]["message"]
    assert len(error["details"]["fields"][field]) == 1  # said once, however many checks
    assert not EscalationRule.objects.exists()  # all or nothing


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"priorities": [7]}, "priorities"),
        ({"category_ids": [999999]}, "category_ids"),
        ({"name": ""}, "name"),
    ],
)
def test_rule_mistakes_name_the_field(
    personas: Personas, change: dict[str, Any], field: str
) -> None:
    response = token_client(personas.admin).post(
        URL, rule_payload(personas, **change), content_type="application/json"
    )
    error = assert_error(response, 400, "invalid")
    assert field in error["details"]["fields"], error


def test_a_refused_patch_changes_nothing(personas: Personas) -> None:
    rule = make_rule("Kept")
    response = token_client(personas.admin).patch(
        f"{URL}/{rule.pk}",
        {"name": "Changed", "steps": [_step(), _step(notify_roles=[])]},
        content_type="application/json",
    )
    error = assert_error(response, 400, "invalid")
    assert list(error["details"]["fields"]) == ["steps.1.notify_roles"]
    for empty in ({"name": None}, {"steps": None}):
        response = token_client(personas.admin).patch(
            f"{URL}/{rule.pk}", empty, content_type="application/json"
        )
        assert list(assert_error(response, 400, "invalid")["details"]["fields"]) == list(empty)
    rule.refresh_from_db()
    assert rule.name == "Kept"
    assert [step.after_minutes for step in rule.steps.all()] == [60]


def test_names_are_unique(personas: Personas) -> None:
    make_rule("Business-critical")
    response = token_client(personas.admin).post(
        URL, rule_payload(personas), content_type="application/json"
    )
    error = assert_error(response, 400, "invalid")
    assert "name" in error["details"]["fields"], error


@pytest.mark.parametrize("who", ["agent", "team_lead", "requester"])
def test_only_administrators_reach_the_ladder(personas: Personas, who: str) -> None:
    rule = make_rule("Hidden")
    client = token_client(getattr(personas, who))
    for response in (
        client.get(URL),
        client.get(f"{URL}/{rule.pk}"),
        client.post(URL, rule_payload(personas), content_type="application/json"),
        client.patch(f"{URL}/{rule.pk}", {"name": "Mine"}, content_type="application/json"),
        client.delete(f"{URL}/{rule.pk}"),
    ):
        assert_error(response, 403, "forbidden")
    assert EscalationRule.objects.get().name == "Hidden"


def test_signing_in_is_required(personas: Personas) -> None:
    rule = make_rule("Hidden")
    client = Client()
    for response in (
        client.get(URL),
        client.get(f"{URL}/{rule.pk}"),
        client.post(URL, rule_payload(personas), content_type="application/json"),
        client.patch(f"{URL}/{rule.pk}", {"name": "Mine"}, content_type="application/json"),
        client.delete(f"{URL}/{rule.pk}"),
    ):
        assert_error(response, 401, "not_authenticated")
    assert EscalationRule.objects.get().name == "Hidden"
