"""Coach terms in the database: the shipped list, --sync, and the admin's checks."""

from __future__ import annotations

from importlib import import_module
from io import StringIO
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from deskside.coach.dictionary import load_raw
from deskside.coach.models import Term, TermSource
from deskside.coach.services import shipped_terms_sync
from deskside.testing import Personas

pytestmark = pytest.mark.django_db


def load_shipped() -> None:
    import_module("deskside.coach.migrations.0002_load_shipped_terms").load_shipped_terms(
        apps, None
    )


@pytest.fixture(autouse=True)
def shipped_terms() -> None:
    # A live-server test elsewhere empties every table when it ends; loading is idempotent.
    load_shipped()


def test_the_migration_loads_every_shipped_term_once() -> None:
    raw = load_raw()
    assert Term.objects.count() == len(raw)
    load_shipped()
    assert Term.objects.count() == len(raw)
    assert set(Term.objects.values_list("key", flat=True)) == {item["id"] for item in raw}
    assert not Term.objects.exclude(source=TermSource.SHIPPED).exists()
    vpn = Term.objects.get(key="vpn")
    assert (vpn.term, vpn.kind, vpn.expansion) == ("VPN", "acronym", "virtual private network")
    assert vpn.enabled
    assert vpn.as_raw() == {**next(i for i in raw if i["id"] == "vpn")}


def test_sync_adds_new_shipped_terms_and_keeps_admin_edits() -> None:
    Term.objects.filter(key="vpn").update(enabled=False, plain=["our own words"])
    Term.objects.filter(key="dns").delete()
    assert shipped_terms_sync() == ["dns"]
    vpn = Term.objects.get(key="vpn")
    assert (vpn.enabled, vpn.plain) == (False, ["our own words"])
    out = StringIO()
    call_command("coachterms", "--sync", stdout=out)
    assert "Nothing was changed" in out.getvalue()


# --- The admin ------------------------------------------------------------------------------


@pytest.fixture
def admin_client(personas: Personas) -> Client:
    client = Client()
    client.force_login(personas.admin)
    return client


def term_form(**changes: Any) -> dict[str, Any]:
    form = {
        "key": "halo",
        "term": "Halo",
        "kind": "jargon",
        "expansion": "",
        "plain": '["the IT request system"]',
        "variants": "[]",
        "case_sensitive": "on",
        "explanation": "The system IT uses to keep track of requests.",
        "severity": "warning",
        "tags": "[]",
        "enabled": "on",
    }
    form.update(changes)
    return {name: value for name, value in form.items() if value is not None}


def errors_of(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 200, "the form was accepted"
    form = response.context["adminform"].form
    return {name: [str(e) for e in errors] for name, errors in form.errors.items()}


def test_admin_adds_a_local_term(admin_client: Client) -> None:
    response = admin_client.post(reverse("admin:coach_term_add"), term_form())
    assert response.status_code == 302
    halo = Term.objects.get(key="halo")
    assert halo.source == TermSource.LOCAL
    assert halo.plain == ["the IT request system"]


def test_admin_lists_filters_and_searches(admin_client: Client) -> None:
    url = reverse("admin:coach_term_changelist")
    response = admin_client.get(url, {"kind__exact": "acronym", "enabled__exact": "1", "q": "vpn"})
    assert response.status_code == 200
    keys = {term.key for term in response.context["cl"].result_list}
    assert "vpn" in keys
    assert "cache" not in keys
    assert all(
        term.kind == "acronym" and term.enabled for term in response.context["cl"].result_list
    )


def test_an_acronym_needs_its_expansion(admin_client: Client) -> None:
    response = admin_client.post(reverse("admin:coach_term_add"), term_form(kind="acronym"))
    errors = errors_of(response)
    assert errors["expansion"] == [
        "An acronym needs “Stands for”: write out what its letters mean."
    ]


def test_a_term_needs_a_plain_alternative(admin_client: Client) -> None:
    response = admin_client.post(reverse("admin:coach_term_add"), term_form(plain="[]"))
    errors = errors_of(response)
    assert any("Plain alternatives" in message for message in errors["plain"])


def test_a_variant_may_not_be_another_enabled_terms_spelling(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("admin:coach_term_add"),
        term_form(variants='["VPN"]', case_sensitive=None),
    )
    (message,) = errors_of(response)["variants"]
    assert "already a spelling of the enabled term “VPN”" in message
    assert message.startswith("Other spellings")
    # Once the other term is switched off, the spelling is free.
    Term.objects.filter(key="vpn").update(enabled=False)
    response = admin_client.post(
        reverse("admin:coach_term_add"), term_form(variants='["VPN"]', case_sensitive=None)
    )
    assert response.status_code == 302


def test_editing_a_term_does_not_clash_with_itself(admin_client: Client) -> None:
    vpn = Term.objects.get(key="vpn")
    form = {**vpn.as_raw(), "key": "renamed", "plain": '["office connection"]'}
    form.update(variants="[]", tags='["networking"]', case_sensitive="")
    form.pop("id")
    form["enabled"] = "on"
    response = admin_client.post(reverse("admin:coach_term_change", args=[vpn.pk]), form)
    assert response.status_code == 302, errors_of(response)
    vpn.refresh_from_db()
    assert vpn.plain == ["office connection"]
    assert vpn.key == "vpn", "a shipped term keeps its key, which --sync matches on"


def test_admin_actions_switch_terms_off_and_on(admin_client: Client) -> None:
    url = reverse("admin:coach_term_changelist")
    pks = list(Term.objects.filter(key__in=["vpn", "dns"]).values_list("pk", flat=True))
    response = admin_client.post(
        url, {"action": "disable_terms", "_selected_action": pks}, follow=True
    )
    assert "2 terms switched off" in response.content.decode()
    assert not Term.objects.filter(pk__in=pks, enabled=True).exists()
    admin_client.post(url, {"action": "enable_terms", "_selected_action": pks})
    assert Term.objects.filter(pk__in=pks, enabled=True).count() == 2
