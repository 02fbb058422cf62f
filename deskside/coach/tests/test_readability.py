"""Syllables, sentences and the Flesch scores, and when text is too short to judge."""

from __future__ import annotations

import pytest

from deskside.coach.readability import (
    MIN_SENTENCES,
    MIN_WORDS,
    count_syllables,
    flesch_kincaid_grade,
    flesch_reading_ease,
    score,
    sentence_spans,
    word_spans,
)


@pytest.mark.parametrize(
    ("word", "syllables"),
    [
        ("use", 1),
        ("the", 1),
        ("make", 1),
        ("quick", 1),
        ("table", 2),
        ("started", 2),
        ("boxes", 2),
        ("password", 2),
        ("radio", 3),
        ("computer", 3),
        ("connection", 3),
        ("terminate", 3),
        ("utilise", 3),
        ("information", 4),
        ("USB", 3),
        ("2024", 1),
    ],
)
def test_count_syllables(word: str, syllables: int) -> None:
    assert count_syllables(word) == syllables


def test_sentences_split_on_end_marks_but_not_on_abbreviations_or_decimals() -> None:
    text = "It\u2019s done. Then “go.” Now e.g. this one. Version 2.1 is out! Ready?"
    assert [text[s.start : s.end] for s in sentence_spans(text)] == [
        "It\u2019s done.",
        "Then “go.”",
        "Now e.g. this one.",
        "Version 2.1 is out!",
        "Ready?",
    ]


def test_line_break_ends_a_sentence_unless_the_next_line_continues_it() -> None:
    text = "Hi Alex,\nThanks for calling. Your laptop is\nready at the desk.\n- Bring the charger"
    assert [text[s.start : s.end] for s in sentence_spans(text)] == [
        "Hi Alex,",
        "Thanks for calling.",
        "Your laptop is\nready at the desk.",
        "- Bring the charger",
    ]


def test_word_spans_keep_contractions_and_hyphens_together() -> None:
    text = "Don\u2019t re-enter the Wi-Fi code, okay?"
    assert [text[s.start : s.end] for s in word_spans(text)] == [
        "Don\u2019t",
        "re-enter",
        "the",
        "Wi-Fi",
        "code",
        "okay",
    ]


def test_flesch_formulas_match_their_published_definitions() -> None:
    # 100 words, 5 sentences, 130 syllables: worked by hand from the formulas.
    assert flesch_reading_ease(100, 5, 130) == pytest.approx(206.835 - 20.3 - 109.98)
    assert flesch_kincaid_grade(100, 5, 130) == pytest.approx(7.8 + 15.34 - 15.59)


def test_short_text_is_not_scored() -> None:
    result = score("Restart your laptop. Then try again. Call us if it still fails.")
    assert result.words == 12
    assert result.sentences == 3
    assert result.grade is None
    assert result.reading_ease is None


def test_long_text_with_too_few_sentences_is_not_scored() -> None:
    text = " ".join(["word"] * (MIN_WORDS + 20)) + ". Done."
    result = score(text)
    assert result.sentences < MIN_SENTENCES
    assert result.grade is None


def test_plain_text_scores_low_and_dense_text_scores_high() -> None:
    plain = "We fixed your printer. It works now. Thank you for your patience. " * 10
    dense = (
        "Subsequently, the organisational infrastructure modification necessitated "
        "comprehensive reconfiguration of authentication mechanisms. "
    ) * 10
    plain_score, dense_score = score(plain), score(dense)
    assert plain_score.words >= MIN_WORDS
    assert plain_score.grade is not None
    assert plain_score.grade < 4
    assert plain_score.reading_ease is not None
    assert plain_score.reading_ease > 80
    assert dense_score.grade is not None
    assert dense_score.grade > 14
    assert dense_score.reading_ease is not None
    assert dense_score.reading_ease < 20
