"""Whatever people type, search answers without an error, and junk finds nothing."""

from __future__ import annotations

import pytest

from deskside.search.interface import SearchResults, search_tickets
from deskside.search.query import MARK_START, marked_html, parse_terms
from deskside.search.tests.helpers import Desk
from deskside.testing import Personas

pytestmark = pytest.mark.django_db

# Nothing here has a letter or digit, so none of it can match anything.
JUNK = [
    "",
    " ",
    "\t\n",
    '"',
    '"""',
    "'",
    "''",
    "*",
    "**",
    "NEAR(",
    "(",
    ")))",
    "-",
    "+",
    "^",
    ":",
    ":*",
    "&",
    "|",
    "!",
    "<->",
    "&&!!||",
    "%",
    "_",
    "___",
    "\\",
    "\\'",
    "#",
    "# ",
    "{}",
    "{ } :",
    "\x00",
    "\x00\x01\x1f",
    MARK_START,
    "\ue001\ue000",
    "🙂🙂",
    "…",
    "\u2014 \u2013 \u00b7",
    ";--",
    "/* */",
    "<>",
    "'" * 500,
]

# Odd but wordy: may or may not match, must never fail.
ODD = [
    "NEAR(printer toner",
    'NEAR("printer" "toner", 2)',
    '"printer',
    'printer"',
    "printer*",
    "*printer",
    "printer OR toner",
    "printer AND NOT toner",
    "printer NOT",
    "subject:printer",
    "{subject}: printer",
    "{subject requester_name public_text note_text} : printer",
    "note_text:phishing",
    "- printer",
    "^printer",
    "printer:*",
    "'printer':*",
    "printer & toner | !x",
    "printer <-> toner",
    "a' OR 1=1 --",
    "'; DROP TABLE tickets_ticket; --",
    "%printer%",
    "printer_toner",
    "user@example.com",
    "C:\\Users\\ada\\file.txt",
    "https://intranet.example.com/a?b=c&d=e",
    "wi-fi",
    "1.2.3",
    "#1",
    "#0",
    "#-1",
    "#99999999999999999999999",
    "9223372036854775807",
    "9223372036854775808",
    "0",
    "a",
    "ab",
    "日本語のプリンター",
    "Ελληνικά",
    "straße",
    "ǅemal",
    "x" * 5000,
    "word " * 400,
    "printer\x00toner",
    "printer\ue000toner",
    "\U0001d52d\U0001d52f\U0001d526\U0001d52b\U0001d531\U0001d522\U0001d52f",
]


@pytest.fixture
def some_tickets(personas: Personas, desk: Desk) -> None:
    ticket = desk.ticket(personas.requester, "Printer needs toner", "The printer toner is low.")
    desk.note(ticket, personas.agent, "Possible phishing follow-up.")


@pytest.mark.usefixtures("some_tickets")
@pytest.mark.parametrize("query", JUNK)
def test_junk_finds_nothing_and_never_fails(personas: Personas, query: str) -> None:
    for person in (personas.agent, personas.requester, personas.admin):
        results = SearchResults(person, query)
        assert len(results) == 0
        assert list(results) == []
        assert search_tickets(person, query).hits == []


@pytest.mark.usefixtures("some_tickets")
@pytest.mark.parametrize("query", ODD)
def test_odd_input_never_fails(personas: Personas, query: str) -> None:
    for person in (personas.agent, personas.requester, personas.other_requester):
        results = SearchResults(person, query)
        count = len(results)
        hits = results[0:50]
        assert len(hits) == count
        for hit in hits:
            assert "<script" not in hit.snippet_html


@pytest.mark.parametrize("query", ["note_text:phishing", "{note_text}: phishing"])
@pytest.mark.usefixtures("some_tickets")
def test_column_syntax_cannot_reach_notes(personas: Personas, query: str) -> None:
    assert len(SearchResults(personas.requester, query)) == 0


def test_terms_are_always_quoted_for_fts5() -> None:
    terms = parse_terms('say "hi" NEAR(x) printer')
    assert terms.fts5() == '"say" """hi""" "NEAR(x)" "printer"*'
    assert parse_terms("printer ").fts5() == '"printer"'
    assert parse_terms("wi-fi").fts5() == '"wi-fi"'


def test_only_a_plain_word_becomes_a_postgres_prefix() -> None:
    assert parse_terms("toner prin").postgres() == ("toner", "'prin':*")
    assert parse_terms("toner p'rin").postgres() == ("toner p'rin", None)
    assert parse_terms("toner p").postgres() == ("toner p", None)


def test_marks_are_always_balanced() -> None:
    assert marked_html("\ue000a\ue000b\ue001\ue001c\ue000") == "<mark>ab</mark>c<mark></mark>"
    assert marked_html("<i>\ue000x</i>") == "&lt;i&gt;<mark>x&lt;/i&gt;</mark>"
