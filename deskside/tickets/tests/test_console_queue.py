"""The console queue: queues, filters, bad filters, pages, saved filters, bulk changes, polling."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from deskside.accounts.models import User
from deskside.testing import Personas
from deskside.tickets import services
from deskside.tickets.models import Channel, Priority, SavedFilter, Status, StatusKind, Ticket

QUEUE = "/console/tickets/"


def make_ticket(personas: Personas, subject: str = "Printer jammed", **extra: object) -> Ticket:
    options: dict[str, object] = {"team": personas.team, "channel": Channel.PORTAL}
    options.update(extra)
    return services.ticket_create(
        actor=personas.requester,
        requester=personas.requester,
        subject=subject,
        body="It makes a grinding noise.",
        **options,  # type: ignore[arg-type]
    )


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def agent_client(client: Client, personas: Personas) -> Client:
    return signed_in(client, personas.agent)


def test_queue_lists_tickets_with_escaped_subject(agent_client: Client, personas: Personas) -> None:
    ticket = make_ticket(personas, "<script>alert(1)</script>", priority=Priority.P1)
    response = agent_client.get(QUEUE)
    assert response.status_code == 200
    html = response.content.decode()
    assert f"#{ticket.pk}" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" not in html
    assert "business-critical" in html  # P1 is marked in words, not only colour
    assert "Ada Requester" in html


def test_queues_show_counts(agent_client: Client, personas: Personas) -> None:
    mine = make_ticket(personas, "Mine")
    services.ticket_assign(ticket=mine, actor=personas.agent, assignee=personas.agent)
    make_ticket(personas, "Nobody's")
    response = agent_client.get(QUEUE, {"queue": "mine"})
    assert [t.subject for t in response.context["page"].object_list] == ["Mine"]
    # The page asks for its tabs' counts right after it loads.
    html = response.content.decode()
    assert 'hx-get="/console/tickets/counts/?tabs=1&amp;current=mine"' in html
    tabs = agent_client.get(reverse("tickets:queue_counts"), {"tabs": "1", "current": "mine"})
    queues = {q["key"]: q["count"] for q in tabs.context["queues"]}
    assert queues["mine"] == 1
    assert queues["unassigned"] == 1
    assert queues["teams"] == 2
    assert 'aria-current="page">My tickets' in tabs.content.decode()


def test_filters_narrow_the_list(agent_client: Client, personas: Personas) -> None:
    urgent = make_ticket(personas, "Urgent", priority=Priority.P1, channel=Channel.PHONE)
    make_ticket(personas, "Calm", priority=Priority.P4)
    services.ticket_tag_add(ticket=urgent, actor=personas.agent, name="vpn")

    def subjects(**params: str | int) -> list[str]:
        response = agent_client.get(QUEUE, params)
        assert response.status_code == 200
        return [t.subject for t in response.context["page"].object_list]

    assert subjects(priority=1) == ["Urgent"]
    assert subjects(channel="phone") == ["Urgent"]
    assert subjects(tag="vpn") == ["Urgent"]
    assert subjects(assignee=0) == ["Calm", "Urgent"]
    assert subjects(assignee=personas.agent.pk) == []
    assert subjects(team=personas.team.pk, sort="-created") == ["Urgent", "Calm"]
    assert subjects(requester=personas.other_requester.pk) == []
    new = Status.objects.get(kind=StatusKind.NEW)
    assert len(subjects(status=new.pk)) == 2
    assert subjects(created_after="2000-01-01", created_before="2000-12-31") == []


@pytest.mark.parametrize(
    "params",
    [
        {"priority": "urgent"},
        {"priority": "9"},
        {"created_after": "yesterday"},
        {"sort": "favourite"},
        {"queue": "nonsense"},
        {"team": "x"},
    ],
)
def test_bad_filters_show_a_plain_message(
    agent_client: Client, personas: Personas, params: dict[str, str]
) -> None:
    make_ticket(personas)
    response = agent_client.get(QUEUE, params)
    assert response.status_code == 400
    assert "Those filters do not work" in response.content.decode()


def test_pages_of_fifty(agent_client: Client, personas: Personas) -> None:
    for number in range(55):
        make_ticket(personas, f"Ticket {number}")
    first = agent_client.get(QUEUE)
    assert len(first.context["page"].object_list) == 50
    assert "page=2" in first.content.decode()
    second = agent_client.get(QUEUE, {"page": 2})
    assert len(second.context["page"].object_list) == 5
    assert agent_client.get(QUEUE, {"page": "abc"}).status_code == 200


def test_agent_outside_a_restricted_team_does_not_see_its_tickets(
    agent_client: Client, personas: Personas
) -> None:
    personas.other_team.is_restricted = True
    personas.other_team.save()
    hidden = make_ticket(personas, "Salary question", team=personas.other_team)
    response = agent_client.get(QUEUE)
    assert hidden not in response.context["page"].object_list
    assert "Salary question" not in response.content.decode()


def test_bulk_assign_status_and_priority(agent_client: Client, personas: Personas) -> None:
    first, second, untouched = (make_ticket(personas, f"T{n}") for n in range(3))
    waiting = Status.objects.get(kind=StatusKind.WAITING_REQUESTER)
    response = agent_client.post(
        reverse("tickets:bulk_update"),
        {
            "ticket": [first.pk, second.pk],
            "assignee": personas.agent.pk,
            "team": personas.other_team.pk,
            "status": waiting.pk,
            "priority": 2,
            "next": "queue=all&sort=created",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"{QUEUE}?queue=all&sort=created"
    assert "2 tickets changed." in response.content.decode()
    for ticket in (first, second):
        ticket.refresh_from_db()
        assert ticket.assignee == personas.agent
        assert ticket.team == personas.other_team
        assert ticket.status == waiting
        assert ticket.priority == 2
    untouched.refresh_from_db()
    assert untouched.assignee is None


def test_bulk_unassign_and_nothing_chosen(agent_client: Client, personas: Personas) -> None:
    ticket = make_ticket(personas)
    services.ticket_assign(ticket=ticket, actor=personas.agent, assignee=personas.agent)
    url = reverse("tickets:bulk_update")
    response = agent_client.post(url, {"ticket": [ticket.pk], "assignee": "none"}, follow=True)
    assert "1 ticket changed." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.assignee is None
    response = agent_client.post(url, {"ticket": [ticket.pk]}, follow=True)
    assert "Choose what to change" in response.content.decode()
    response = agent_client.post(url, {"priority": 1}, follow=True)
    assert "Tick at least one ticket first." in response.content.decode()


def test_bulk_skips_tickets_the_agent_cannot_see(agent_client: Client, personas: Personas) -> None:
    personas.other_team.is_restricted = True
    personas.other_team.save()
    hidden = make_ticket(personas, team=personas.other_team)
    response = agent_client.post(
        reverse("tickets:bulk_update"), {"ticket": [hidden.pk], "priority": 1}, follow=True
    )
    assert "0 tickets changed." in response.content.decode()
    hidden.refresh_from_db()
    assert hidden.priority == Priority.P3


def test_saved_filters_save_list_and_delete(agent_client: Client, personas: Personas) -> None:
    response = agent_client.post(
        reverse("tickets:saved_filter_save"),
        {"name": "Urgent phone calls", "query": "priority=1&channel=phone&page=3"},
        follow=True,
    )
    assert "Saved as" in response.content.decode()
    saved = SavedFilter.objects.get(owner=personas.agent)
    assert saved.query == "priority=1&channel=phone"
    page = agent_client.get(QUEUE).content.decode()
    assert "Urgent phone calls" in page
    # A filter that does not work is not saved.
    agent_client.post(
        reverse("tickets:saved_filter_save"), {"name": "Broken", "query": "priority=urgent"}
    )
    assert not SavedFilter.objects.filter(name="Broken").exists()
    # Nobody removes another agent's filter.
    other = Client()
    other.force_login(personas.other_agent)
    delete = reverse("tickets:saved_filter_delete", kwargs={"pk": saved.pk})
    assert other.post(delete).status_code == 404
    agent_client.post(delete)
    assert not SavedFilter.objects.exists()


def test_poll_counts_new_tickets_after_the_newest_shown(
    agent_client: Client, personas: Personas
) -> None:
    shown = make_ticket(personas, "Old")
    response = agent_client.get(QUEUE)
    assert response.context["newest_id"] == shown.pk
    assert f"after={shown.pk}" in response.content.decode()
    poll = reverse("tickets:queue_poll")
    assert "new ticket" not in agent_client.get(poll, {"after": shown.pk}).content.decode()
    make_ticket(personas, "New one")
    make_ticket(personas, "Newer one")
    body = agent_client.get(poll, {"after": str(shown.pk), "queue": "all"}).content.decode()
    assert "2 new tickets" in body
    assert "Show them" in body
    # Filters apply to the count, too.
    assert (
        "new ticket"
        not in agent_client.get(poll, {"after": shown.pk, "priority": 1}).content.decode()
    )


def test_requesters_are_sent_to_the_portal(client: Client, personas: Personas) -> None:
    client.force_login(personas.requester)
    response = client.get(QUEUE)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")


def test_console_home_shows_queue_counts(agent_client: Client, personas: Personas) -> None:
    make_ticket(personas)
    body = agent_client.get(reverse("tickets:queue_counts")).content.decode()
    assert "Unassigned in my teams" in body
    assert agent_client.get(reverse("tickets:console_home")).status_code == 200
