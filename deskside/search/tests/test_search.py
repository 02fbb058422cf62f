"""Finding tickets: matching, ranking, snippets, and above all who may find what."""

from __future__ import annotations

import pytest

from deskside.search.interface import SearchResults, search_tickets, ticket_for_number
from deskside.search.tests.helpers import Desk
from deskside.testing import Personas

pytestmark = pytest.mark.django_db


def ids(results: SearchResults) -> list[int]:
    return [hit.ticket.pk for hit in results]


def test_finds_by_subject(personas: Personas, desk: Desk) -> None:
    ticket = desk.ticket(personas.requester, "Printer on floor two jams")
    desk.ticket(personas.requester, "Laptop will not start")
    page = search_tickets(personas.agent, "printer")
    assert page.count == 1
    assert [hit.ticket.pk for hit in page.hits] == [ticket.pk]
    assert page.hits[0].subject_html == "<mark>Printer</mark> on floor two jams"


def test_finds_by_message_text(personas: Personas, desk: Desk) -> None:
    ticket = desk.ticket(personas.requester, "Cannot work", "The docking station flickers.")
    desk.reply(ticket, personas.agent, "Try the spare monitor cable from the cupboard.")
    assert ids(SearchResults(personas.agent, "docking flickers")) == [ticket.pk]
    assert ids(SearchResults(personas.agent, "cupboard")) == [ticket.pk]
    assert ids(SearchResults(personas.requester, "cupboard")) == [ticket.pk]


def test_finds_by_requester_name(personas: Personas, desk: Desk) -> None:
    ticket = desk.ticket(personas.requester, "Cannot work")
    desk.ticket(personas.other_requester, "Cannot work either")
    assert ids(SearchResults(personas.agent, "Ada Requester")) == [ticket.pk]


def test_last_word_matches_as_a_prefix_while_typing(personas: Personas, desk: Desk) -> None:
    ticket = desk.ticket(personas.requester, "Keyboard missing keys")
    assert ids(SearchResults(personas.agent, "keyb")) == [ticket.pk]
    assert ids(SearchResults(personas.agent, "keyb ")) == []


def test_accents_do_not_matter(personas: Personas, desk: Desk) -> None:
    ticket = desk.ticket(personas.requester, "Café wifi is down")
    assert ids(SearchResults(personas.agent, "cafe")) == [ticket.pk]


def test_subject_matches_rank_above_conversation_matches(personas: Personas, desk: Desk) -> None:
    in_body = desk.ticket(
        personas.requester, "Slow laptop", "Also the VPN drops now and then. The VPN is slow."
    )
    in_subject = desk.ticket(personas.requester, "VPN keeps dropping", "It happens at home.")
    older_body = desk.ticket(personas.requester, "Email", "I was on the VPN when it failed.")
    results = list(SearchResults(personas.agent, "vpn"))
    assert results[0].ticket.pk == in_subject.pk
    assert {hit.ticket.pk for hit in results} == {in_body.pk, in_subject.pk, older_body.pk}
    assert results[0].rank >= results[1].rank >= results[2].rank


def test_snippet_highlights_and_escapes_the_source_text(personas: Personas, desk: Desk) -> None:
    desk.ticket(
        personas.requester,
        "<b>Bold</b> & broken",
        'I pasted <script>alert("x")</script> and now the printer says "<img src=x>".',
    )
    [hit] = SearchResults(personas.agent, "printer")
    assert "<mark>printer</mark>" in hit.snippet_html
    assert "<script>" not in hit.snippet_html
    # SQLite keeps the tag as escaped text; PostgreSQL's headline leaves tags out. Both safe.
    assert "&quot;x&quot;" in hit.snippet_html
    assert "<img" not in hit.snippet_html
    assert hit.subject_html == "&lt;b&gt;Bold&lt;/b&gt; &amp; broken"
    assert hit.snippet_source == "reply"


def test_another_requester_never_finds_the_ticket(personas: Personas, desk: Desk) -> None:
    ticket = desk.ticket(personas.requester, "Payroll spreadsheet locked", "Salary figures.")
    for query in ("payroll", "salary", "Ada", f"#{ticket.pk}", str(ticket.pk), "payr"):
        results = SearchResults(personas.other_requester, query)
        assert len(results) == 0, query
        assert list(results) == [], query
    assert ticket_for_number(personas.other_requester, f"#{ticket.pk}") is None


def test_requester_never_finds_own_ticket_through_an_internal_note(
    personas: Personas, desk: Desk
) -> None:
    ticket = desk.ticket(personas.requester, "Account locked out")
    desk.note(ticket, personas.agent, "Suspect phishing; compromised credentials, reset quietly.")
    for query in ("phishing", "compromised credentials", "phish", "quietly"):
        assert len(SearchResults(personas.requester, query)) == 0, query
        assert ids(SearchResults(personas.agent, query)) == [ticket.pk], query
    [hit] = SearchResults(personas.agent, "phishing")
    assert hit.snippet_source == "note"
    assert "<mark>phishing</mark>" in hit.snippet_html


def test_requester_snippet_never_shows_note_text(personas: Personas, desk: Desk) -> None:
    ticket = desk.ticket(personas.requester, "Locked account", "I am locked out of email.")
    desk.note(ticket, personas.agent, "Locked by security: phishing suspected.")
    [hit] = SearchResults(personas.requester, "locked")
    assert "phishing" not in hit.snippet_html
    assert "security" not in hit.snippet_html
    assert hit.snippet_source == "reply"


def test_agent_outside_a_restricted_team_does_not_find_its_tickets(
    personas: Personas, desk: Desk
) -> None:
    personas.other_team.is_restricted = True
    personas.other_team.save()
    hidden = desk.ticket(personas.requester, "Investigation into laptop theft")
    hidden.team = personas.other_team
    hidden.save()
    assert len(SearchResults(personas.agent, "theft")) == 0
    assert len(SearchResults(personas.agent, f"#{hidden.pk}")) == 0
    assert ids(SearchResults(personas.other_agent, "theft")) == [hidden.pk]
    assert ids(SearchResults(personas.it_manager, "theft")) == [hidden.pk]


def test_a_ticket_number_comes_first(personas: Personas, desk: Desk) -> None:
    ticket = desk.ticket(personas.requester, "Monitor broken")
    mentions = desk.ticket(personas.requester, "Follow up", f"Same as ticket {ticket.pk} again.")
    results = SearchResults(personas.agent, f"#{ticket.pk}")
    hits = list(results)
    assert len(results) == 2
    assert [hit.ticket.pk for hit in hits] == [ticket.pk, mentions.pk]
    assert hits[0].match == "number"
    assert ticket_for_number(personas.agent, f" #{ticket.pk} ") == ticket
    assert ticket_for_number(personas.agent, f"{ticket.pk}") == ticket


def test_pages_are_counted_after_permission_filtering(personas: Personas, desk: Desk) -> None:
    mine = [desk.ticket(personas.requester, f"Toner low {n}") for n in range(3)]
    for n in range(4):
        desk.ticket(personas.other_requester, f"Toner empty {n}")
    page = search_tickets(personas.requester, "toner", limit=2, offset=0)
    assert page.count == 3
    rest = search_tickets(personas.requester, "toner", limit=2, offset=2)
    found = [hit.ticket.pk for hit in page.hits + rest.hits]
    assert sorted(found) == sorted(ticket.pk for ticket in mine)
    assert search_tickets(personas.agent, "toner").count == 7


def test_inactive_people_find_nothing(personas: Personas, desk: Desk) -> None:
    desk.ticket(personas.requester, "Scanner offline")
    personas.agent.is_active = False
    assert len(SearchResults(personas.agent, "scanner")) == 0
