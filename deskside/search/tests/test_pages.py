"""The console search page and GET /api/v1/search."""

from __future__ import annotations

import pytest
from django.test import Client

from deskside.api.testing import assert_error, token_client
from deskside.search.tests.helpers import Desk
from deskside.testing import PASSWORD, Personas

pytestmark = pytest.mark.django_db

ENVELOPE = {"items", "count", "page", "page_size", "pages"}


def signed_in(personas: Personas, email: str) -> Client:
    client = Client()
    assert client.login(username=email, password=PASSWORD)
    return client


def test_console_page_shows_escaped_highlighted_results(personas: Personas, desk: Desk) -> None:
    ticket = desk.ticket(
        personas.requester, "<b>Bold</b> printer", "It prints <script>alert(1)</script> pages."
    )
    client = signed_in(personas, personas.agent.email)
    response = client.get("/console/search/", {"q": "printer"})
    assert response.status_code == 200
    html = response.content.decode()
    assert f"/console/tickets/{ticket.pk}/" in html
    assert "&lt;b&gt;Bold&lt;/b&gt;" in html
    assert "<b>Bold</b>" not in html
    assert "<script>alert(1)</script>" not in html
    assert "<mark>" in html
    assert 'role="search"' in html


def test_console_page_partial_for_htmx(personas: Personas, desk: Desk) -> None:
    desk.ticket(personas.requester, "Printer offline")
    client = signed_in(personas, personas.agent.email)
    response = client.get("/console/search/", {"q": "print"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="search-results"')
    assert "Printer" in html


def test_console_number_jumps_to_the_ticket(personas: Personas, desk: Desk) -> None:
    ticket = desk.ticket(personas.requester, "Monitor")
    client = signed_in(personas, personas.agent.email)
    response = client.get("/console/search/", {"q": f"#{ticket.pk}"})
    assert response.status_code == 302
    assert response["Location"] == f"/console/tickets/{ticket.pk}/"


def test_console_number_of_a_hidden_ticket_does_not_jump(personas: Personas, desk: Desk) -> None:
    personas.other_team.is_restricted = True
    personas.other_team.save()
    ticket = desk.ticket(personas.requester, "Secret", team=personas.other_team)
    client = signed_in(personas, personas.agent.email)
    response = client.get("/console/search/", {"q": f"#{ticket.pk}"})
    assert response.status_code == 200
    assert "Secret" not in response.content.decode()


@pytest.mark.parametrize("query", ["", '"', "NEAR(", "x" * 1000, "\x00"])
def test_console_page_survives_junk(personas: Personas, query: str) -> None:
    client = signed_in(personas, personas.agent.email)
    assert client.get("/console/search/", {"q": query}).status_code == 200


def test_console_search_is_for_staff(personas: Personas) -> None:
    response = signed_in(personas, personas.requester.email).get("/console/search/", {"q": "x"})
    assert response.status_code == 302
    assert "/console/" not in response["Location"]
    assert Client().get("/console/search/").status_code == 302


def test_header_has_a_labelled_search_box(personas: Personas) -> None:
    html = signed_in(personas, personas.agent.email).get("/console/").content.decode()
    assert 'for="console-search-q"' in html
    assert 'id="console-search-q"' in html


def test_api_search_is_paginated_in_the_standard_envelope(personas: Personas, desk: Desk) -> None:
    for n in range(3):
        desk.ticket(personas.requester, f"Toner cartridge {n}", "<i>Empty</i> toner.")
    client = token_client(personas.agent)
    body = client.get("/api/v1/search", {"q": "toner", "page_size": "2"}).json()
    assert set(body) == ENVELOPE
    assert (body["count"], body["pages"], body["page"], body["page_size"]) == (3, 2, 1, 2)
    assert len(body["items"]) == 2
    item = body["items"][0]
    assert set(item) == {
        "ticket", "match", "rank", "subject_html", "snippet_html", "snippet_source",
    }  # fmt: skip
    assert item["match"] == "text"
    assert "<mark>Toner</mark>" in item["subject_html"]
    assert "&lt;i&gt;" in item["snippet_html"] or "<i>" not in item["snippet_html"]
    assert item["ticket"]["requester_name"] == "Ada Requester"
    second = client.get("/api/v1/search", {"q": "toner", "page_size": "2", "page": "2"}).json()
    assert len(second["items"]) == 1
    beyond = client.get("/api/v1/search", {"q": "toner", "page": "9"}).json()
    assert beyond["items"] == []
    assert beyond["count"] == 3


def test_api_search_is_permission_filtered(personas: Personas, desk: Desk) -> None:
    ticket = desk.ticket(personas.requester, "Payroll export fails")
    desk.note(ticket, personas.agent, "Related to the zanzibar migration.")
    other = token_client(personas.other_requester).get("/api/v1/search", {"q": "payroll"}).json()
    assert (other["count"], other["items"]) == (0, [])
    own = Client()
    assert own.login(username=personas.requester.email, password=PASSWORD)
    assert own.get("/api/v1/search", {"q": "zanzibar"}).json()["count"] == 0
    assert own.get("/api/v1/search", {"q": "payroll"}).json()["count"] == 1
    number = token_client(personas.agent).get("/api/v1/search", {"q": f"#{ticket.pk}"}).json()
    assert number["items"][0]["match"] == "number"


def test_api_search_rejects_bad_parameters(personas: Personas) -> None:
    client = token_client(personas.agent)
    assert_error(client.get("/api/v1/search"), 422, "validation_failed")
    assert_error(client.get("/api/v1/search", {"q": "x" * 201}), 422, "validation_failed")
    error = assert_error(client.get("/api/v1/search", {"q": "x", "sort": "new"}), 400, "invalid")
    assert "sort" in error["details"]["fields"]
    assert_error(Client().get("/api/v1/search", {"q": "x"}), 401, "not_authenticated")


def test_api_search_with_empty_query_is_empty(personas: Personas) -> None:
    body = token_client(personas.agent).get("/api/v1/search", {"q": ""}).json()
    assert (body["count"], body["items"], body["pages"]) == (0, [], 1)


def test_console_results_page_through_with_the_query_kept(personas: Personas, desk: Desk) -> None:
    for number in range(30):
        desk.ticket(personas.requester, f"Printer jam {number}")
    client = signed_in(personas, personas.agent.email)
    two_words = client.get("/console/search/", {"q": "printer jam"}).content.decode()
    one_word = client.get("/console/search/", {"q": "printer"}).content.decode()
    # The query travels in every page link, encoded, and the links are escaped in HTML.
    assert 'href="?q=printer&amp;page=2" rel="next"' in one_word
    assert 'href="?q=printer%20jam&amp;page=2" rel="next"' in two_words
    page_two = client.get("/console/search/", {"q": "printer", "page": "2"}).content.decode()
    assert 'rel="prev"' in page_two
    assert page_two.count("search-hit__title") == 5
