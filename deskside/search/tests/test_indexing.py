"""The index follows the tickets: after every change, after a rebuild, and after deletion."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from deskside.search.interface import SearchResults, index_ticket, reindex_all
from deskside.search.models import TicketDocument
from deskside.search.tests.helpers import Desk
from deskside.testing import Personas
from deskside.tickets import services

pytestmark = pytest.mark.django_db


def found(personas: Personas, query: str) -> list[int]:
    return [hit.ticket.pk for hit in SearchResults(personas.agent, query)]


def test_a_reply_is_searchable_once_committed(personas: Personas, desk: Desk) -> None:
    ticket = desk.ticket(personas.requester, "Screen flickers")
    assert found(personas, "degaussing") == []
    desk.reply(ticket, personas.agent, "Try degaussing the monitor.")
    assert found(personas, "degaussing") == [ticket.pk]
    desk.reply(ticket, personas.requester, "The flamingo wallpaper is back.")
    assert found(personas, "flamingo") == [ticket.pk]


def test_nothing_is_queued_for_a_rolled_back_write(
    personas: Personas, desk: Desk, django_capture_on_commit_callbacks: object
) -> None:
    ticket = desk.ticket(personas.requester, "Mouse stuck")
    with desk.committed():
        try:
            with transaction.atomic():
                services.ticket_reply(ticket=ticket, actor=personas.agent, body="Use a mousemat.")
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
    assert found(personas, "mousemat") == []


def test_a_note_is_searchable_by_staff(personas: Personas, desk: Desk) -> None:
    ticket = desk.ticket(personas.requester, "Slow network")
    desk.note(ticket, personas.agent, "Switch port 14 is flapping.")
    assert found(personas, "flapping") == [ticket.pk]


def test_a_subject_change_is_reindexed(personas: Personas, desk: Desk) -> None:
    ticket = desk.ticket(personas.requester, "Problem")
    with desk.committed(), transaction.atomic():
        # Whatever service edits a subject saves it through _touch, which queues re-indexing.
        ticket.subject = "Projector in room 4 is blank"
        services._touch(ticket, "subject")
    assert found(personas, "projector") == [ticket.pk]
    assert found(personas, "problem") == []


def test_merge_moves_the_conversation_to_the_survivor(personas: Personas, desk: Desk) -> None:
    source = desk.ticket(personas.requester, "Teams crashes", "Crashes with error 0xCAFE12.")
    target = desk.ticket(personas.requester, "Teams problems")
    with desk.committed():
        services.ticket_merge(source=source, target=target, actor=personas.agent)
    # The description moved to the survivor; the merged ticket keeps only its subject.
    assert found(personas, "0xCAFE12") == [target.pk]
    assert sorted(found(personas, "teams crashes")) == sorted([source.pk, target.pk])


def test_reindex_rebuilds_everything(personas: Personas, desk: Desk) -> None:
    first = desk.ticket(personas.requester, "Headset crackles")
    second = desk.ticket(personas.requester, "Headset microphone muted")
    TicketDocument.objects.all().delete()
    assert found(personas, "headset") == []
    assert reindex_all(batch=1) == 2
    assert sorted(found(personas, "headset")) == [first.pk, second.pk]


def test_reindex_command(personas: Personas, desk: Desk) -> None:
    ticket = desk.ticket(personas.requester, "Docking station dead")
    TicketDocument.objects.all().delete()
    out = StringIO()
    call_command("reindex", stdout=out)
    assert "1 tickets" in out.getvalue()
    assert found(personas, "docking") == [ticket.pk]
    TicketDocument.objects.all().delete()
    call_command("reindex", ticket=ticket.pk, stdout=out)
    assert found(personas, "docking") == [ticket.pk]


def test_a_deleted_ticket_leaves_the_index(personas: Personas, desk: Desk) -> None:
    ticket = desk.ticket(personas.requester, "Webcam upside down")
    pk = ticket.pk
    ticket.delete()
    assert not TicketDocument.objects.filter(ticket_id=pk).exists()
    index_ticket(pk)  # a task queued before the deletion must not fail or resurrect it
    assert not TicketDocument.objects.filter(ticket_id=pk).exists()
    assert found(personas, "webcam") == []


def test_updating_an_entry_replaces_the_old_words(personas: Personas, desk: Desk) -> None:
    ticket = desk.ticket(personas.requester, "Kettle")
    TicketDocument.objects.filter(ticket=ticket).update(subject="Toaster")
    assert found(personas, "kettle") == []
    assert found(personas, "toaster") == [ticket.pk]
    index_ticket(ticket.pk)
    assert found(personas, "toaster") == []
    assert found(personas, "kettle") == [ticket.pk]


def test_one_transaction_queues_one_index_job_for_all_its_tickets(
    personas: Personas, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deskside.search import tasks

    jobs: list[list[int]] = []
    queue = tasks.index_tickets_task

    def recorded(ids: list[int]) -> None:
        jobs.append(ids)
        queue(ids)

    monkeypatch.setattr(tasks, "index_tickets_task", recorded)
    with desk.committed(), transaction.atomic():
        first = services.ticket_create(
            actor=personas.requester, requester=personas.requester, subject="Printer jams",
            body="Paper jam again.", channel="portal",
        )  # fmt: skip
        try:
            with transaction.atomic():
                # Its hooks are dropped with the savepoint; the others must still index all.
                services.ticket_reply(ticket=first, actor=personas.agent, body="Open tray two.")
                raise RuntimeError("undone")
        except RuntimeError:
            pass
        second = services.ticket_create(
            actor=personas.requester, requester=personas.requester, subject="Scanner slow",
            body="It takes minutes.", channel="portal",
        )  # fmt: skip
    assert jobs == [sorted([first.pk, second.pk])]
    assert found(personas, "jams") == [first.pk]
    assert found(personas, "scanner") == [second.pk]
    assert found(personas, "tray") == []


def test_indexing_several_tickets_drops_the_ones_that_are_gone(
    personas: Personas, desk: Desk
) -> None:
    from deskside.search.interface import index_tickets

    kept = desk.ticket(personas.requester, "Projector dim")
    gone = desk.ticket(personas.requester, "Projector loud")
    gone_pk = gone.pk
    TicketDocument.objects.filter(ticket=kept).update(subject="Stale")
    gone.delete()
    index_tickets([kept.pk, gone_pk, kept.pk])
    assert list(TicketDocument.objects.values_list("ticket_id", "subject")) == [
        (kept.pk, "Projector dim")
    ]
