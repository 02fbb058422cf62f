"""The dictionary from the database: what the coach flags follows admin edits at once."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.apps import apps

from deskside.coach import services
from deskside.coach.models import Term, TermKind, TermSource
from deskside.coach.services import coach_analyze, coach_dictionary, terms_set_enabled

pytestmark = pytest.mark.django_db

EXAMPLE = "Please flush your DNS cache and reconnect to the VPN"


@pytest.fixture(autouse=True)
def shipped_terms() -> None:
    # A live-server test elsewhere empties every table when it ends; loading is idempotent.
    import_module("deskside.coach.migrations.0002_load_shipped_terms").load_shipped_terms(
        apps, None
    )
    services.coach_terms_changed()


def flagged(text: str) -> set[str]:
    """The dictionary terms flagged, by key (an unknown short form is flagged without one)."""
    return {issue.term_id for issue in coach_analyze(text).issues if issue.term_id}


def test_the_database_dictionary_flags_the_shipped_terms() -> None:
    report = coach_analyze(EXAMPLE, reader_name="Alex")
    by_text = {issue.text: issue for issue in report.issues}
    assert {"DNS", "VPN", "cache"} <= set(by_text)
    assert by_text["VPN"].term_id == "vpn"
    assert "secure connection to the office network" in by_text["VPN"].suggestions
    assert by_text["VPN"].message.startswith("Alex might not know")


def test_the_dictionary_is_compiled_once_per_version() -> None:
    first = coach_dictionary()
    assert coach_dictionary() is first


def test_disabling_a_term_stops_it_being_flagged_at_once() -> None:
    assert "cache" in flagged(EXAMPLE)
    cache = Term.objects.get(key="cache")
    cache.enabled = False
    cache.save()
    assert "cache" not in {issue.text for issue in coach_analyze(EXAMPLE).issues}
    assert {"dns", "vpn"} <= flagged(EXAMPLE)
    cache.enabled = True
    cache.save()
    assert "cache" in flagged(EXAMPLE)


def test_a_disabled_short_form_is_no_longer_explained_from_the_dictionary() -> None:
    # Capitals still look like an unknown short form to the coach, but without the
    # dictionary's plain alternatives.
    Term.objects.filter(key="vpn").update(enabled=False)
    services.coach_terms_changed()
    (vpn,) = [issue for issue in coach_analyze(EXAMPLE).issues if issue.text == "VPN"]
    assert vpn.term_id is None
    assert "secure connection to the office network" not in vpn.suggestions


def test_switching_terms_off_in_bulk_reloads_the_dictionary() -> None:
    assert {"dns", "vpn"} <= flagged(EXAMPLE)
    changed = terms_set_enabled(terms=Term.objects.filter(key__in=["dns", "vpn"]), enabled=False)
    assert changed == 2
    assert not {"dns", "vpn"} & flagged(EXAMPLE)
    assert terms_set_enabled(terms=Term.objects.filter(key="vpn"), enabled=False) == 0


def test_another_process_sees_the_edit_through_the_shared_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert "vpn" in flagged(EXAMPLE)
    # As if another process made the edit: this one only sees the version change.
    Term.objects.filter(key="vpn").update(enabled=False)
    assert "vpn" in flagged(EXAMPLE)
    before = services.dictionary_version()
    monkeypatch.setattr(services, "dictionary_version", lambda: before + 1)
    assert "vpn" not in flagged(EXAMPLE)


def test_a_local_term_is_flagged() -> None:
    text = "Log the request in Halo before lunch."
    assert "halo" not in flagged(text)
    Term.objects.create(
        key="halo",
        term="Halo",
        kind=TermKind.JARGON,
        case_sensitive=True,
        plain=["the IT request system"],
        explanation="The system IT uses to keep track of requests.",
        source=TermSource.LOCAL,
    )
    (issue,) = [i for i in coach_analyze(text).issues if i.text == "Halo"]
    assert issue.term_id == "halo"
    assert issue.suggestions == ("the IT request system",)


def test_deleting_a_term_reloads_the_dictionary() -> None:
    assert "vpn" in flagged(EXAMPLE)
    Term.objects.filter(key="vpn").delete()
    assert "vpn" not in flagged(EXAMPLE)


def test_known_terms_and_context_pass_through() -> None:
    assert "VPN" not in {i.text for i in coach_analyze(EXAMPLE, known_terms=["VPN"]).issues}
    assert "DNS" not in {i.text for i in coach_analyze(EXAMPLE, context="My DNS is down").issues}
