"""The coach's dictionary from the database, and analysis with it.

:func:`coach_dictionary` compiles the enabled terms into one
:class:`~deskside.coach.dictionary.Dictionary`. Compiling a few hundred terms into one
pattern takes milliseconds, too slow to repeat for every keystroke pause, so each process
keeps its copy until the dictionary's version moves: a row (``system.ConfigVersion``)
bumped in the same transaction as any edit, by :mod:`deskside.coach.signals` and the bulk
changes here (as the SLA policies do).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from deskside.coach.analysis import Report, analyze
from deskside.coach.dictionary import Dictionary, load_raw, validate_entries
from deskside.coach.models import SentReading, Term, TermSource
from deskside.system.services import config_version, config_version_bump
from deskside.tickets.models import Message, MessageKind, Ticket

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

CONFIG_NAME = "coach"
_dictionary_cache: tuple[int, Dictionary] | None = None
_dictionary_cache_lock = threading.Lock()
# Fields shared with a jargon.json entry, which --sync copies for new shipped terms.
ENTRY_FIELDS = (
    "term",
    "kind",
    "variants",
    "case_sensitive",
    "expansion",
    "plain",
    "explanation",
    "severity",
    "tags",
)


def dictionary_version() -> int:
    """The dictionary's version (a row bumped with every edit, in the edit's transaction);
    a per-process copy is valid while equal."""
    return config_version(CONFIG_NAME)


def coach_terms_changed() -> None:
    """Record a change to the terms (inside its transaction) and drop this process's copy."""
    global _dictionary_cache
    with _dictionary_cache_lock:
        _dictionary_cache = None
    config_version_bump(CONFIG_NAME)


def coach_dictionary() -> Dictionary:
    """The enabled terms, compiled once per process and version."""
    global _dictionary_cache
    version = dictionary_version()
    cached = _dictionary_cache
    if cached is not None and cached[0] == version:
        return cached[1]
    # Built straight from the rows rather than through Dictionary.from_raw: a term the
    # admin checks missed must cost one flag, not every reply's coaching.
    dictionary = Dictionary(term.as_entry() for term in Term.objects.filter(enabled=True))
    with _dictionary_cache_lock:
        _dictionary_cache = (version, dictionary)
    return dictionary


def coach_analyze(
    text: str, *, known_terms: Iterable[str] = (), context: str = "", reader_name: str = ""
) -> Report:
    """Check a reply for plain language with this organisation's dictionary."""
    return analyze(
        text,
        known_terms=known_terms,
        context=context,
        dictionary=coach_dictionary(),
        reader_name=reader_name,
    )


def terms_set_enabled(*, terms: QuerySet[Term], enabled: bool) -> int:
    """Switch terms on or off in one statement; returns how many changed."""
    with transaction.atomic():
        changed = terms.exclude(enabled=enabled).update(enabled=enabled)
        # A bulk update sends no post_save, so report the change here.
        if changed:
            coach_terms_changed()
    return changed


def shipped_terms_sync(*, raw: Any = None) -> list[str]:
    """Add shipped terms not yet in the database; returns their keys.

    Terms already present are left exactly as the administrators have them, including
    ones they switched off or edited. ``raw`` defaults to the shipped ``jargon.json``.
    """
    raw = load_raw() if raw is None else raw
    problems = validate_entries(raw)
    if problems:
        raise ValueError("Invalid jargon dictionary:\n" + "\n".join(problems))
    existing = set(Term.objects.values_list("key", flat=True))
    new = [
        Term(
            key=item["id"],
            source=TermSource.SHIPPED,
            enabled=True,
            **{field: _field_value(item, field) for field in ENTRY_FIELDS},
        )
        for item in raw
        if item["id"] not in existing
    ]
    with transaction.atomic():
        Term.objects.bulk_create(new, ignore_conflicts=True)
        if new:
            coach_terms_changed()
    return [term.key for term in new]


def _field_value(item: Mapping[str, Any], field: str) -> Any:
    if field in ("variants", "tags"):
        return list(item.get(field, []))
    if field == "expansion":
        return item.get("expansion") or ""
    if field == "case_sensitive":
        return bool(item.get("case_sensitive", False))
    return item[field]


# --- Checks shared by the admin ---------------------------------------------------------------

# validate_entries words its problems for a file author; these say the same to an admin,
# keyed by how each of its messages begins.
_PLAIN_PROBLEMS: Sequence[tuple[str, str, StrPromise]] = (
    (
        "an acronym needs",
        "expansion",
        gettext_lazy("An acronym needs “Stands for”: write out what its letters mean."),
    ),
    (
        "only acronyms have",
        "expansion",
        gettext_lazy("Only an acronym has “Stands for”. Leave it empty, or make this an acronym."),
    ),
    (
        "plain must",
        "plain",
        gettext_lazy('“Plain alternatives” needs at least one, as a list: ["office connection"].'),
    ),
    (
        "variants must",
        "variants",
        gettext_lazy('“Other spellings” must be a list of text, such as ["e-mail"], or [].'),
    ),
    ("tags must", "tags", gettext_lazy("“Tags” must be a list of text, or [].")),
    (
        "explanation must be one line",
        "explanation",
        gettext_lazy("Keep “Explanation” to one line."),
    ),
    ("explanation must", "explanation", gettext_lazy("Write a one-line “Explanation”.")),
    ("term must", "term", gettext_lazy("Write the “Term”.")),
    ("kind must", "kind", gettext_lazy("Choose a “Kind”.")),
    ("severity must", "severity", gettext_lazy("Choose a “Severity”.")),
    ("case_sensitive must", "case_sensitive", gettext_lazy("Tick or untick “Capitals matter”.")),
)


def term_problems(candidate: Mapping[str, Any], *, exclude_pk: int | None) -> dict[str, list[str]]:
    """What is wrong with a term an administrator is saving, by field; empty when fine.

    ``candidate`` is the term as a ``jargon.json`` entry (see :meth:`Term.as_raw`). Its
    spellings are checked against the other enabled terms only when it is enabled itself,
    since a switched-off term never reaches the coach.
    """
    others: list[dict[str, Any]] = []
    if candidate.get("enabled", True):
        others_qs = Term.objects.filter(enabled=True)
        if exclude_pk is not None:
            others_qs = others_qs.exclude(pk=exclude_pk)
        others = [term.as_raw() for term in others_qs]
    item = {name: value for name, value in candidate.items() if name != "enabled"}
    entries = [*others, item]
    key = item.get("id")
    # Only the last entry's problems are the candidate's; validate_entries reports a
    # clash on the later of the two entries.
    prefixes = (f"entry {key!r}: ", f"entry {len(others)}: ")
    by_field: dict[str, list[str]] = {}
    for problem in validate_entries(entries):
        prefix = next((p for p in prefixes if problem.startswith(p)), None)
        if prefix is None:
            continue
        message = problem[len(prefix) :]
        if message.startswith(("id ", "duplicate id")):
            continue  # the key field's own validation (slug, unique) says this better
        field, plain = _plain_problem(message, item)
        by_field.setdefault(field, []).append(plain)
    return by_field


def _plain_problem(message: str, item: Mapping[str, Any]) -> tuple[str, str]:
    for start, field, plain in _PLAIN_PROBLEMS:
        if message.startswith(start):
            return field, str(plain)
    if "is also a spelling of entry" in message:
        spelling, _sep, rest = message.partition(" is also a spelling of entry ")
        owner = rest.rstrip(".").strip("'\"")
        owner_term = Term.objects.filter(key=owner).values_list("term", flat=True).first()
        field = "term" if spelling.strip("'\"") == item.get("term") else "variants"
        where = _("Term") if field == "term" else _("Other spellings")
        return field, _(
            "%(where)s: %(spelling)s is already a spelling of the enabled term “%(owner)s”. "
            "Use another spelling, or switch that term off first."
        ) % {"where": where, "spelling": spelling, "owner": owner_term or owner}
    return "__all__", message


# --- Replies as their readers get them --------------------------------------------------------

# The most of the earlier conversation read for context: enough for months of replies.
CONTEXT_MAX_CHARS = 100_000


def ticket_reader_context(ticket: Ticket, *, before_id: int | None = None) -> tuple[str, str]:
    """What the requester of ``ticket`` has already read or written, and their name.

    Terms in the subject, the requester's own messages and earlier replies count as known, so the
    coach does not ask for them to be explained again. Internal notes are left out: the
    requester never saw them. ``before_id`` stops at that message (for a reply that has
    already been saved).
    """
    messages = Message.objects.filter(ticket=ticket, kind=MessageKind.PUBLIC)
    if before_id is not None:
        messages = messages.filter(id__lt=before_id)
    parts: list[str] = []
    size = 0
    for body in messages.order_by("-id").values_list("body", flat=True).iterator():
        parts.append(body)
        size += len(body)
        if size >= CONTEXT_MAX_CHARS:
            break
    # The subject too: the requester wrote it, or read it in every email about the ticket.
    parts.append(ticket.subject)
    parts.reverse()
    context = "\n\n".join(parts)[-CONTEXT_MAX_CHARS:]
    return context, ticket.requester.first_name if ticket.requester_id else ""


def reading_record(*, message: Message) -> SentReading | None:
    """Note how plain a public reply by IT staff was as it was sent (in its transaction).

    Called by the ticket services for every public message. The requester's own
    messages, notes and automatic messages without an author are not recorded.
    """
    author = message.author
    if message.kind != MessageKind.PUBLIC or author is None or not author.uses_console:
        return None
    ticket = message.ticket
    if author.pk == ticket.requester_id:
        return None
    context, reader = ticket_reader_context(ticket, before_id=message.pk)
    report = coach_analyze(message.body, context=context, reader_name=reader)
    warnings = sum(1 for issue in report.issues if issue.severity == "warning")
    return SentReading.objects.create(
        message=message,
        team_id=ticket.team_id,
        author=author,
        sent_at=message.created_at,
        grade=report.grade,
        words=report.words,
        warnings=warnings,
    )


# The most suggestions one reply can be credited with; the composer reports the count.
APPLIED_MAX = 50


def reading_suggestions_applied(*, message: Message, applied: int) -> None:
    """Record how many coach suggestions the writer applied before sending ``message``."""
    applied = max(0, min(applied, APPLIED_MAX))
    if applied:
        SentReading.objects.filter(message=message).update(applied=applied)
