"""One notification job per transaction, one delivery job (and connection) per batch."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.db import transaction
from django.test import override_settings
from huey.contrib.djhuey import HUEY

from deskside.mail import notifications, tasks
from deskside.mail.models import OutboundKind, OutboundMail, OutboundState
from deskside.mail.outbound import outbound_record
from deskside.mail.tests.smtp_sink import (
    SmtpSink,
    ensure_ticket_catalogue,
    free_port,
    serving_sink,
    smtp_settings,
)
from deskside.testing import Commit, Personas
from deskside.tickets import services
from deskside.tickets.models import Channel, Status, StatusKind, Ticket

pytestmark = pytest.mark.django_db

TRY_LATER = "451 4.3.0 Mailbox busy, try again later"


class CountingSink(SmtpSink):
    """The test sink, also noting which connection (client port) each mail came over, and
    answering "try again later" for the addresses in ``busy``."""

    def __init__(self) -> None:
        super().__init__()
        self.peers: list[object] = []
        self.busy: set[str] = set()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.busy:
            return TRY_LATER
        return await super().handle_RCPT(server, session, envelope, address, options)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.peers.append(session.peer)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def smtp() -> Iterator[CountingSink]:
    with (
        serving_sink(CountingSink()) as sink,
        override_settings(BASE_URL="https://help.example.com"),
    ):
        yield sink


@pytest.fixture
def desk(personas: Personas) -> Personas:
    ensure_ticket_catalogue()
    return personas


def open_ticket(desk: Personas, subject: str = "Printer on floor 3 jams") -> Ticket:
    return services.ticket_create(
        actor=desk.requester,
        requester=desk.requester,
        subject=subject,
        body="It jams on every page since Monday.",
        channel=Channel.PORTAL,
        team=desk.team,
    )


def recorded(monkeypatch: pytest.MonkeyPatch, name: str) -> list[tuple[Any, ...]]:
    """Every call of the job ``tasks.<name>``, which still runs as before."""
    calls: list[tuple[Any, ...]] = []
    job = getattr(tasks, name)

    def record(*args: Any) -> None:
        calls.append(args)
        job(*args)

    monkeypatch.setattr(tasks, name, record)
    return calls


def scheduled_ids() -> set[str]:
    return {task.id for task in HUEY.scheduled()}


# --- One notification job per transaction ------------------------------------------------


def test_one_transaction_queues_one_notification_job_and_one_delivery(
    desk: Personas, smtp: CountingSink, commit: Commit, monkeypatch: pytest.MonkeyPatch
) -> None:
    notify_many = recorded(monkeypatch, "notify_many_task")
    notify_one = recorded(monkeypatch, "notify_task")
    deliver_many = recorded(monkeypatch, "deliver_many_task")
    deliver_one = recorded(monkeypatch, "deliver_task")
    with commit(), transaction.atomic():
        first = open_ticket(desk, "Printer jams")
        second = open_ticket(desk, "Scanner slow")
        services.ticket_reply(ticket=first, actor=desk.agent, body="Open tray two.")
    [(events,)] = notify_many
    assert [(event[0], event[1]) for event in events] == [
        (notifications.TICKET_CREATED, first.pk),
        (notifications.TICKET_CREATED, second.pk),
        (notifications.AGENT_REPLIED, first.pk),
    ]
    assert notify_one == []
    assert deliver_one == []
    rows = list(OutboundMail.objects.order_by("id"))
    assert [(row.kind, row.ticket_id) for row in rows] == [
        (OutboundKind.ACKNOWLEDGEMENT, first.pk),
        (OutboundKind.ACKNOWLEDGEMENT, second.pk),
        (OutboundKind.AGENT_REPLY, first.pk),
    ]
    assert deliver_many == [([row.pk for row in rows],)]
    assert {row.state for row in OutboundMail.objects.all()} == {OutboundState.SENT}
    assert len(smtp.messages) == 3
    assert len(set(smtp.peers)) == 1  # one connection for the three
    # Threading still works across a batch: the reply follows the acknowledgement.
    ack, _other, reply = (got.message for got in smtp.messages)
    assert reply["In-Reply-To"].strip() == ack["Message-ID"].strip()


def test_a_change_undone_by_a_savepoint_mails_nothing(
    desk: Personas, smtp: CountingSink, commit: Commit
) -> None:
    ticket = open_ticket(desk)
    waiting = Status.objects.get(kind=StatusKind.WAITING_REQUESTER, is_default_for_kind=True)
    services.ticket_change_status(ticket=ticket, actor=desk.agent, status=waiting)
    opened = Status.objects.get(kind=StatusKind.OPEN, is_default_for_kind=True)
    with commit(), transaction.atomic():
        services.ticket_reply(ticket=ticket, actor=desk.agent, body="Which floor?")
        try:
            with transaction.atomic():
                # Undone: the ticket still waits on the requester, but nothing changed, so
                # "we need your answer" must not go out for it.
                services.ticket_change_status(ticket=ticket, actor=desk.agent, status=opened)
                services.ticket_change_status(ticket=ticket, actor=desk.agent, status=waiting)
                raise RuntimeError("undone")
        except RuntimeError:
            pass
    assert list(OutboundMail.objects.values_list("kind", flat=True)) == [OutboundKind.AGENT_REPLY]
    assert len(smtp.messages) == 1


def test_events_before_and_after_an_undone_savepoint_go_together(
    desk: Personas, smtp: CountingSink, commit: Commit, monkeypatch: pytest.MonkeyPatch
) -> None:
    notify_many = recorded(monkeypatch, "notify_many_task")
    with commit(), transaction.atomic():
        first = open_ticket(desk, "Printer jams")
        try:
            with transaction.atomic():
                open_ticket(desk, "Never saved")
                raise RuntimeError("undone")
        except RuntimeError:
            pass
        second = open_ticket(desk, "Scanner slow")
    [(events,)] = notify_many
    assert [event[1] for event in events] == [first.pk, second.pk]
    assert len(smtp.messages) == 2


def test_muted_changes_queue_nothing(
    desk: Personas, smtp: CountingSink, commit: Commit, monkeypatch: pytest.MonkeyPatch
) -> None:
    notify_many = recorded(monkeypatch, "notify_many_task")
    with commit(), tasks.mail_muted():
        open_ticket(desk)
    assert notify_many == []
    assert OutboundMail.objects.count() == 0


def test_a_failing_event_is_retried_alone_and_the_others_still_go(
    desk: Personas, smtp: CountingSink, commit: Commit, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepare = notifications.notifications_prepare
    broken: set[int] = set()

    def flaky(event: str, *, ticket_id: int, **rest: Any) -> list[int]:
        if ticket_id in broken:
            broken.discard(ticket_id)  # fails once: the retry works
            raise RuntimeError("database hiccup")
        return prepare(event, ticket_id=ticket_id, **rest)

    monkeypatch.setattr(notifications, "notifications_prepare", flaky)
    notify_one = recorded(monkeypatch, "notify_task")
    with commit(), transaction.atomic():
        first = open_ticket(desk, "Printer jams")
        second = open_ticket(desk, "Scanner slow")
        third = open_ticket(desk, "Monitor flickers")
        broken.add(second.pk)
    assert notify_one == [(notifications.TICKET_CREATED, second.pk, desk.requester.pk, None, None)]
    acknowledged = list(OutboundMail.objects.order_by("id").values_list("ticket_id", flat=True))
    assert acknowledged == [first.pk, third.pk, second.pk]  # the retried one last
    assert len(smtp.messages) == 3


def test_jobs_queued_before_the_batches_still_run(desk: Personas, smtp: CountingSink) -> None:
    ticket = open_ticket(desk)
    tasks.notify_task(notifications.TICKET_CREATED, ticket.pk, desk.requester.pk)
    [got] = smtp.messages
    assert got.message["Subject"].startswith(f"[#{ticket.pk}] We have your request")


# --- One delivery job per batch ----------------------------------------------------------


def record_mail(ticket: Ticket, to_address: str) -> int:
    return outbound_record(
        kind=OutboundKind.AGENT_REPLY,
        ticket=ticket,
        to_address=to_address,
        to_name="Someone",
        subject="Hello",
        body_text="Plain words.\n",
        body_html="<p>Plain words.</p>",
    ).pk


@pytest.fixture
def ticket(desk: Personas) -> Ticket:
    return open_ticket(desk)


def addresses(count: int) -> Sequence[str]:
    return [f"person{number}@example.com" for number in range(count)]


def test_a_batch_goes_over_one_connection(ticket: Ticket, smtp: CountingSink) -> None:
    ids = [record_mail(ticket, address) for address in addresses(4)]
    tasks.deliver_many_task(ids)
    assert [got.rcpt_tos[0] for got in smtp.messages] == list(addresses(4))
    assert len(smtp.peers) == 4
    assert len(set(smtp.peers)) == 1
    rows = OutboundMail.objects.filter(pk__in=ids)
    assert {(row.state, row.attempts, row.last_error) for row in rows} == {
        (OutboundState.SENT, 1, "")
    }
    # Sent mail is never sent again.
    tasks.deliver_many_task(ids)
    assert len(smtp.messages) == 4


def test_a_temporary_failure_retries_only_that_mail(ticket: Ticket, smtp: CountingSink) -> None:
    first, busy, last = addresses(3)
    smtp.busy.add(busy)
    ids = [record_mail(ticket, address) for address in (first, busy, last)]
    before = scheduled_ids()
    tasks.deliver_many_task(ids)
    assert [got.rcpt_tos for got in smtp.messages] == [[first], [last]]
    rows = {row.to_address: row for row in OutboundMail.objects.filter(pk__in=ids)}
    assert rows[first].state == rows[last].state == OutboundState.SENT
    failed = rows[busy]
    assert (failed.state, failed.attempts) == (OutboundState.FAILED, 1)
    assert "451" in failed.last_error
    [retry] = [task for task in HUEY.scheduled() if task.id not in before]
    assert retry.name.endswith("deliver_task")
    assert retry.args == (failed.pk,)
    # The tries left, as far apart as a mail sent alone would get them.
    assert (retry.retries, retry.retry_delay) == (tasks.DELIVERY_RETRIES - 1, 120)
    # The retry sends it once the mailbox takes mail again.
    smtp.busy.clear()
    HUEY.storage.flush_schedule()
    retry.execute()
    failed.refresh_from_db()
    assert (failed.state, failed.attempts, failed.last_error) == (OutboundState.SENT, 2, "")


def test_a_permanent_failure_is_recorded_and_not_retried(
    ticket: Ticket, smtp: CountingSink
) -> None:
    smtp.refuse_recipients = True
    ids = [record_mail(ticket, address) for address in addresses(2)]
    before = scheduled_ids()
    tasks.deliver_many_task(ids)
    assert smtp.messages == []
    rows = OutboundMail.objects.filter(pk__in=ids)
    assert {row.state for row in rows} == {OutboundState.FAILED}
    assert all("550" in row.last_error for row in rows)
    assert scheduled_ids() == before


def test_an_unsafe_mail_does_not_stop_the_batch(ticket: Ticket, smtp: CountingSink) -> None:
    good, bad = addresses(2)
    ids = [record_mail(ticket, good), record_mail(ticket, bad)]
    OutboundMail.objects.filter(pk=ids[1]).update(to_name="Ada\r\nBcc: victim@example.com")
    before = scheduled_ids()
    tasks.deliver_many_task(ids)
    assert [got.rcpt_tos for got in smtp.messages] == [[good]]
    row = OutboundMail.objects.get(pk=ids[1])
    assert row.state == OutboundState.FAILED
    assert "line break" in row.last_error
    assert scheduled_ids() == before


def test_an_unreachable_server_fails_the_batch_for_a_retry_each(ticket: Ticket) -> None:
    ids = [record_mail(ticket, address) for address in addresses(3)]
    before = scheduled_ids()
    with smtp_settings(free_port()):
        tasks.deliver_many_task(ids)
    rows = OutboundMail.objects.filter(pk__in=ids)
    assert {(row.state, row.attempts) for row in rows} == {(OutboundState.FAILED, 1)}
    assert all(row.last_error for row in rows)
    retries = [task for task in HUEY.scheduled() if task.id not in before]
    assert sorted(task.args for task in retries) == [(pk,) for pk in sorted(ids)]
    HUEY.storage.flush_schedule()


def test_a_batch_that_cannot_start_sends_each_mail_alone(
    ticket: Ticket, smtp: CountingSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_connection(outbound_ids: Sequence[int]) -> list[int]:
        raise RuntimeError("EMAIL_BACKEND cannot be imported")

    monkeypatch.setattr(tasks, "outbound_deliver_many", no_connection)
    deliver_one = recorded(monkeypatch, "deliver_task")
    ids = [record_mail(ticket, address) for address in addresses(2)]
    tasks.deliver_many_task(ids)
    assert deliver_one == [(pk,) for pk in ids]
    assert len(smtp.messages) == 2
