"""Turning what a person typed into something safe to hand to a full-text engine.

Input is always treated as plain words: nothing a person types can reach FTS5's or
PostgreSQL's query syntax, so quotes, ``*``, ``NEAR(``, ``&``, ``!`` and the like are
only ever separators. Every word must match (AND); the last word also matches as a
prefix while someone is still typing it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

MAX_QUERY_LENGTH = 200
MAX_WORDS = 12
MAX_WORD_LENGTH = 64
# A prefix of one letter would match most of the index and rank it all for nothing.
MIN_PREFIX_LENGTH = 2

# Private-use characters the engines put around matches. Indexed text never contains
# them (see clean_text), so after escaping they can only be the engines' own markers.
MARK_START = "\ue000"
MARK_STOP = "\ue001"

_HAS_LETTER_OR_DIGIT = re.compile(r"[^\W_]")
_WHOLE_WORD = re.compile(r"[^\W_]+")
_NUMBER = re.compile(r"\s*#?\s*(\d{1,18})\s*")
_UNWANTED = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f{MARK_START}{MARK_STOP}]")


def clean_text(text: str) -> str:
    """Text as it may be indexed: no control characters and none of the match markers."""
    return _UNWANTED.sub(" ", text)


@dataclass(frozen=True)
class Terms:
    """The words of a search, ready for either backend. Empty means "search for nothing"."""

    chunks: tuple[str, ...]
    prefix: bool

    def __bool__(self) -> bool:
        return bool(self.chunks)

    def fts5(self) -> str:
        """An FTS5 expression: each chunk a quoted phrase (so it is only words), all ANDed."""
        phrases = ['"' + chunk.replace('"', '""') + '"' for chunk in self.chunks]
        if self.prefix:
            phrases[-1] += "*"
        return " ".join(phrases)

    def postgres(self) -> tuple[str, str | None]:
        """Text for ``plainto_tsquery`` and, if any, a safe ``to_tsquery`` prefix term.

        The prefix term is built only from a chunk made purely of letters and digits, so
        it cannot contain tsquery operators or quotes.
        """
        if self.prefix:
            return " ".join(self.chunks[:-1]), f"'{self.chunks[-1]}':*"
        return " ".join(self.chunks), None


def parse_terms(query: str) -> Terms:
    text = clean_text(query[:MAX_QUERY_LENGTH])
    chunks = tuple(
        chunk[:MAX_WORD_LENGTH]
        for chunk in text.split()
        if _HAS_LETTER_OR_DIGIT.search(chunk[:MAX_WORD_LENGTH])
    )[:MAX_WORDS]
    if not chunks:
        return Terms((), prefix=False)
    last = chunks[-1]
    # A trailing space means the last word is finished, so it is matched exactly.
    prefix = (
        not text[-1:].isspace()
        and len(last) >= MIN_PREFIX_LENGTH
        and _WHOLE_WORD.fullmatch(last) is not None
    )
    return Terms(chunks, prefix=prefix)


def ticket_number(query: str) -> int | None:
    """The ticket number in a query such as ``#1042`` or ``1042``, if that is all it is."""
    found = _NUMBER.fullmatch(query[:MAX_QUERY_LENGTH])
    if found is None:
        return None
    number = int(found.group(1))
    return number if 0 < number < 2**63 else None


def marked_html(text: str) -> SafeString:
    """Escape ``text`` and turn the engine's match markers into ``<mark>`` elements.

    Markers are paired up here rather than trusted, so the result is always balanced.
    """
    parts: list[str] = []
    inside = False
    for piece in re.split(f"([{MARK_START}{MARK_STOP}])", text):
        if piece == MARK_START:
            if not inside:
                parts.append("<mark>")
                inside = True
        elif piece == MARK_STOP:
            if inside:
                parts.append("</mark>")
                inside = False
        else:
            parts.append(escape(piece))
    if inside:
        parts.append("</mark>")
    # Safe: every piece of source text went through escape(); only <mark> tags are added.
    return mark_safe("".join(parts))  # noqa: S308


def has_match(text: str) -> bool:
    return MARK_START in text


def strip_marks(text: str) -> str:
    return text.replace(MARK_START, "").replace(MARK_STOP, "")
