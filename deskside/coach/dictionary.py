"""The jargon dictionary: loading, validating and matching its entries.

The shipped list lives in ``data/jargon.json``. Each entry names one term with its
spelling variants, whether case matters (so "AD" is Active Directory but "ad" is an
advert), plain alternatives and a one-line explanation for a non-technical colleague.

All entries are compiled into one regular expression, because a reply is scanned
once per keystroke pause in the editor and hundreds of separate searches would be slow.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

KINDS = frozenset({"jargon", "acronym", "hard_word"})
SEVERITIES = frozenset({"info", "warning"})
# Plural and possessive endings matched on every form, so "VPNs" and "caches" count.
_SUFFIX = r"(?:'s|\u2019s|es|s)?"
_SUFFIXES = ("'s", "\u2019s", "es", "s")
_SPACE_RE = re.compile(r"\s+")


@dataclass(frozen=True)
class Entry:
    """One dictionary term and what to say about it."""

    id: str
    term: str
    kind: str
    variants: tuple[str, ...]
    case_sensitive: bool
    expansion: str
    plain: tuple[str, ...]
    explanation: str
    severity: str
    tags: tuple[str, ...]

    @property
    def forms(self) -> tuple[str, ...]:
        """The term and its variants: every spelling that counts as this entry."""
        return (self.term, *self.variants)


@dataclass(frozen=True)
class Match:
    """A dictionary entry found in a text, with its offsets (end exclusive)."""

    entry: Entry
    start: int
    end: int


class Dictionary:
    """A set of entries and the single compiled pattern that finds any of them."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries: tuple[Entry, ...] = tuple(entries)
        self.by_id: dict[str, Entry] = {e.id: e for e in self.entries}
        self._exact: dict[str, Entry] = {}
        self._folded: dict[str, Entry] = {}
        alternatives: list[tuple[int, str]] = []
        for entry in self.entries:
            for form in entry.forms:
                key = _normalise(form)
                if entry.case_sensitive:
                    self._exact[key] = entry
                    alternatives.append((len(key), _form_pattern(key) + _SUFFIX))
                else:
                    self._folded[key.lower()] = entry
                    alternatives.append((len(key), f"(?i:{_form_pattern(key)}{_SUFFIX})"))
        # Longest first, so "IP address" wins over "IP" and "shared mailbox" over "mailbox".
        alternatives.sort(key=lambda item: -item[0])
        body = "|".join(pattern for _, pattern in alternatives) or r"(?!x)x"
        self._pattern = re.compile(rf"(?<![\w-])(?:{body})(?![\w])")

    @classmethod
    def from_raw(cls, raw: Any) -> Dictionary:
        """Build a dictionary from parsed JSON, raising ``ValueError`` listing every problem."""
        problems = validate_entries(raw)
        if problems:
            raise ValueError("Invalid jargon dictionary:\n" + "\n".join(problems))
        return cls(_entry_from_mapping(item) for item in raw)

    def lookup(self, text: str) -> Entry | None:
        """The entry whose spelling ``text`` is, allowing a plural or possessive ending."""
        key = _normalise(text)
        for candidate in (key, *(key[: -len(s)] for s in _SUFFIXES if key.endswith(s))):
            entry = self._exact.get(candidate) or self._folded.get(candidate.lower())
            if entry is not None:
                return entry
        return None

    def find(self, text: str) -> Iterator[Match]:
        """Every entry occurrence in ``text``, left to right, never overlapping."""
        for found in self._pattern.finditer(text):
            entry = self.lookup(found.group())
            if entry is not None:
                yield Match(entry, found.start(), found.end())


def _normalise(form: str) -> str:
    return _SPACE_RE.sub(" ", form.strip())


def _form_pattern(form: str) -> str:
    # Any run of white space (including a line break) may stand between words of a term.
    return r"\s+".join(re.escape(word) for word in form.split(" "))


def _entry_from_mapping(item: Mapping[str, Any]) -> Entry:
    return Entry(
        id=item["id"],
        term=item["term"],
        kind=item["kind"],
        variants=tuple(item.get("variants", ())),
        case_sensitive=bool(item.get("case_sensitive", False)),
        expansion=item.get("expansion", "") or "",
        plain=tuple(item["plain"]),
        explanation=item["explanation"],
        severity=item["severity"],
        tags=tuple(item.get("tags", ())),
    )


def _is_text_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


def validate_entries(raw: Any) -> list[str]:
    """Every problem with a parsed dictionary file, as readable lines; empty when valid."""
    if not isinstance(raw, list):
        return ["The dictionary must be a JSON list of entries."]
    problems: list[str] = []
    seen_ids: set[str] = set()
    # Case-aware collision check: a case-insensitive form clashes with any form that
    # folds to the same text; case-sensitive forms clash only when spelled identically.
    folded_owner: dict[str, str] = {}
    exact_owner: dict[str, str] = {}
    for index, item in enumerate(raw):
        where = f"entry {index}"
        if not isinstance(item, dict):
            problems.append(f"{where}: must be an object.")
            continue
        entry_id = item.get("id")
        if not isinstance(entry_id, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", entry_id):
            problems.append(f"{where}: id must be lower-case letters, digits, '-' or '_'.")
        else:
            where = f"entry {entry_id!r}"
            if entry_id in seen_ids:
                problems.append(f"{where}: duplicate id.")
            seen_ids.add(entry_id)
        problems.extend(f"{where}: {p}" for p in _field_problems(item))
        if not isinstance(item.get("term"), str) or not _is_text_list(item.get("variants", [])):
            continue
        case_sensitive = item.get("case_sensitive") is True
        for form in (item["term"], *item.get("variants", [])):
            key = _normalise(form)
            folded = key.lower()
            owner = str(entry_id)
            clash = folded_owner.get(folded)
            if clash is None and not case_sensitive:
                clash = next((o for k, o in exact_owner.items() if k.lower() == folded), None)
            if clash is None and case_sensitive:
                clash = exact_owner.get(key)
            if clash is not None:
                problems.append(f"{where}: {form!r} is also a spelling of entry {clash!r}.")
            if case_sensitive:
                exact_owner.setdefault(key, owner)
            else:
                folded_owner.setdefault(folded, owner)
    return problems


def _field_problems(item: Mapping[str, Any]) -> Sequence[str]:
    problems: list[str] = []
    for field in ("term", "explanation"):
        if not isinstance(item.get(field), str) or not item[field].strip():
            problems.append(f"{field} must be non-empty text.")
    kind = item.get("kind")
    if kind not in KINDS:
        problems.append(f"kind must be one of {sorted(KINDS)}.")
    if item.get("severity") not in SEVERITIES:
        problems.append(f"severity must be one of {sorted(SEVERITIES)}.")
    if not isinstance(item.get("case_sensitive"), bool):
        problems.append("case_sensitive must be true or false.")
    if not _is_text_list(item.get("variants", [])):
        problems.append("variants must be a list of non-empty text.")
    if not _is_text_list(item.get("tags", [])):
        problems.append("tags must be a list of non-empty text.")
    plain = item.get("plain")
    if not _is_text_list(plain) or not plain:
        problems.append("plain must list at least one plain alternative.")
    expansion = item.get("expansion")
    if kind == "acronym" and (not isinstance(expansion, str) or not expansion.strip()):
        problems.append("an acronym needs its expansion.")
    if kind != "acronym" and expansion not in (None, ""):
        problems.append("only acronyms have an expansion.")
    explanation = item.get("explanation")
    if isinstance(explanation, str) and "\n" in explanation:
        problems.append("explanation must be one line.")
    return problems


def load_raw() -> Any:
    """The shipped dictionary file, parsed but not checked."""
    # ``data`` is a package so the existing "*.json" package-data rule ships the file.
    source = resources.files("deskside.coach.data").joinpath("jargon.json")
    return json.loads(source.read_text(encoding="utf-8"))


@functools.cache
def load_default() -> Dictionary:
    """The shipped dictionary, validated and compiled once per process."""
    return Dictionary.from_raw(load_raw())
