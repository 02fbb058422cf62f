"""The coach in the console: checking drafts for a ticket's reader, and what gets recorded
as replies are sent (the report's figures)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from deskside.coach.api import MAX_TEXT_CHARS
from deskside.coach.models import SentReading
from deskside.coach.selectors import reading_report
from deskside.testing import PASSWORD, Personas
from deskside.tickets import services as ticket_services
from deskside.tickets.models import Channel, Ticket

pytestmark = pytest.mark.usefixtures("shipped_terms")

CHECK = "/console/coach/check"
REPORT = "/console/coach/report/"
DRAFT = "Please flush your DNS cache and reconnect to the VPN."


def signed_in(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.email, password=PASSWORD)
    return client


def flagged(data: dict[str, Any]) -> set[str]:
    return {issue["text"] for issue in data["issues"] if issue["kind"] in ("jargon", "acronym")}


def test_a_draft_without_a_ticket_gets_every_term_flagged(personas: Personas) -> None:
    response = signed_in(personas.agent).post(CHECK, {"text": DRAFT})
    assert response.status_code == 200
    data = response.json()
    assert {"DNS", "VPN", "cache"} <= flagged(data)
    vpn = next(issue for issue in data["issues"] if issue["text"] == "VPN")
    assert "office connection" in vpn["suggestions"]
    assert vpn["explanation"]
    assert data["summary"].endswith("terms to explain")
    assert data["reader"] == ""


def test_a_term_the_requester_used_is_not_flagged(personas: Personas, vpn_ticket: Ticket) -> None:
    data = signed_in(personas.agent).post(CHECK, {"text": DRAFT, "ticket": vpn_ticket.pk}).json()
    assert "VPN" not in flagged(data)
    assert "DNS" in flagged(data)
    assert data["reader"] == "Ada"
    assert any(issue["message"].startswith("Ada might not know") for issue in data["issues"])


def test_an_internal_note_does_not_count_as_something_the_requester_read(
    personas: Personas, vpn_ticket: Ticket
) -> None:
    ticket_services.ticket_add_note(
        ticket=vpn_ticket, actor=personas.agent, body="Probably a stale DNS entry on her laptop."
    )
    data = signed_in(personas.agent).post(CHECK, {"text": DRAFT, "ticket": vpn_ticket.pk}).json()
    assert "DNS" in flagged(data)


def test_an_earlier_reply_that_explained_a_term_counts(
    personas: Personas, vpn_ticket: Ticket
) -> None:
    ticket_services.ticket_reply(
        ticket=vpn_ticket,
        actor=personas.agent,
        body="Your DNS (the internet's address book on your laptop) needs a refresh.",
    )
    data = signed_in(personas.agent).post(CHECK, {"text": DRAFT, "ticket": vpn_ticket.pk}).json()
    assert "DNS" not in flagged(data)


def test_a_ticket_the_agent_cannot_see_is_not_found(personas: Personas) -> None:
    restricted = ticket_services.ticket_create(
        actor=personas.other_requester,
        requester=personas.other_requester,
        subject="Salary file",
        body="HR only.",
        channel=Channel.PORTAL,
    )
    personas.other_team.is_restricted = True
    personas.other_team.save()
    ticket_services.ticket_assign(ticket=restricted, actor=personas.admin, team=personas.other_team)
    response = signed_in(personas.agent).post(CHECK, {"text": DRAFT, "ticket": restricted.pk})
    assert response.status_code == 404
    response = signed_in(personas.agent).post(CHECK, {"text": DRAFT, "ticket": "abc"})
    assert response.status_code == 404


def test_requesters_and_visitors_cannot_use_the_console_check(personas: Personas) -> None:
    response = signed_in(personas.requester).post(CHECK, {"text": DRAFT})
    assert response.status_code == 302
    assert "/portal/" in response["Location"]
    response = Client().post(CHECK, {"text": DRAFT})
    assert response.status_code == 302
    assert "/accounts/" in response["Location"]


def test_the_check_needs_the_csrf_token(personas: Personas) -> None:
    client = Client(enforce_csrf_checks=True)
    assert client.login(username=personas.agent.email, password=PASSWORD)
    assert client.post(CHECK, {"text": DRAFT}).status_code == 403


def test_too_long_a_draft_gets_a_plain_error(personas: Personas) -> None:
    response = signed_in(personas.agent).post(CHECK, {"text": "word " * MAX_TEXT_CHARS})
    assert response.status_code == 400
    assert "You can still send it" in response.json()["error"]


# --- What is recorded as replies go out -----------------------------------------------


def test_an_agent_reply_is_recorded_with_its_grade_and_warnings(
    personas: Personas, vpn_ticket: Ticket
) -> None:
    message = ticket_services.ticket_reply(ticket=vpn_ticket, actor=personas.agent, body=DRAFT)
    reading = SentReading.objects.get(message=message)
    assert reading.team == personas.team
    assert reading.author == personas.agent
    assert reading.words == 10
    # DNS and cache still need explaining; the VPN was the requester's own word.
    assert reading.warnings == 2
    assert reading.applied == 0


def test_requester_messages_and_internal_notes_are_not_recorded(
    personas: Personas, vpn_ticket: Ticket
) -> None:
    ticket_services.ticket_reply(
        ticket=vpn_ticket, actor=personas.requester, body="Still broken, sorry!"
    )
    ticket_services.ticket_add_note(ticket=vpn_ticket, actor=personas.agent, body=DRAFT)
    assert SentReading.objects.count() == 0


def test_the_composer_reports_the_suggestions_applied(
    personas: Personas, vpn_ticket: Ticket
) -> None:
    client = signed_in(personas.agent)
    response = client.post(
        f"/console/tickets/{vpn_ticket.pk}/compose/",
        {
            "kind": "reply",
            "body": "Please reconnect to the office connection.",
            "coach_applied": "2",
        },
    )
    assert response.status_code == 302
    reading = SentReading.objects.get()
    assert (reading.applied, reading.warnings) == (2, 0)

    response = client.post(
        f"/console/tickets/{vpn_ticket.pk}/resolve/",
        {
            "note": "Your password had expired. We reset it; it now lasts a year.",
            "coach_applied": "not a number",
        },
    )
    assert response.status_code == 302
    assert SentReading.objects.count() == 2
    assert SentReading.objects.order_by("-id").first().applied == 0  # type: ignore[union-attr]


def test_a_note_sent_from_the_composer_is_not_recorded(
    personas: Personas, vpn_ticket: Ticket
) -> None:
    response = signed_in(personas.agent).post(
        f"/console/tickets/{vpn_ticket.pk}/compose/",
        {"kind": "note", "body": DRAFT, "coach_applied": "3"},
    )
    assert response.status_code == 302
    assert not SentReading.objects.exists()


def _reading(personas: Personas, **fields: Any) -> SentReading:
    ticket = ticket_services.ticket_create(
        actor=personas.requester,
        requester=personas.requester,
        subject="Anything",
        body="Help please.",
        channel=Channel.PORTAL,
    )
    message = ticket.messages.get()
    defaults: dict[str, Any] = {"sent_at": timezone.now(), "words": 50}
    return SentReading.objects.create(message=message, **(defaults | fields))


def test_the_report_averages_each_teams_graded_replies(personas: Personas) -> None:
    _reading(personas, team=personas.team, author=personas.agent, grade=6.0, applied=3)
    _reading(personas, team=personas.team, author=personas.agent, grade=10.0, warnings=1)
    _reading(personas, team=personas.team, author=personas.agent, grade=None, words=2)
    _reading(personas, team=personas.other_team, author=personas.other_agent, grade=12.0)
    _reading(
        personas,
        team=personas.team,
        author=personas.agent,
        grade=1.0,
        sent_at=timezone.now() - timedelta(days=40),
    )

    teams, total = reading_report(personas.it_manager, days=30)
    by_name = {row.team: row for row in teams}
    desk = by_name["Service Desk"]
    assert (desk.replies, desk.graded, desk.grade) == (3, 2, 8.0)
    assert (desk.applied, desk.warnings, desk.acceptance) == (3, 1, 75)
    assert by_name["Infrastructure"].grade == 12.0
    assert by_name["Infrastructure"].acceptance is None
    assert (total.replies, total.graded) == (4, 3)
    assert total.grade == pytest.approx((6 + 10 + 12) / 3)

    # The older reply counts over a longer period.
    teams, total = reading_report(personas.it_manager, days=90)
    assert total.replies == 5


def test_the_report_shows_each_person_only_what_they_may_see(personas: Personas) -> None:
    _reading(personas, team=personas.team, author=personas.agent, grade=6.0)
    _reading(personas, team=personas.other_team, author=personas.other_agent, grade=12.0)

    lead_teams, _total = reading_report(personas.team_lead)
    assert [row.team for row in lead_teams] == ["Service Desk"]
    agent_teams, _total = reading_report(personas.other_agent)
    assert [row.team for row in agent_teams] == ["Infrastructure"]
    requester_teams, total = reading_report(personas.requester)
    assert requester_teams == []
    assert total.replies == 0


def test_the_report_page(personas: Personas) -> None:
    _reading(personas, team=personas.team, author=personas.agent, grade=6.0, applied=1)
    page = signed_in(personas.it_manager).get(REPORT, {"days": "7"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "Service Desk" in body
    assert "6.0" in body
    assert "All teams" in body
    assert "100%" in body
    # Nonsense periods fall back to 30 days rather than failing.
    assert signed_in(personas.it_manager).get(REPORT, {"days": "x"}).status_code == 200
    year = signed_in(personas.it_manager).get(REPORT, {"days": "365"})
    assert "Service Desk" in year.content.decode()
    assert signed_in(personas.requester).get(REPORT).status_code == 302
