"""The shipped jargon dictionary is valid, and matching respects case and word forms."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from deskside.coach.analysis import analyze
from deskside.coach.dictionary import (
    Dictionary,
    Entry,
    load_default,
    load_raw,
    validate_entries,
)

CHECKED_KINDS = {"jargon", "acronym", "condescending", "long_sentence"}


def _raw_entry(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": "vpn",
        "term": "VPN",
        "kind": "acronym",
        "variants": [],
        "case_sensitive": False,
        "expansion": "virtual private network",
        "plain": ["secure office connection"],
        "explanation": "A secure link to the office network.",
        "severity": "warning",
        "tags": ["networking"],
    }
    entry.update(overrides)
    return entry


def test_shipped_file_is_valid() -> None:
    assert validate_entries(load_raw()) == []


def test_shipped_file_has_at_least_150_entries_of_every_kind() -> None:
    entries = load_default().entries
    assert len(entries) >= 150
    assert {e.kind for e in entries} == {"jargon", "acronym", "hard_word"}


def test_shipped_ids_are_unique() -> None:
    ids = [item["id"] for item in load_raw()]
    assert len(ids) == len(set(ids))


def test_shipped_acronyms_have_expansions_and_every_entry_is_explained() -> None:
    for entry in load_default().entries:
        assert entry.plain, entry.id
        assert entry.explanation.strip(), entry.id
        if entry.kind == "acronym":
            assert entry.expansion.strip(), entry.id


def test_shipped_spellings_never_collide() -> None:
    exact: dict[str, str] = {}
    folded: dict[str, str] = {}
    for entry in load_default().entries:
        for form in entry.forms:
            if entry.case_sensitive:
                assert form not in exact, (entry.id, exact.get(form))
                assert form.lower() not in folded, (entry.id, folded.get(form.lower()))
                exact[form] = entry.id
            else:
                assert form.lower() not in folded, (entry.id, folded.get(form.lower()))
                clash = [i for f, i in exact.items() if f.lower() == form.lower()]
                assert not clash, (entry.id, clash)
                folded[form.lower()] = entry.id


def test_every_entry_matches_its_own_spellings() -> None:
    dictionary = load_default()
    for entry in dictionary.entries:
        for form in entry.forms:
            assert dictionary.lookup(form) is entry, (entry.id, form)
            found = list(dictionary.find(f"Look at {form} here."))
            assert [m.entry.id for m in found] == [entry.id], (entry.id, form)


@pytest.mark.parametrize("entry", load_default().entries, ids=lambda e: e.id)
def test_every_explanation_passes_the_coach(entry: Entry) -> None:
    # Stricter than "no warnings": an explanation should not lean on any listed term.
    report = analyze(entry.explanation)
    assert [(i.kind, i.text) for i in report.issues if i.kind in CHECKED_KINDS] == []


def test_load_default_is_cached() -> None:
    assert load_default() is load_default()


def test_validate_reports_each_problem() -> None:
    raw = [
        _raw_entry(),
        _raw_entry(),  # same id
        _raw_entry(id="dns", term="DNS", expansion=""),
        _raw_entry(id="cache", term="cache", kind="jargon", expansion="", plain=[]),
        _raw_entry(id="tls", term="TLS", explanation=""),
        _raw_entry(id="x", term="x", kind="slang", severity="loud", expansion=""),
        _raw_entry(id="Bad Id", term="bad"),
    ]
    problems = "\n".join(validate_entries(raw))
    assert "'vpn': duplicate id" in problems
    assert "'vpn': 'VPN' is also a spelling of entry 'vpn'" in problems
    assert "'dns': an acronym needs its expansion" in problems
    assert "'cache': plain must list at least one plain alternative" in problems
    assert "'tls': explanation must be non-empty text" in problems
    assert "'x': kind must be one of" in problems
    assert "'x': severity must be one of" in problems
    assert "entry 6: id must be" in problems


def test_validate_rejects_a_file_that_is_not_a_list() -> None:
    assert validate_entries({"vpn": {}}) == ["The dictionary must be a JSON list of entries."]


def test_collisions_are_case_aware() -> None:
    sensitive_ad = _raw_entry(id="ad", term="AD", case_sensitive=True, expansion="Active D")
    advert = _raw_entry(id="advert", term="ad", kind="jargon", expansion="")
    other_case = _raw_entry(id="ad-lower", term="Ad", case_sensitive=True, expansion="A D")
    assert validate_entries([sensitive_ad, other_case]) == []
    assert any("also a spelling" in p for p in validate_entries([sensitive_ad, advert]))
    assert any("also a spelling" in p for p in validate_entries([advert, sensitive_ad]))


def test_from_raw_refuses_invalid_data() -> None:
    raw = [_raw_entry(), _raw_entry()]
    with pytest.raises(ValueError, match="duplicate id"):
        Dictionary.from_raw(raw)


def test_case_sensitive_entries_only_match_their_case() -> None:
    dictionary = load_default()
    assert [m.entry.id for m in dictionary.find("Your AD account")] == ["ad"]
    assert list(dictionary.find("I saw an ad for it.")) == []
    assert list(dictionary.find("Add more ram to the truck.")) == []


def test_plural_and_variant_forms_match() -> None:
    dictionary = load_default()
    text = "Two VPNs, cleared caches, and we are reimaging the laptop."
    assert [(m.entry.id, text[m.start : m.end]) for m in dictionary.find(text)] == [
        ("vpn", "VPNs"),
        ("cache", "caches"),
        ("reimage", "reimaging"),
    ]


def test_longest_spelling_wins_and_words_may_wrap_across_lines() -> None:
    dictionary = load_default()
    text = "Check the IP\naddress and the shared mailbox."
    assert [m.entry.id for m in dictionary.find(text)] == ["ip-address", "shared-mailbox"]


def test_terms_inside_longer_words_do_not_match() -> None:
    dictionary = load_default()
    assert [m.entry.id for m in dictionary.find("dispatching rebooted")] == ["boot"]
    assert list(dictionary.find("dispatching caches2 subnetting bootleg unpatched")) == []


def test_a_custom_dictionary_can_be_built_from_raw_entries() -> None:
    raw = copy.deepcopy([_raw_entry(id="widget", term="widget", kind="jargon", expansion="")])
    dictionary = Dictionary.from_raw(raw)
    assert [m.entry.id for m in dictionary.find("A widget and two widgets")] == [
        "widget",
        "widget",
    ]
