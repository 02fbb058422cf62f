"""Word, sentence and syllable counting, and the two Flesch readability scores.

Syllables come from a small spelling heuristic rather than a hyphenation library: it
needs no extra dependency, and the scores only have to separate "reads like a chat"
from "reads like a contract", not match a dictionary syllable for syllable.

Scores are only given for text long enough to judge (see :data:`MIN_WORDS` and
:data:`MIN_SENTENCES`); on a two-line reply one long word swings the grade wildly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Below these counts the Flesch formulas are noise, so no score is given at all.
MIN_WORDS = 100
MIN_SENTENCES = 3

WORD_RE = re.compile(r"[^\W_](?:[\w'\u2019-]*[^\W_])?")
# A sentence ends at . ! or ? (with any closing quote or bracket) before a space or the end;
# or at a line break (handled separately so hard-wrapped email lines are not split).
_END_RE = re.compile(r"[.!?]+[\"'”\u2019)\]]*(?=\s|$)|\n")
# A full stop after these is an abbreviation, not the end of a sentence.
_ABBREVIATIONS = frozenset({"e.g", "i.e", "eg", "ie", "mr", "mrs", "ms", "dr", "vs", "approx"})
# "-es" and "-ed" are silent except after these: "boxes", "started".
_SOUNDED_ENDINGS = ("ses", "ces", "zes", "ges", "xes", "ted", "ded")
_VOWEL_GROUP_RE = re.compile(r"[aeiouy]+")


@dataclass(frozen=True)
class Span:
    """A stretch of text given by character offsets, end exclusive."""

    start: int
    end: int


def word_spans(text: str) -> list[Span]:
    """Every word (letters or digits, with inner apostrophes and hyphens) in ``text``."""
    return [Span(m.start(), m.end()) for m in WORD_RE.finditer(text)]


def sentence_spans(text: str) -> list[Span]:
    """The sentences of ``text``, trimmed, as offsets into ``text``.

    A line break ends a sentence unless the next line starts with a lower-case letter:
    greetings, list items and headings stand alone, while a sentence that a mail client
    wrapped at 72 characters stays whole.
    """
    spans: list[Span] = []
    start = 0
    for match in _END_RE.finditer(text):
        if match.group() == "\n":
            following = text[match.end() :].lstrip(" \t")
            if following[:1].islower():
                continue
            end = match.start()
        else:
            if match.group() == "." and _ends_with_abbreviation(text, match.start()):
                continue
            end = match.end()
        _append_trimmed(spans, text, start, end)
        start = match.end()
    _append_trimmed(spans, text, start, len(text))
    return spans


def _ends_with_abbreviation(text: str, dot: int) -> bool:
    before = text[max(0, dot - 8) : dot].split()
    return bool(before) and before[-1].lower().lstrip("(") in _ABBREVIATIONS


def _append_trimmed(spans: list[Span], text: str, start: int, end: int) -> None:
    chunk = text[start:end]
    if not WORD_RE.search(chunk):
        return
    left = len(chunk) - len(chunk.lstrip())
    right = len(chunk.rstrip())
    spans.append(Span(start + left, start + right))


def count_syllables(word: str) -> int:
    """Estimate the syllables in one word; always at least 1."""
    letters = "".join(ch for ch in word if ch.isalpha())
    if not letters:
        return 1  # a number is read as (at least) one beat
    if letters.isupper() and 2 <= len(letters) <= 6:
        return len(letters)  # an acronym is spelled out letter by letter: "U-S-B"
    lower = letters.lower()
    if len(lower) <= 3:
        return 1
    # Silent endings: "make", "used", "boxes" lose a vowel group when spoken; "-le"
    # ("table") and "-ted/-ded" ("started") keep theirs.
    if lower.endswith("e") and not lower.endswith(("le", "ee")):
        lower = lower[:-1]
    elif lower.endswith(("es", "ed")) and not lower.endswith(_SOUNDED_ENDINGS):
        lower = lower[:-2]
    count = len(_VOWEL_GROUP_RE.findall(lower)) + _two_beat_pairs(lower)
    return max(1, count)


def _two_beat_pairs(lower: str) -> int:
    """Vowel pairs usually spoken as two beats: "cre-ate", "ra-di-o", "vi-a", "du-al"."""
    found = 0
    for pair in ("ia", "io", "eat", "ua", "uo"):
        start = 0
        while (index := lower.find(pair, start)) != -1:
            before = lower[index - 1 : index]
            # "-tion", "-sion", "-cial", "-tial" are one beat ("ac-tion", "spe-cial").
            one_beat = pair in ("io", "ia") and before in ("t", "s", "c", "x")
            # "great", "treat", "heat" keep "ea" as one beat; only "-eate"/"-eat" after a
            # consonant cluster like "cr" splits, so guard with the common cases.
            one_beat = one_beat or (pair == "eat" and before in ("h", "r", "g", "b", "s", "n"))
            # "qu" and "gu" are a consonant sound, not a vowel beat ("quick", "guard").
            one_beat = one_beat or (pair in ("ua", "uo") and before in ("q", "g"))
            if not one_beat:
                found += 1
            start = index + len(pair)
    return found


def flesch_reading_ease(words: int, sentences: int, syllables: int) -> float:
    """Flesch reading ease: higher is easier; 60-70 is plain English."""
    return 206.835 - 1.015 * (words / sentences) - 84.6 * (syllables / words)


def flesch_kincaid_grade(words: int, sentences: int, syllables: int) -> float:
    """Flesch-Kincaid grade: the US school year whose pupils could read the text."""
    return 0.39 * (words / sentences) + 11.8 * (syllables / words) - 15.59


@dataclass(frozen=True)
class Scores:
    """Counts for a text, and its scores when the text is long enough to judge."""

    words: int
    sentences: int
    syllables: int
    grade: float | None
    reading_ease: float | None


def score(text: str) -> Scores:
    """Count ``text`` and score it, giving ``None`` scores when it is too short."""
    words = [text[s.start : s.end] for s in word_spans(text)]
    sentences = len(sentence_spans(text))
    syllables = sum(count_syllables(w) for w in words)
    if len(words) < MIN_WORDS or sentences < MIN_SENTENCES:
        return Scores(len(words), sentences, syllables, None, None)
    return Scores(
        words=len(words),
        sentences=sentences,
        syllables=syllables,
        grade=round(flesch_kincaid_grade(len(words), sentences, syllables), 1),
        reading_ease=round(flesch_reading_ease(len(words), sentences, syllables), 1),
    )
