"""The plain-language coach: finds what may confuse a non-technical reader in a reply.

:func:`analyze` is pure (no database, no Django) so the editor, the API and the tests
all call the same thing. It reports:

- ``jargon`` and ``acronym``: dictionary terms, and unknown all-capital short forms, that
  are not explained at their first use, not well known, and not already used by the
  requester. Only the first unexplained use is reported: explaining it there fixes all.
- ``hard_word``: a longer word with a simpler one ("utilise" -> "use"); every use.
- ``condescending``: words like "simply" or "obviously" that make a reader who is
  stuck feel slow; every use.
- ``long_sentence``: a sentence of more than :data:`LONG_SENTENCE_WORDS` words.
- ``readability``: the whole text reads above grade :data:`MAX_GRADE` (only judged on
  text long enough to score, see :mod:`deskside.coach.readability`).

Quoted mail history, Markdown code, web addresses, file paths and email addresses are
ignored: they are masked with spaces of the same length before any rule runs, so every
offset still points into the original text.

When is a term "explained"? At its first use, when any of these holds:

- a bracket follows it: "VPN (the secure connection to the office network)";
- a dash or a comma gloss follows it: "VPN - the secure connection ...",
  "VPN, a secure connection ..." (the comma needs a following a/an/the/which/meaning/or,
  so that a plain list "VPN, email and Teams" does not count);
- it sits alone in brackets after its long form: "virtual private network (VPN)";
- "called", "known as" or "named" comes just before it ("known as the VPN").

``context`` is the earlier conversation as the reader has seen it (the requester's own
messages, and earlier replies). Every term used or defined there counts as known, so
the UI should pass only text the reader wrote or already had explained.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from deskside.coach.dictionary import Dictionary, Entry, load_default
from deskside.coach.readability import WORD_RE, Span, score, sentence_spans, word_spans

LONG_SENTENCE_WORDS = 25
MAX_GRADE = 10.0

# Short forms that almost every office worker knows; never reported.
WELL_KNOWN_ACRONYMS = frozenset(
    {
        "AM", "PM", "ASAP", "FYI", "FAQ", "OK", "ID", "PIN", "PC", "TV", "CD", "DVD",
        "USB", "PDF", "IT", "HR", "CEO", "CFO", "UK", "US", "USA", "EU", "GPS", "SMS",
        "PS", "NB", "ETA", "CV", "BBC", "UN", "AI", "TBC", "RSVP", "QR", "HQ", "II",
        "III", "IV", "VI", "GB", "MB", "KB", "TB", "UTC", "GMT", "DIY", "AKA",
    }
)  # fmt: skip
# Capitalised for emphasis, not short forms: "please do NOT restart".
SHOUTED_WORDS = frozenset(
    {
        "NOT", "NO", "YES", "DO", "DONT", "PLEASE", "URGENT", "NOTE", "ALL", "AND",
        "OR", "THE", "NOW", "ONLY", "NEVER", "STOP", "HELP", "THANKS", "WARNING", "NEW",
    }
)  # fmt: skip

_ACRONYM_RE = re.compile(r"(?<![\w-])([A-Z][A-Z0-9]{1,5})(s?)(?![\w-])")
_CONDESCENDING: dict[str, str] = {
    "simply": "“Simply” can make a stuck reader feel slow. Try leaving it out.",
    "just": "“Just” can make a step sound smaller than it feels. Try leaving it out.",
    "obviously": "“Obviously” suggests the reader should have known. Leave it out.",
    "clearly": "“Clearly” suggests the reader should have known. Leave it out.",
    "of course": "“Of course” suggests the reader should have known. Leave it out.",
    "as i said": "“As I said” can sound impatient. Say the point again kindly instead.",
    "as i mentioned": "“As I mentioned” can sound impatient. Say the point again kindly.",
    "as previously mentioned": "This can sound impatient. Say the point again kindly.",
    "easy": "What is easy for IT may not be for the reader. Try leaving it out.",
}
_CONDESCENDING_RE = re.compile(
    r"(?<![\w-])(?:as previously mentioned|as i mentioned|as i said|of course|simply|just"
    r"|obviously|clearly|easy)(?![\w-])",
    re.IGNORECASE,
)
# "I just restarted it" and "just in case" use "just" for time or precaution, not scorn.
_JUST_BEFORE_RE = re.compile(
    r"(?:\b(?:i|we|you|they|he|she|it|has|have|had|was|were|i've|we've|you've)|'ve)\s*$",
    re.IGNORECASE,
)
_JUST_AFTER_RE = re.compile(r"^\s*(?:in case|now|a moment|a minute|about)\b", re.IGNORECASE)

# Text to ignore. Mail history runs to the end of the message, as mail clients lay out
# a reply above the quoted thread.
_HISTORY_RE = re.compile(
    r"^[ \t]*(?:On\b[^\n]{0,300}?wrote:|-{2,}\s*Original Message\s*-{2,}"
    r"|From:[^\n]*\n[ \t]*(?:Sent|Date):)(?s:.*)",
    re.MULTILINE | re.IGNORECASE,
)
_IGNORED_RES = (
    re.compile(r"^[ \t]*(```|~~~)[^\n]*\n.*?(?:^[ \t]*\1[^\n]*$|\Z)", re.MULTILINE | re.DOTALL),
    re.compile(r"^[ \t]*>[^\n]*$", re.MULTILINE),
    re.compile(r"`[^`\n]+`"),
    re.compile(r"\b(?:https?|ftp)://[^\s<>\"'`]+|\bwww\.[^\s<>\"'`]+", re.IGNORECASE),
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    re.compile(r"\b[A-Za-z]:\\[^\s<>\"'|]*"),
    re.compile(r"\\\\[\w.$-]+(?:\\[^\s<>\"'|]*)?"),
    re.compile(r"(?<![\w/.~])~?(?:/[\w.@+-]+){2,}/?|(?<![\w/.])~/[\w.@+-]+"),
)
_TRAILING_PUNCTUATION = ".,;:!?)]"

_GLOSS_AFTER_RE = re.compile(
    r"^\s*(?:\(|[\u2014\u2013]|-{1,2}\s|,\s*(?:a|an|the|which|meaning|or|i\.e\.|that is)\b)",
    re.IGNORECASE,
)
_GLOSS_BEFORE_RE = re.compile(
    r"\b(?:called|known as|named)\s+(?:(?:the|an?)\s+)?[\"“'\u2018]?$", re.IGNORECASE
)
_SHORT_FORM_AFTER_LONG_RE = re.compile(r"\w[\w\s-]*\(\s*$")


@dataclass(frozen=True)
class Issue:
    """One thing in the text that a non-technical reader may stumble on.

    ``kind`` is one of "jargon", "acronym", "hard_word", "condescending",
    "long_sentence" or "readability"; ``term_id`` names the dictionary entry, if any.
    """

    kind: str
    start: int  # offsets into the original text, end exclusive
    end: int
    text: str
    severity: str  # "info" | "warning"
    message: str
    suggestions: tuple[str, ...] = ()
    explanation: str = ""
    term_id: str | None = None


@dataclass(frozen=True)
class Report:
    """Everything :func:`analyze` found, plus the counts behind the reading meter."""

    issues: tuple[Issue, ...]
    grade: float | None
    reading_ease: float | None
    words: int
    sentences: int

    def summary(self) -> str:
        """A compact meter line: "Reads like grade 9 · 2 terms to explain"."""
        parts: list[str] = []
        if self.grade is not None:
            parts.append(f"Reads like grade {max(1, round(self.grade))}")
        counts = dict.fromkeys(("term", "hard_word", "condescending", "long_sentence"), 0)
        for issue in self.issues:
            key = "term" if issue.kind in ("jargon", "acronym") else issue.kind
            if key in counts:
                counts[key] += 1
        labels = {
            "term": ("term to explain", "terms to explain"),
            "hard_word": ("word to simplify", "words to simplify"),
            "condescending": ("phrase to soften", "phrases to soften"),
            "long_sentence": ("long sentence", "long sentences"),
        }
        found = [(labels[key], count) for key, count in counts.items() if count]
        parts.extend(f"{n} {singular if n == 1 else plural}" for (singular, plural), n in found)
        if not found:
            parts.append("no problems found")
        text = " · ".join(parts)
        return text[:1].upper() + text[1:]


def analyze(
    text: str,
    *,
    known_terms: Iterable[str] = (),
    context: str = "",
    dictionary: Dictionary | None = None,
    reader_name: str = "",
) -> Report:
    """Check ``text`` for plain language and return every issue with the reading scores."""
    dictionary = dictionary if dictionary is not None else load_default()
    reader = reader_name.strip() or "Your reader"
    reader_object = reader_name.strip() or "your reader"
    masked = mask_ignored(text)
    known = _Known.build(known_terms, mask_ignored(context), dictionary)
    sentences = sentence_spans(masked)

    issues: list[Issue] = []
    issues.extend(_term_issues(text, masked, dictionary, known, reader))
    issues.extend(_condescending_issues(text, masked))
    issues.extend(_long_sentence_issues(text, masked, sentences))
    scores = score(masked)
    if scores.grade is not None and scores.grade > MAX_GRADE and sentences:
        start, end = sentences[0].start, sentences[-1].end
        issues.append(
            Issue(
                kind="readability",
                start=start,
                end=end,
                text=text[start:end],
                severity="warning",
                message=(
                    f"This reads like grade {round(scores.grade)}. Shorter sentences and "
                    f"everyday words will make it easier for {reader_object}."
                ),
                explanation="Most adults read most easily at about grade 8.",
            )
        )
    issues.sort(key=lambda i: (i.start, i.end, i.kind))
    return Report(
        issues=tuple(issues),
        grade=scores.grade,
        reading_ease=scores.reading_ease,
        words=scores.words,
        sentences=scores.sentences,
    )


def mask_ignored(text: str) -> str:
    """``text`` with history, code, addresses and paths blanked out, same length.

    Line breaks are kept so sentence boundaries around a masked block still hold.
    """
    chars = list(text)
    spans: list[tuple[int, int]] = [(m.start(), m.end()) for m in _HISTORY_RE.finditer(text)]
    for pattern in _IGNORED_RES:
        for match in pattern.finditer(text):
            end = match.end()
            # A sentence's full stop after a web address or path is not part of it.
            while end > match.start() + 1 and text[end - 1] in _TRAILING_PUNCTUATION:
                end -= 1
            spans.append((match.start(), end))
    for start, end in spans:
        for index in range(start, end):
            if chars[index] != "\n":
                chars[index] = " "
    return "".join(chars)


@dataclass(frozen=True)
class _Known:
    """Terms the reader already knows: their own words, the context, ``known_terms``."""

    entry_ids: frozenset[str]
    words: frozenset[str]  # folded spellings, for acronyms outside the dictionary

    @classmethod
    def build(cls, known_terms: Iterable[str], context: str, dictionary: Dictionary) -> _Known:
        entry_ids: set[str] = set()
        words: set[str] = set()
        for term in known_terms:
            folded = " ".join(term.split()).lower()
            if not folded:
                continue
            words.add(folded)
            entry = dictionary.lookup(term)
            if entry is not None:
                entry_ids.add(entry.id)
            # A requester who wrote "virtual private network" knows what "VPN" stands for.
            entry_ids.update(e.id for e in dictionary.entries if folded == e.expansion.lower())
        entry_ids.update(match.entry.id for match in dictionary.find(context))
        words.update(m.group(1).lower() for m in _ACRONYM_RE.finditer(context))
        return cls(frozenset(entry_ids), frozenset(words))

    def covers(self, entry: Entry | None, spelling: str) -> bool:
        folded = spelling.lower()
        base = folded[:-1] if folded.endswith("s") else folded
        return (entry is not None and entry.id in self.entry_ids) or bool(
            {folded, base} & self.words
        )


def _is_explained(masked: str, start: int, end: int) -> bool:
    after = masked[end : end + 40]
    before = masked[max(0, start - 80) : start]
    if _GLOSS_AFTER_RE.match(after) or _GLOSS_BEFORE_RE.search(before):
        return True
    # "virtual private network (VPN)": the term is the short form of what came before.
    return bool(_SHORT_FORM_AFTER_LONG_RE.search(before)) and after.lstrip().startswith(")")


def _term_issues(
    text: str, masked: str, dictionary: Dictionary, known: _Known, reader: str
) -> list[Issue]:
    issues: list[Issue] = []
    settled: set[str] = set()  # entries and acronyms already explained or reported
    covered: list[tuple[int, int]] = []
    for match in dictionary.find(masked):
        entry, start, end = match.entry, match.start, match.end
        covered.append((start, end))
        spelling = text[start:end]
        if known.covers(entry, spelling):
            continue
        if entry.kind == "hard_word":
            issues.append(_hard_word_issue(entry, start, end, spelling))
            continue
        if entry.id in settled:
            continue
        settled.add(entry.id)
        if _is_explained(masked, start, end):
            continue
        issues.append(_entry_issue(entry, start, end, spelling, reader))

    shouted = _shouted_spans(masked)
    for found in _ACRONYM_RE.finditer(masked):
        start, end = found.span()
        token = found.group(1)
        if (
            sum(ch.isalpha() for ch in token) < 2
            or token in WELL_KNOWN_ACRONYMS
            or token in SHOUTED_WORDS
            or any(s < end and start < e for s, e in covered)
            or any(s <= start and end <= e for s, e in shouted)
            or known.covers(None, token)
            or token in settled
        ):
            continue
        settled.add(token)
        if _is_explained(masked, start, end):
            continue
        issues.append(
            Issue(
                kind="acronym",
                start=start,
                end=end,
                text=text[start:end],
                severity="warning",
                message=(
                    f"{reader} might not know “{text[start:end]}”. "
                    "Spell it out the first time you use it."
                ),
                explanation="Short forms are only clear to people who already know them.",
            )
        )
    return issues


def _entry_issue(entry: Entry, start: int, end: int, spelling: str, reader: str) -> Issue:
    if entry.kind == "acronym":
        message = f"{reader} might not know “{spelling}” ({entry.expansion})."
        suggestions = tuple(dict.fromkeys((*entry.plain, entry.expansion)))
    else:
        message = f"{reader} might not know “{spelling}”."
        suggestions = entry.plain
    return Issue(
        kind=entry.kind,
        start=start,
        end=end,
        text=spelling,
        severity=entry.severity,
        message=message,
        suggestions=suggestions,
        explanation=entry.explanation,
        term_id=entry.id,
    )


def _hard_word_issue(entry: Entry, start: int, end: int, spelling: str) -> Issue:
    return Issue(
        kind="hard_word",
        start=start,
        end=end,
        text=spelling,
        severity=entry.severity,
        message=f"“{spelling}” has a simpler word: “{entry.plain[0]}”.",
        suggestions=entry.plain,
        explanation=entry.explanation,
        term_id=entry.id,
    )


def _shouted_spans(masked: str) -> list[tuple[int, int]]:
    """Sentences written mostly in capitals: their capital words are emphasis."""
    spans = []
    for sentence in sentence_spans(masked):
        words = [w for w in WORD_RE.findall(masked[sentence.start : sentence.end]) if w.isalpha()]
        capitals = [w for w in words if w.isupper() and len(w) > 1]
        if len(capitals) >= 3 and len(capitals) * 2 > len(words):
            spans.append((sentence.start, sentence.end))
    return spans


def _condescending_issues(text: str, masked: str) -> list[Issue]:
    issues = []
    for found in _CONDESCENDING_RE.finditer(masked):
        phrase = " ".join(found.group().lower().split())
        if phrase == "just" and (
            _JUST_BEFORE_RE.search(masked[max(0, found.start() - 20) : found.start()])
            or _JUST_AFTER_RE.match(masked[found.end() : found.end() + 20])
        ):
            continue
        issues.append(
            Issue(
                kind="condescending",
                start=found.start(),
                end=found.end(),
                text=text[found.start() : found.end()],
                severity="warning",
                message=_CONDESCENDING[phrase],
                explanation="Words like this can sound as if the reader should have known.",
            )
        )
    return issues


def _long_sentence_issues(text: str, masked: str, sentences: list[Span]) -> list[Issue]:
    issues = []
    for sentence in sentences:
        count = len(word_spans(masked[sentence.start : sentence.end]))
        if count > LONG_SENTENCE_WORDS:
            issues.append(
                Issue(
                    kind="long_sentence",
                    start=sentence.start,
                    end=sentence.end,
                    text=text[sentence.start : sentence.end],
                    severity="warning",
                    message=(
                        f"This sentence has {count} words. Splitting it in two makes it "
                        "easier to follow."
                    ),
                    explanation=f"Sentences under {LONG_SENTENCE_WORDS} words read easily.",
                )
            )
    return issues
